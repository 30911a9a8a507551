//! Fuzz the whole chain: decode, every default stage, encode.
#![no_main]

use std::sync::OnceLock;

use copydesk::config::PipelineConfig;
use copydesk::pipeline::{Pipeline, Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static PIPELINE: OnceLock<Pipeline> = OnceLock::new();
    let pipeline = PIPELINE.get_or_init(|| Pipeline::new(&PipelineConfig::default()));
    match pipeline.process(data, None, &Source::default()) {
        Ok(out) => assert!(!out.payload.is_empty()),
        Err(failure) => assert!(!failure.class.is_empty()),
    }
});
