//! Counters exposed on `/metrics` in the Prometheus text format.
//!
//! Counters only count events; gauges that describe the store (threads by state, overdue
//! threads, outbox depth) are read from the store's indexes when scraped, so they cannot
//! drift. One histogram: how long a ticket waits in the outbox before a destination takes it.

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
    pub outbox_delivered: AtomicU64,
    pub outbox_failures: AtomicU64,
    pub outbox_dead: AtomicU64,
    /// Seconds from a job's creation to its delivery.
    pub delivery_latency: Histogram,
}

/// Upper bounds of the delivery-latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 3600.0,
];

/// A Prometheus histogram with fixed buckets, updated without locks.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    /// The sum in microseconds, so that it fits an integer atomic.
    sum_micros: AtomicU64,
}

impl Histogram {
    pub fn observe(&self, seconds: f64) {
        let seconds = seconds.max(0.0);
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            let n = self.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {n}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
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
        let counters: [(&str, &str, &AtomicU64); 13] = [
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
            (
                "guichet_outbox_delivered_total",
                "Tickets taken by a customer-service system.",
                &self.outbox_delivered,
            ),
            (
                "guichet_outbox_failures_total",
                "Failed delivery attempts (each retry counts).",
                &self.outbox_failures,
            ),
            (
                "guichet_outbox_dead_total",
                "Jobs the outbox gave up on.",
                &self.outbox_dead,
            ),
        ];
        for (name, help, counter) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                counter.load(Ordering::Relaxed)
            );
        }
        self.delivery_latency.render(
            &mut out,
            "guichet_outbox_delivery_seconds",
            "Time from a ticket's queueing to its delivery.",
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delivery_histogram_counts_each_observation_in_every_bucket_above_it() {
        let m = Metrics::default();
        m.delivery_latency.observe(0.2);
        m.delivery_latency.observe(40.0);
        let text = m.render(&[]);
        assert!(text.contains("guichet_outbox_delivery_seconds_bucket{le=\"0.1\"} 0"));
        assert!(text.contains("guichet_outbox_delivery_seconds_bucket{le=\"0.25\"} 1"));
        assert!(text.contains("guichet_outbox_delivery_seconds_bucket{le=\"60\"} 2"));
        assert!(text.contains("guichet_outbox_delivery_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(text.contains("guichet_outbox_delivery_seconds_count 2"));
        assert!(text.contains("guichet_outbox_delivery_seconds_sum 40.2"));
    }
}
