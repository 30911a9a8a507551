//! Decode + normalise throughput over the example stories (`examples/stories/*.txt|json`).
//!
//! Runs the real decoder and the normalise stages exactly as `pipeline::build_stages` chains
//! them (enrich stages and encode are left out). Reports stories/s (criterion "elements")
//! and MB/s for one core. Target: ≥ 20,000 stories/s per core on 3–5 KB stories.

use std::hint::black_box;
use std::path::Path;

use copydesk::config::PipelineConfig;
use copydesk::decode::Decoder;
use copydesk::normalise::{Layout, Lexicon, Repair, Unicode};
use copydesk::pipeline::Stage;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/stories");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("examples/stories exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt" || x == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read(p).expect("readable story"))
        .collect()
}

fn bench(c: &mut Criterion) {
    let stories = corpus();
    let bytes: usize = stories.iter().map(Vec::len).sum();
    let config = PipelineConfig::default();
    let decoder = Decoder::new(&config.decode);
    Lexicon::get();
    let stages: Vec<Box<dyn Stage>> = vec![
        Box::new(Unicode::new()),
        Box::new(Layout::new()),
        Box::new(Repair::new()),
    ];

    // One pass over the corpus: decode, then every stage; measured per story and per byte.
    let pass = || {
        for raw in &stories {
            let mut story = decoder.decode(black_box(raw), None).expect("decodes");
            for stage in &stages {
                story = stage.process(story).expect("stage ok");
            }
            black_box(story);
        }
    };
    let mut group = c.benchmark_group("decode_normalise");
    group.throughput(Throughput::Elements(stories.len() as u64));
    group.bench_function("stories", |b| b.iter(pass));
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("bytes", |b| b.iter(pass));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
