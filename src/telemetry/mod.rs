//! Logs and counters.
//!
//! Logs go to stderr (stdout carries only data), readable by default or one JSON object per
//! line. [`Counters`] are the run's record accounting: every consumed record ends as exactly
//! one event or one dead letter.

use std::sync::atomic::{AtomicU64, Ordering};

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Installs the global tracing subscriber. Safe to call more than once (later calls are
/// ignored), so tests and embedded uses do not fight over it.
pub fn init_logging(config: &LogConfig) {
    // The level was validated with the config; fall back to `info` if a caller skipped that.
    let filter = EnvFilter::try_new(&config.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _already_set = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// Monotonic counters of one daemon run, shared by every task.
#[derive(Debug, Default)]
pub struct Counters {
    /// Records read from the input topic.
    pub consumed: AtomicU64,
    /// Events acknowledged by the broker on the output topic.
    pub events: AtomicU64,
    /// Dead letters acknowledged by the broker on the DLQ topic.
    pub dead_letters: AtomicU64,
    /// Deliveries that failed (each one stops the daemon without storing its offset).
    pub failed_deliveries: AtomicU64,
    /// Partition rebalances seen (assign and revoke).
    pub rebalances: AtomicU64,
}

/// A point-in-time copy of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// Records read from the input topic.
    pub consumed: u64,
    /// Events acknowledged.
    pub events: u64,
    /// Dead letters acknowledged.
    pub dead_letters: u64,
    /// Failed deliveries.
    pub failed_deliveries: u64,
    /// Rebalances.
    pub rebalances: u64,
}

impl Counters {
    /// Adds one to a counter.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> CounterSnapshot {
        CounterSnapshot {
            consumed: self.consumed.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            dead_letters: self.dead_letters.load(Ordering::Relaxed),
            failed_deliveries: self.failed_deliveries.load(Ordering::Relaxed),
            rebalances: self.rebalances.load(Ordering::Relaxed),
        }
    }
}
