//! Enrich throughput over the GUM news dev stories (`../shared/data/gum-dev/*.txt`).
//!
//! Every measurement is reported as stories/s (criterion "elements") for one core:
//! `entities` runs the entity stage alone (tokenize, features, tagger, post-processing,
//! place resolution; `entities_cpu` the same timed by thread CPU time, `entities_cold` with
//! the tagger's word-score cache emptied before every story, and the number of entities
//! found is checked against the committed model's); `language`, `sentences`, `quotes` (given the sentences and entities)
//! and `dates` (headline and body), `topics`, `keywords` (given the entities) and `summary`
//! (on stories split into paragraphs; each also as `<name>_cpu`, by thread CPU time) each
//! run one stage's work alone; `enrich_chain` runs every enrich stage, in the configured
//! order, on stories decoded and normalised beforehand (issue #4's bar); `pipeline` runs the whole
//! chain `copydesk eval` runs (decode, normalise, every enrich stage, encode). Each checks
//! that the output is not empty before timing. Allocation goes through jemalloc, as in the
//! binary.

use std::hint::black_box;

/// The binary's allocator (src/main.rs), so the rates are the daemon's.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
use std::path::Path;

use copydesk::config::PipelineConfig;
use copydesk::decode::Decoder;
use copydesk::enrich::sentences::split_sentences;
use copydesk::enrich::{dates, entities, quotes, Keywords, Language, Summary, Topics};
use copydesk::pipeline::{build_stages, Pipeline, Source, Stage};
use copydesk::story::{Block, Story};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn corpus() -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/gum-dev");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("../shared/data/gum-dev exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("readable story"))
        .collect()
}

/// CPU time of the calling thread (`/proc/thread-self/schedstat`), where the kernel tells it.
fn thread_cpu() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}

