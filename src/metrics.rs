//! Counters exposed on `/metrics` in the Prometheus text format.
//!
//! Counters only count events; gauges that describe the store (threads by state, overdue
//! threads) are read from the store's indexes when scraped, so they cannot drift.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::domain::Category;

/// A gauge read from the store at scrape time: one sample per label set.
#[derive(Debug, Clone)]
pub struct Gauge {
    pub name: &'static str,
    pub help: &'static str,
    /// Label set (`state="open"`, or empty) and value.
    pub samples: Vec<(String, u64)>,
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub received: [AtomicU64; 3],
    pub duplicates: AtomicU64,
    pub floods: AtomicU64,
    pub acknowledgments: AtomicU64,
    pub faq_answers: AtomicU64,
    pub forwarded: AtomicU64,
    pub agent_replies: AtomicU64,
    pub warnings: AtomicU64,
    pub blocked_messages: AtomicU64,
    pub rejected: AtomicU64,
    pub alerts: AtomicU64,
}

fn index(category: Category) -> usize {
    match category {
        Category::Urgent => 0,
        Category::Info => 1,
        Category::Complaint => 2,
    }
}

impl Metrics {
    pub fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn received(&self, category: Category) {
        Self::inc(&self.received[index(category)]);
    }

    /// Renders the counters, followed by the gauges the caller read from the store.
    pub fn render(&self, gauges: &[Gauge]) -> String {
        let mut out = String::with_capacity(2048);
        let _ = writeln!(
            out,
            "# HELP guichet_messages_received_total Citizens' messages stored, by category.\n\
             # TYPE guichet_messages_received_total counter"
        );
        for c in Category::ALL {
            let n = self.received[index(c)].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "guichet_messages_received_total{{category=\"{c}\"}} {n}"
            );
        }
        let counters: [(&str, &str, &AtomicU64); 10] = [
            (
                "guichet_duplicates_total",
                "Redelivered platform messages recognised and ignored.",
                &self.duplicates,
            ),
            (
                "guichet_floods_total",
                "Messages stored without a reply because the sender was flooding.",
                &self.floods,
            ),
            (
                "guichet_acknowledgments_total",
                "Automatic acknowledgments sent.",
                &self.acknowledgments,
            ),
            (
                "guichet_faq_answers_total",
                "Info requests answered from the FAQ.",
                &self.faq_answers,
            ),
            (
                "guichet_forwarded_total",
                "Threads forwarded to customer service.",
                &self.forwarded,
            ),
            (
                "guichet_agent_replies_total",
                "Agents' answers relayed to citizens.",
                &self.agent_replies,
            ),
            (
                "guichet_warnings_total",
                "Moderation warnings sent.",
                &self.warnings,
            ),
            (
                "guichet_blocked_messages_total",
                "Messages from blocked senders, stored without a reply.",
                &self.blocked_messages,
            ),
            (
                "guichet_rejected_total",
                "Requests refused as bad input.",
                &self.rejected,
            ),
            (
                "guichet_sla_alerts_total",
                "At-risk and overdue transitions recorded by the watcher.",
                &self.alerts,
            ),
        ];
        for (name, help, counter) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        for Gauge {
            name,
            help,
            samples,
        } in gauges
        {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (labels, value) in samples {
                if labels.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{labels}}} {value}");
                }
            }
        }
        out
    }
}
