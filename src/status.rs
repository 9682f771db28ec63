//! The state of each platform connection (`discord`: connecting, connected, disconnected),
//! shared between the adapter that keeps it and `/healthz`, which reports it. A platform that
//! is down does not make guichet unhealthy: the web inbox and the staff API still work.

use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Connections(Mutex<BTreeMap<&'static str, &'static str>>);

impl Connections {
    pub fn set(&self, channel: &'static str, state: &'static str) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(channel, state);
        }
    }

    /// Every platform's state, by channel name.
    pub fn snapshot(&self) -> BTreeMap<&'static str, &'static str> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}
