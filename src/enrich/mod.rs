//! Enrich stages: each file one enrichment, each a [`Stage`].
//!
//! [`build_stages`] is the one place that decides which stages run and in what order; adding
//! a stage is one file, one config switch and one line here.

mod text_stats;

pub use text_stats::TextStats;

use crate::config::PipelineConfig;
use crate::pipeline::Stage;

/// Builds the configured chain, in order.
pub fn build_stages(config: &PipelineConfig) -> Vec<Box<dyn Stage>> {
    let mut stages: Vec<Box<dyn Stage>> = Vec::new();
    if config.stages.text_stats {
        stages.push(Box::new(TextStats::new(config.words_per_minute)));
    }
    stages
}
