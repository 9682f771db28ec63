//! Adapters at the edge: they turn a platform's payloads into domain messages, call the
//! pipeline, and turn its answers into platform calls. They never import each other and
//! never touch the store.

pub mod desk;
pub mod discord;
pub mod http;
pub mod messenger;
pub mod web;
