//! `/metrics`, `/healthz` and `/readyz` over HTTP.
//!
//! - `/healthz`: 200 while the consume loop makes progress (it beats at least once a second
//!   even when idle); 503 when it has not for `http.stall_timeout_ms` or after a fatal error.
//! - `/readyz`: 200 once the consumer has partitions assigned and the producer reached the
//!   brokers; 503 with the reason otherwise.
//! - `/metrics`: Prometheus/OpenMetrics text.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio_util::sync::CancellationToken;

use super::Metrics;

/// Liveness and readiness signals, updated by the daemon's tasks.
#[derive(Debug)]
pub struct Health {
    started: Instant,
    last_beat_ms: AtomicU64,
    assigned: AtomicBool,
    producer_ready: AtomicBool,
    failed: AtomicBool,
    stall_timeout: Duration,
}

impl Health {
    /// A fresh state: alive, not ready.
    pub fn new(stall_timeout: Duration) -> Self {
        Self {
            started: Instant::now(),
            last_beat_ms: AtomicU64::new(0),
            assigned: AtomicBool::new(false),
            producer_ready: AtomicBool::new(false),
            failed: AtomicBool::new(false),
            stall_timeout,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The consume loop made progress.
    pub fn beat(&self) {
        self.last_beat_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Whether this instance currently owns any partition.
    pub fn set_assigned(&self, assigned: bool) {
        self.assigned.store(assigned, Ordering::Relaxed);
    }

    /// The producer reached the brokers.
    pub fn set_producer_ready(&self) {
        self.producer_ready.store(true, Ordering::Relaxed);
    }

    /// A fatal error happened: the process is about to stop.
    pub fn set_failed(&self) {
        self.failed.store(true, Ordering::Relaxed);
    }

    /// `Ok` when alive, else the reason.
    pub fn liveness(&self) -> Result<(), String> {
        if self.failed.load(Ordering::Relaxed) {
            return Err("fatal error: stopping".into());
        }
        let idle = self
            .now_ms()
            .saturating_sub(self.last_beat_ms.load(Ordering::Relaxed));
        let limit = u64::try_from(self.stall_timeout.as_millis()).unwrap_or(u64::MAX);
        if idle > limit {
            return Err(format!("consume loop stalled for {idle} ms"));
        }
        Ok(())
    }

    /// `Ok` when ready, else the reason.
    pub fn readiness(&self) -> Result<(), String> {
        self.liveness()?;
        if !self.producer_ready.load(Ordering::Relaxed) {
            return Err("producer has not reached the brokers".into());
        }
        if !self.assigned.load(Ordering::Relaxed) {
            return Err("no partitions assigned".into());
        }
        Ok(())
    }
}

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

fn status(result: Result<(), String>, ok: &'static str) -> (StatusCode, String) {
    match result {
        Ok(()) => (StatusCode::OK, format!("{ok}\n")),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, format!("{reason}\n")),
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    status(state.health.liveness(), "ok")
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    status(state.health.readiness(), "ready")
}

/// Serves until `stop` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics_state: Arc<Metrics>,
    health: Arc<Health>,
    stop: CancellationToken,
) -> std::io::Result<()> {
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(AppState {
            metrics: metrics_state,
            health,
        });
    axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_needs_producer_and_assignment() {
        let h = Health::new(Duration::from_secs(60));
        h.beat();
        assert!(h.liveness().is_ok());
        assert!(h.readiness().unwrap_err().contains("producer"));
        h.set_producer_ready();
        assert!(h.readiness().unwrap_err().contains("partitions"));
        h.set_assigned(true);
        assert!(h.readiness().is_ok());
        h.set_failed();
        assert!(h.liveness().is_err() && h.readiness().is_err());
    }

    #[test]
    fn stall_is_reported() {
        let h = Health::new(Duration::from_millis(0));
        std::thread::sleep(Duration::from_millis(5));
        assert!(h.liveness().unwrap_err().contains("stalled"));
    }
}
