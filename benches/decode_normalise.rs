//! Decode + normalise throughput over the example stories (`examples/stories/*.txt|json`).
//!
//! Runs the real decoder and the normalise stages exactly as `pipeline::build_stages` chains
//! them (enrich stages and encode are left out). Reports stories/s (criterion "elements")
//! and MB/s for one core. Target: ≥ 20,000 stories/s per core on 3–5 KB stories.
//!
//! Two corpora: the bundled stories as they are (2.5–3.4 KB), and the same stories grown to
//! 3–5 KB with paragraphs of the other stories (distinct paragraphs, so the repeated-
//! paragraph rule does not shrink them back) — the size the target names.

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

/// Paragraphs of a story's body: JSON `body` or the text after the headline line.
fn body_paragraphs(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(raw);
    let body = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v["body"].as_str().unwrap_or_default().to_string(),
        Err(_) => text.split_once('\n').map_or("", |(_, b)| b).to_string(),
    };
    body.split("\n\n")
        .map(str::trim)
        .filter(|p| p.len() > 80)
        .map(str::to_string)
        .collect()
}

/// Each story grown to a size between 3 and 5 KB by appending paragraphs of the others.
fn grown(stories: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let extra: Vec<(usize, String)> = stories
        .iter()
        .enumerate()
        .flat_map(|(i, s)| body_paragraphs(s).into_iter().map(move |p| (i, p)))
        .collect();
    stories
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let target = 3_000 + i * 2_000 / stories.len();
            let mut added = String::new();
            let mut next = i * 7;
            while raw.len() + added.len() < target {
                let (from, para) = &extra[next % extra.len()];
                next += 1;
                // The story's own paragraphs would be dropped as repeats.
                if *from != i {
                    added.push_str("\n\n");
                    added.push_str(para);
                }
            }
            let text = String::from_utf8_lossy(raw);
            match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(mut v) => {
                    let body = v["body"].as_str().unwrap_or_default().to_string();
                    v["body"] = format!("{body}{added}").into();
                    v.to_string().into_bytes()
                }
                Err(_) => format!("{}{added}", text.trim_end()).into_bytes(),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let stories = corpus();
    let bytes: usize = stories.iter().map(Vec::len).sum();
    let big = grown(&stories);
    let big_bytes: usize = big.iter().map(Vec::len).sum();
    let sizes: Vec<usize> = big.iter().map(Vec::len).collect();
    assert!(
        sizes.iter().all(|n| (3_000..6_000).contains(n)),
        "{sizes:?}"
    );
    let config = PipelineConfig::default();
    let decoder = Decoder::new(&config.decode);
    Lexicon::get();
    let stages: Vec<Box<dyn Stage>> = vec![
        Box::new(Unicode::new()),
        Box::new(Layout::new()),
        Box::new(Repair::new()),
    ];

    // One pass over the corpus: decode, then every stage; measured per story and per byte.
    let pass_over = |corpus: &[Vec<u8>]| {
        for raw in corpus {
            let mut story = decoder.decode(black_box(raw), None).expect("decodes");
            for stage in &stages {
                story = stage.process(story).expect("stage ok");
            }
            black_box(story);
        }
    };
    let mut group = c.benchmark_group("decode_normalise");
    group.throughput(Throughput::Elements(stories.len() as u64));
    group.bench_function("stories", |b| b.iter(|| pass_over(&stories)));
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("bytes", |b| b.iter(|| pass_over(&stories)));
    group.throughput(Throughput::Elements(big.len() as u64));
    group.bench_function("stories_3_5kb", |b| b.iter(|| pass_over(&big)));
    group.throughput(Throughput::Bytes(big_bytes as u64));
    group.bench_function("bytes_3_5kb", |b| b.iter(|| pass_over(&big)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
