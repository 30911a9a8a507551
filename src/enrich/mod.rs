//! Enrich stages: each file one enrichment, each a [`Stage`](crate::pipeline::Stage).
//! The chain order is decided in [`crate::pipeline::build_stages`].

mod byte_scan;
pub mod dates;
pub mod entities;
pub mod fingerprint;
pub mod keywords;
pub mod language;
pub mod quotes;
pub mod sentences;
pub mod summary;
mod text_stats;
pub mod topics;

pub use dates::Dates;
pub use entities::Entities;
pub use keywords::Keywords;
pub use language::Language;
pub use quotes::Quotes;
pub use sentences::Sentences;
pub use summary::Summary;
pub use text_stats::TextStats;
pub use topics::Topics;
