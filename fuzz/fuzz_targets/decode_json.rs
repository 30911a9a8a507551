//! Fuzz the json decoder: the content type forces the format, so every input reaches it.
#![no_main]

use copydesk::decode::{DecodeConfig, Decoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoder = Decoder::new(&DecodeConfig::default());
    if let Ok(story) = decoder.decode(data, Some("application/json")) {
        assert!(story.headline.is_some());
    }
});
