//! Enrich stages: each file one enrichment, each a [`Stage`](crate::pipeline::Stage).
//! The chain order is decided in [`crate::pipeline::build_stages`].

pub mod entities;
mod text_stats;

pub use entities::Entities;
pub use text_stats::TextStats;
