//! Logs, metrics and the health/metrics HTTP endpoint.
//!
//! Logs go to stderr (stdout carries only data), readable by default or one JSON object per
//! line. [`Metrics`] are the run's accounting: every consumed record ends as exactly one event
//! or one dead letter.

pub mod http;
mod metrics;

pub use metrics::{CounterSnapshot, Metrics};

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
