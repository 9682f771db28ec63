//! The pure domain core: messages, threads, categories, the business calendar, the SLA
//! clock and the outbox's forwarding jobs. Nothing here does I/O, reads a clock or the
//! environment.

pub mod calendar;
pub mod category;
pub mod digest;
pub mod export;
pub mod intake;
pub mod message;
pub mod outbox;
pub mod privacy;
pub mod report;
pub mod sender;
pub mod session;
pub mod sla;
pub mod staff;
pub mod text;
pub mod thread;

pub use category::{Category, Language};
