//! Local fakes of the outside services guichet talks to (Discord, Meta's Graph API, a mail
//! relay, an alerts webhook), each recording what it received and
//! able to fail on demand. Tests read their recordings, never their internals.

// A fake offers the whole surface of its service; no single test uses all of it.
#![allow(dead_code)]

pub mod discord;
pub mod graph;
pub mod hook;
pub mod smtp;
