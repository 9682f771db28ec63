//! # guichet
//!
//! A bot attached to a city's private-message inbox: it acknowledges every message,
//! classifies it (urgent, info, complaint), forwards what needs follow-up to customer service
//! and tracks each thread against its response-time target.
//!
//! # Layout
//!
//! - [`domain`] — the pure core: messages, threads and their state machine, categories, the
//!   business calendar, the SLA clock, what a message does to its thread (`intake`) and the
//!   outbox's jobs. No I/O; `now` is a parameter.
//! - [`classify`] — the bilingual classifier and moderation. Pure.
//! - [`responses`] — the citizen-facing templates (French and English) and the FAQ.
//! - [`store`] — the only module that knows sled: threads, messages, indexes, audit log.
//! - [`pipeline`] — loads, decides, commits, notifies: for a message and for staff actions.
//! - [`staff`] — the views of threads that agents and the coordinator read.
//! - [`desk`] — the web desk's sessions and the threads of a date range (report, export).
//! - [`watcher`] — the background task that records at-risk and overdue transitions.
//! - [`digest`] — the background task that queues the coordinator's daily digest.
//! - [`notices`] — what alerts and the digest say to staff by e-mail and webhook.
//! - [`retention`] — the daily purge that anonymises resolved threads past retention.
//! - [`outbox`] — the background task that delivers every job (tickets, replies, posts,
//!   alerts), with retries.
//! - [`forwarders`] — the senders of jobs: webhook, Open311, the web channel's callback, and
//!   the couriers the platforms' adapters register.
//! - [`adapters`] — the edges: HTTP inbox and staff API, the web channel's identities,
//!   Discord (serenity gateway, REST deliveries), Messenger (Meta's webhook and Send API),
//!   the web desk's pages.
//! - [`status`] — the platform connections' state, for `/healthz`.
//! - [`config`] — layered settings, validated at start-up.
//! - [`server`] — assembles the above and serves; shared by `main` and the tests.
//! - [`address_file`] — where a running `serve` records its address for the staff commands.
//! - [`cli`] — the `guichet` command line.

pub mod adapters;
pub mod address_file;
pub mod classify;
pub mod cli;
pub mod config;
pub mod desk;
pub mod digest;
pub mod domain;
pub mod forwarders;
pub mod metrics;
pub mod notices;
pub mod outbox;
pub mod pipeline;
pub mod responses;
pub mod retention;
pub mod server;
pub mod staff;
pub mod status;
pub mod store;
pub mod watcher;

#[cfg(test)]
mod testing;
