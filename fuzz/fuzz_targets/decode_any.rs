//! Fuzz format detection plus whichever decoder it picks.
#![no_main]

use copydesk::decode::{DecodeConfig, Decoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let decoder = Decoder::new(&DecodeConfig::default());
    let _ = copydesk::decode::detect(data);
    if let Ok(story) = decoder.decode(data, None) {
        assert!(story.format.is_some());
    }
});
