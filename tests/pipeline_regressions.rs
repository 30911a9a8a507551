//! One test per bug found by fuzzing the whole chain (`fuzz/fuzz_targets/pipeline_process.rs`):
//! the input that crashed, run through the default pipeline, must end as an event or a dead
//! letter.

use copydesk::config::PipelineConfig;
use copydesk::pipeline::{Pipeline, Source};

fn answers(input: &[u8]) {
    let pipeline = Pipeline::new(&PipelineConfig::default());
    match pipeline.process(input, None, &Source::default()) {
        Ok(out) => assert!(!out.payload.is_empty()),
        Err(failure) => assert!(!failure.class.is_empty()),
    }
}

/// An IPTC 7901 story whose headline ends with the first word of a name the body repeats,
/// while the body starts with its second word: name propagation matched the two words across
/// the headline/body boundary and sliced the headline with a body offset (panic).
#[test]
fn regression_name_matched_across_headline_and_body() {
    answers(include_bytes!(
        "fixtures/regressions/name-across-headline-and-body.bin"
    ));
}