fn bench(c: &mut Criterion) {
    let stories = corpus();
    assert!(!stories.is_empty(), "no dev stories");
    let split: Vec<(&str, &str)> = stories
        .iter()
        .map(|s| s.split_once('\n').unwrap_or(("", s.as_str())))
        .collect();
    let found: usize = split
        .iter()
        .map(|(h, b)| entities::extract(Some(h), b).0.len())
        .sum();
    // what the committed model finds on these stories (retraining changes it: update;
    // 282 since tokens that cannot begin a name are no longer scored: "Sweden 1" went)
    const DEV_ENTITIES: usize = 282;
    assert_eq!(
        found, DEV_ENTITIES,
        "entities found on the dev stories (data/ner/model.bin retrained? update DEV_ENTITIES)"
    );

    let config = PipelineConfig::default();
    let pipeline = Pipeline::new(&config);
    let source = Source::default();
    for s in &stories {
        let out = pipeline
            .process(s.as_bytes(), Some("text/plain"), &source)
            .expect("pipeline ok");
        assert!(!out.payload.is_empty(), "empty event");
    }

    let mut group = c.benchmark_group("enrich");
    group.throughput(Throughput::Elements(stories.len() as u64));
    group.bench_function("entities", |b| {
        b.iter(|| {
            for (h, body) in &split {
                black_box(entities::extract(Some(black_box(h)), black_box(body)));
            }
        })
    });
    // the same with the tagger's word-score cache emptied before every story: a worker
    // that has seen no story before (the loop above repeats the same 12 stories, so after
    // the first pass every word is cached)
    group.bench_function("entities_cold", |b| {
        b.iter(|| {
            for (h, body) in &split {
                entities::forget_word_scores();
                black_box(entities::extract(Some(black_box(h)), black_box(body)));
            }
        })
    });
    // the same, timed by the thread's CPU time (Linux): steadier than wall time when other
    // processes share the cores
    if thread_cpu().is_some() {
        group.bench_function("entities_cpu", |b| {
            b.iter_custom(|iters| {
                let start = thread_cpu().unwrap_or_default();
                for _ in 0..iters {
                    for (h, body) in &split {
                        black_box(entities::extract(Some(black_box(h)), black_box(body)));
                    }
                }
                thread_cpu().unwrap_or_default().saturating_sub(start)
            })
        });
    }
    // the stages of issue #4, each alone on the same stories
    let language = Language::new();
    assert!(
        split
            .iter()
            .any(|(h, b)| language.detect(Some(h), b).is_some()),
        "no language detected"
    );
    group.bench_function("language", |b| {
        b.iter(|| {
            for (h, body) in &split {
                black_box(language.detect(Some(black_box(h)), black_box(body)));
            }
        })
    });
    group.bench_function("sentences", |b| {
        b.iter(|| {
            for (_, body) in &split {
                black_box(split_sentences(black_box(body)));
            }
        })
    });
    // quotes get the sentences and entities the earlier stages computed
    let prepared: Vec<_> = split
        .iter()
        .map(|(h, body)| {
            (
                *body,
                split_sentences(body),
                entities::extract(Some(h), body).0,
            )
        })
        .collect();
    let quoted: usize = prepared
        .iter()
        .map(|(body, s, e)| quotes::extract(body, s, e).len())
        .sum();
    assert!(quoted > 0, "no quotes found");
    group.bench_function("quotes", |b| {
        b.iter(|| {
            for (body, sentences, found) in &prepared {
                black_box(quotes::extract(black_box(body), sentences, found));
            }
        })
    });
    let reference = chrono::NaiveDate::from_ymd_opt(2022, 8, 16);
    let dated: usize = split
        .iter()
        .map(|(_, body)| dates::extract(body, reference, false).len())
        .sum();
    assert!(dated > 0, "no dates found");
    group.bench_function("dates", |b| {
        b.iter(|| {
            for (h, body) in &split {
                black_box(dates::extract(black_box(h), reference, true));
                black_box(dates::extract(black_box(body), reference, false));
            }
        })
    });
    // topics, keywords and summary read a Story: headline, paragraphs, entities
    let prepared_stories: Vec<Story> = split
        .iter()
        .map(|(h, body)| {
            let mut story = Story {
                headline: Some(h.to_string()),
                body: body
                    .split("\n\n")
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(Block::paragraph)
                    .collect(),
                ..Story::default()
            };
            story.enrichment.entities = entities::extract(Some(h), body).0;
            story
        })
        .collect();
    let topics = Topics::default();
    let keywords = Keywords::default();
    let summary = Summary::default();
    assert!(
        prepared_stories
            .iter()
            .all(|s| !topics.classify(s).is_empty()
                && !keywords.extract(s).is_empty()
                && summary.summarise(s).is_some()),
        "a story without topics, keywords or summary"
    );
    // each timed by wall time, and by the thread's CPU time where Linux tells it; the
    // kernel updates that clock at scheduler ticks (a few ms), so every CPU-timed
    // iteration runs the stories `repeat` times and reports the time of one pass
    let cpu = thread_cpu().is_some();
    let mut run = |name: &str, repeat: u32, work: &dyn Fn(&Story)| {
        group.bench_function(name, |b| {
            b.iter(|| prepared_stories.iter().for_each(|s| work(black_box(s))))
        });
        if cpu {
            group.bench_function(format!("{name}_cpu"), |b| {
                b.iter_custom(|iters| {
                    let start = thread_cpu().unwrap_or_default();
                    for _ in 0..iters * u64::from(repeat) {
                        prepared_stories.iter().for_each(|s| work(black_box(s)));
                    }
                    let spent = thread_cpu().unwrap_or_default().saturating_sub(start);
                    (spent / repeat).max(std::time::Duration::from_nanos(1))
                })
            });
        }
    };
    run("topics", 8, &|s| {
        black_box(topics.classify(s));
    });
    run("keywords", 4, &|s| {
        black_box(keywords.extract(s));
    });
    run("summary", 32, &|s| {
        black_box(summary.summarise(s));
    });
    // the enrich chain alone (issue #4's bar): every enrich stage, on stories decoded and
    // normalised beforehand; each iteration starts from a copy of the normalised story
    let enrich_config = {
        let mut config = PipelineConfig::default();
        config.stages.normalise_unicode = false;
        config.stages.normalise_layout = false;
        config.stages.normalise_repair = false;
        config
    };
    let enrich_stages = build_stages(&enrich_config);
    let normalise_stages: Vec<Box<dyn Stage>> = build_stages(&config)
        .into_iter()
        .filter(|s| s.name().starts_with("normalise"))
        .collect();
    assert_eq!(normalise_stages.len(), 3, "three normalise stages");
    assert!(
        enrich_stages
            .iter()
            .all(|s| !s.name().starts_with("normalise"))
            && enrich_stages.len() >= 10,
        "enrich stages: {:?}",
        enrich_stages.iter().map(|s| s.name()).collect::<Vec<_>>()
    );
    let decoder = Decoder::new(&config.decode);
    let normalised: Vec<Story> = stories
        .iter()
        .map(|s| {
            let mut story = decoder
                .decode(s.as_bytes(), Some("text/plain"))
                .expect("decodes");
            for stage in &normalise_stages {
                story = stage.process(story).expect("normalises");
            }
            story
        })
        .collect();
    let enrich = |story: &Story| {
        let mut story = story.clone();
        for stage in &enrich_stages {
            story = stage.process(story).expect("stage ok");
        }
        story
    };
    for story in &normalised {
        let out = enrich(story);
        assert!(!out.enrichment.entities.is_empty(), "no entities");
        assert!(out.enrichment.fingerprint.is_some(), "no fingerprint");
    }
    group.bench_function("enrich_chain", |b| {
        b.iter(|| {
            for story in &normalised {
                black_box(enrich(black_box(story)));
            }
        })
    });
    group.bench_function("pipeline", |b| {
        b.iter(|| {
            for s in &stories {
                let out = pipeline
                    .process(black_box(s.as_bytes()), Some("text/plain"), &source)
                    .expect("pipeline ok");
                black_box(out);
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
