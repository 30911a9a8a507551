//! Events validate against IPTC's ninjs 3.1 schema and the project's own event schema; the
//! IPTC test suite proves the validator is wired correctly.

mod common;

use copydesk::config::Config;
use copydesk::pipeline::{Pipeline, Source};
use serde_json::Value;

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

fn suite(kind: &str) -> Vec<(String, Value)> {
    let dir = format!(
        "{}/../shared/data/ninjs/test_suite_3.0/{kind}",
        env!("CARGO_MANIFEST_DIR")
    );
    files(&dir)
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            (
                p.display().to_string(),
                serde_json::from_str(&text).expect("JSON"),
            )
        })
        .collect()
}

#[test]
fn iptc_suite_should_pass_passes() {
    let cases = suite("should_pass");
    assert!(cases.len() >= 10, "suite found: {}", cases.len());
    for (name, doc) in cases {
        let errors: Vec<String> = common::schema::ninjs()
            .iter_errors(&doc)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn iptc_suite_should_fail_fails() {
    let cases = suite("should_fail");
    assert!(cases.len() >= 8, "suite found: {}", cases.len());
    for (name, doc) in cases {
        assert!(
            !common::schema::ninjs().is_valid(&doc),
            "{name} should be rejected"
        );
    }
}

#[test]
fn every_bundled_story_yields_a_valid_event() {
    let pipeline = Pipeline::from_config(&Config::default(), None);
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/stories");
    let mut checked = 0;
    let mut statuses = Vec::new();
    for path in files(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e != "md"))
    {
        let source = Source {
            topic: "stories.raw".into(),
            partition: 0,
            offset: checked,
            timestamp: Some(chrono::Utc::now()),
        };
        let bytes = std::fs::read(&path).expect("read");
        let processed = pipeline
            .process(&bytes, None, &source)
            .unwrap_or_else(|f| panic!("{}: {f:?}", path.display()));
        let event: Value = serde_json::from_slice(&processed.payload).expect("JSON");
        common::schema::assert_valid_event(&event);
        statuses.push(event["enrichment"]["identity"]["status"].clone());
        checked += 1;
    }
    assert_eq!(checked, 10);
    // The bundled set holds two versions of one story (jakarta-rail-v1/v2).
    assert!(statuses.contains(&Value::from("version")), "{statuses:?}");
}

#[test]
fn schema_rejects_extras_in_ninjs_and_wrong_types() {
    let pipeline = Pipeline::from_config(&Config::default(), None);
    let processed = pipeline
        .process(b"Headline\n\nBody text.", None, &Source::default())
        .expect("processed");
    let good: Value = serde_json::from_slice(&processed.payload).expect("JSON");
    common::schema::assert_valid_event(&good);
    let mut extra = good.clone();
    extra["ninjs"]["copydesk_extra"] = Value::from(1);
    assert!(!common::schema::ninjs().is_valid(&extra["ninjs"]));
    assert!(!common::schema::event().is_valid(&extra));
    let mut wrong = good;
    wrong["source"]["offset"] = Value::from("seven");
    assert!(!common::schema::event().is_valid(&wrong));
}
