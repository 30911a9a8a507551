//! Decode + normalise throughput over the example stories (`examples/stories/*.txt|json`).
//!
//! Runs the real decoder and the normalise stages exactly as `pipeline::build_stages` chains
//! them (enrich stages and encode are left out). Reports stories/s (criterion "elements")
//! and MB/s for one core. Target: ≥ 20,000 stories/s per core on 3–5 KB stories.
//!
//! Three corpora: the bundled stories as they are (2.5–3.4 KB); the same stories grown to
//! 3–5 KB with paragraphs of the other stories (distinct paragraphs, so the repeated-
//! paragraph rule does not shrink them back) — the size the target names; and those grown
//! stories re-wrapped in turn as NITF, NewsML-G2 (inline NITF), ninjs 3, IPTC 7901 and
//! ANPA-1312, so the markup and framing decoders are measured at that size too.

use std::hint::black_box;
use std::path::Path;

use copydesk::config::PipelineConfig;
use copydesk::decode::Decoder;
use copydesk::normalise::{Layout, Lexicon, Repair, Unicode};
use copydesk::pipeline::Stage;
use copydesk::story::WireFormat;
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

/// Headline and body paragraphs of a (grown) plain or JSON story.
fn headline_and_paragraphs(raw: &[u8]) -> (String, Vec<String>) {
    let text = String::from_utf8_lossy(raw);
    let headline = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v["headline"].as_str().unwrap_or_default().to_string(),
        Err(_) => text.lines().next().unwrap_or_default().to_string(),
    };
    (headline, body_paragraphs(raw))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn nitf_body(headline: &str, paras: &[String]) -> String {
    let paras: String = paras
        .iter()
        .map(|p| format!("<p>{}</p>\n", xml_escape(p)))
        .collect();
    format!(
        "<body><body.head><hedline><hl1>{}</hl1></hedline><byline>By Ada Voss</byline>\
         </body.head><body.content>\n{paras}</body.content></body>",
        xml_escape(headline)
    )
}

/// The `i`-th grown story in one of five wire formats, in turn.
fn rewrapped(i: usize, raw: &[u8]) -> (WireFormat, Vec<u8>) {
    let (headline, paras) = headline_and_paragraphs(raw);
    match i % 5 {
        0 => (
            WireFormat::Nitf,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<nitf version=\"-//IPTC//DTD NITF 3.6//EN\">\
                 <head><title>{}</title><docdata management-status=\"usable\">\
                 <doc-id id-string=\"bench-{i}\"/><date.issue norm=\"20260311T081500Z\"/>\
                 </docdata></head>{}</nitf>",
                xml_escape(&headline),
                nitf_body(&headline, &paras)
            )
            .into_bytes(),
        ),
        1 => (
            WireFormat::NewsMl,
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<newsItem xmlns=\"http://iptc.org/std/nar/2006-10-01/\" \
                 guid=\"urn:bench:{i}\" version=\"1\" standard=\"NewsML-G2\" xml:lang=\"en\">\
                 <itemMeta><itemClass qcode=\"ninat:text\"/><versionCreated>2026-03-13T10:00:00Z</versionCreated>\
                 <pubStatus qcode=\"stat:usable\"/></itemMeta><contentMeta><headline>{}</headline></contentMeta>\
                 <contentSet><inlineXML contenttype=\"application/nitf+xml\"><nitf>{}</nitf></inlineXML>\
                 </contentSet></newsItem>",
                xml_escape(&headline),
                nitf_body(&headline, &paras)
            )
            .into_bytes(),
        ),
        2 => (
            WireFormat::Ninjs,
            serde_json::json!({
                "standard": {"name": "ninjs", "version": "3.1"},
                "uri": format!("urn:bench:{i}"),
                "type": "text",
                "versionCreated": "2026-05-01T07:30:00Z",
                "pubStatus": "usable",
                "headlines": [{"role": "main", "value": headline}],
                "bodies": [{"role": "main", "contentType": "text/plain", "value": paras.join("\n\n")}],
            })
            .to_string()
            .into_bytes(),
        ),
        3 => {
            // Paragraphs as indented lines, the way agency terminals print them.
            let body: String = paras.iter().map(|p| format!("   {p}\r\n")).collect();
            let text = format!(
                "\x01NWX{:04} 3 POL 0{:03}\r\nBench-Story\r\n\x02{headline}\r\nBy Ada Voss\r\n\
                 {body}\x03161230 MAR 26\r\n\x04",
                i % 10_000,
                body.split_whitespace().count() % 1_000
            );
            // IPTC 7901 wires send Latin-1 too.
            let bytes = text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect();
            (WireFormat::Iptc7901, bytes)
        }
        _ => {
            let body: String = paras.iter().map(|p| format!("\t{p}\r\n")).collect();
            let text = format!(
                "\x16\x16\x01a{:04} r a BC-Bench 03-15 0089\r\n\x02{headline}<\r\n^By Ada Voss=\r\n\
                 {body}\x03NW-NY-03-15-26 1523EST<\x04",
                i % 10_000
            );
            // ANPA-1312 is Latin-1 on the wire.
            let bytes = text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
                .collect();
            (WireFormat::Anpa, bytes)
        }
    }
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
    // The re-wrapped corpus must decode as the format it was written in.
    let (formats, wrapped): (Vec<WireFormat>, Vec<Vec<u8>>) = big
        .iter()
        .enumerate()
        .map(|(i, raw)| rewrapped(i, raw))
        .unzip();
    for ((format, raw), grown) in formats.iter().zip(&wrapped).zip(&big) {
        let story = decoder.decode(raw, None).expect("re-wrapped story decodes");
        assert_eq!(story.format, Some(*format));
        assert!(raw.len() >= grown.len() * 9 / 10, "{format:?} lost text");
    }
    let wrapped_bytes: usize = wrapped.iter().map(Vec::len).sum();
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
    group.throughput(Throughput::Elements(wrapped.len() as u64));
    group.bench_function("formats_3_5kb", |b| b.iter(|| pass_over(&wrapped)));
    group.throughput(Throughput::Bytes(wrapped_bytes as u64));
    group.bench_function("formats_bytes_3_5kb", |b| b.iter(|| pass_over(&wrapped)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
