//! The app as a whole: started on port 0 with a temporary store, driven over HTTP, and as the
//! real binary for what only a process can show (a `kill -9`, the command line).

mod alerts;
mod binary;
mod browser;
mod classifier;
mod command_line;
mod desk;
mod digest;
mod discord;
mod discord_courier;
mod discord_fake;
mod disk;
mod fakes;
mod hardening;
mod helpers;
mod inbox;
mod messenger;
mod moderation;
mod open311;
mod outbox;
mod privacy;
mod rejections;
mod report;
mod staff;
