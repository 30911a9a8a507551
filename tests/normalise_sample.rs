//! Golden test: the real wire sample (`../shared/data/stories/wire-sample-mt-noisy.txt`)
//! through the real `Pipeline` with the default configuration; checks the event.

use copydesk::config::PipelineConfig;
use copydesk::pipeline::{Pipeline, Source};
use serde_json::Value;

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../shared/data/stories/wire-sample-mt-noisy.txt"
);

fn event() -> Value {
    let raw = std::fs::read(SAMPLE).expect("the shared wire sample is readable");
    let pipeline = Pipeline::new(&PipelineConfig::default());
    let processed = pipeline
        .process(&raw, None, &Source::default())
        .expect("the sample processes");
    serde_json::from_slice(&processed.payload).expect("event is JSON")
}

fn body(ev: &Value) -> &str {
    ev["ninjs"]["bodies"][0]["value"].as_str().expect("body")
}

fn changes<'a>(ev: &'a Value, kind: &str) -> Vec<(&'a str, &'a str, usize)> {
    ev["enrichment"]["normalisation"]
        .as_array()
        .expect("normalisation array")
        .iter()
        .filter(|n| n["kind"] == kind)
        .map(|n| {
            (
                n["from"].as_str().expect("from"),
                n["to"].as_str().expect("to"),
                usize::try_from(n["at"].as_u64().expect("at")).expect("fits"),
            )
        })
        .collect()
}

fn issues<'a>(ev: &'a Value, kind: &str) -> Vec<(&'a str, usize)> {
    ev["enrichment"]["quality"]["issues"]
        .as_array()
        .expect("issues array")
        .iter()
        .filter(|i| i["kind"] == kind)
        .map(|i| {
            (
                i["text"].as_str().expect("text"),
                usize::try_from(i["at"].as_u64().expect("at")).expect("fits"),
            )
        })
        .collect()
}

#[test]
fn header_lines_become_fields_not_headline_or_body() {
    let ev = event();
    let ninjs = &ev["ninjs"];
    // The first line is a metadata line, not a headline; the sample has no real headline
    // (its first paragraph is a full sentence), so none is invented.
    assert!(ninjs.get("headlines").is_none(), "{}", ninjs["headlines"]);
    assert_eq!(ninjs["firstCreated"], "2022-08-15T00:00:00Z");
    assert_eq!(ninjs["versionCreated"], "2022-08-16T00:00:00Z");
    assert_eq!(ninjs["edNote"], "status: Drafting");
    // No dateline or byline in this sample: none is made up.
    assert!(ninjs.get("by").is_none());
    assert!(ninjs.get("located").is_none());
    assert!(ev["enrichment"]["dateline"].is_null());
    let body = body(&ev);
    assert!(body.starts_with("Russia promised to “expand"), "{body}");
    for gone in ["date 2022-08-16", "15 August 2022", "Drafting"] {
        assert!(!body.contains(gone), "{gone} left in body");
    }
}

#[test]
fn caption_and_credit_go_to_the_association() {
    let ev = event();
    let assoc = &ev["ninjs"]["associations"];
    assert_eq!(assoc.as_array().map(Vec::len), Some(1), "{assoc}");
    assert_eq!(assoc[0]["type"], "picture");
    assert_eq!(assoc[0]["name"], "image1");
    assert_eq!(assoc[0]["copyrightHolder"], "Getty Images");
    assert_eq!(
        assoc[0]["descriptions"][0]["value"],
        "North Korean leader Kim Jong-un (left) meeting with Russian President Vladimir \
         Putin in Vladivostok, Russia, in 2019."
    );
    let body = body(&ev);
    assert!(!body.contains("image source"));
    assert!(!body.contains("Getty"));
    assert!(!body.contains("Vladivostok"));
}

#[test]
fn quoted_crosshead_is_marked() {
    let ev = event();
    let blocks = ev["enrichment"]["body_blocks"].as_array().expect("blocks");
    let crossheads: Vec<&str> = blocks
        .iter()
        .filter(|b| b["kind"] == "crosshead")
        .map(|b| b["text"].as_str().expect("text"))
        .collect();
    assert_eq!(crossheads, vec!["“Threat threats from hostile forces”"]);
}

#[test]
fn the_five_glitches_are_handled() {
    let ev = event();
    let body = body(&ev);

    // Three run-together words split and logged, with offsets into the final body.
    let splits = changes(&ev, "split_run_together");
    let pairs: Vec<(&str, &str)> = splits.iter().map(|(f, t, _)| (*f, *t)).collect();
    assert_eq!(
        pairs,
        vec![
            ("andraised", "and raised"),
            ("ANDseparate", "and separate"),
            ("Luhansktwo", "Luhansk two"),
        ]
    );
    for (_, to, at) in &splits {
        assert_eq!(&body[*at..*at + to.len()], *to);
    }
    assert!(body.contains("more and raised, in the common front"));
    assert!(body.contains("recognized as and separate states to Donetsk and Luhansk two areas"));
    for glued in ["andraised", "ANDseparate", "Luhansktwo"] {
        assert!(!body.contains(glued));
    }

    // The doubled word is flagged, not rewritten (it is inside quotes, too).
    assert_eq!(
        issues(&ev, "doubled_word")
            .iter()
            .map(|i| i.0)
            .collect::<Vec<_>>(),
        vec!["Threat threats"]
    );
    assert!(body.contains("“Threat threats from hostile forces”"));

    // The garble is flagged and the quote left alone.
    let garbles = issues(&ev, "likely_garble");
    assert_eq!(
        garbles.iter().map(|i| i.0).collect::<Vec<_>>(),
        vec!["cortine of hiron"]
    );
    assert!(body.contains("the “cortine of hiron“ and"));
    for (text, at) in issues(&ev, "doubled_word").into_iter().chain(garbles) {
        assert_eq!(&body[at..at + text.len()], text);
    }

    let score = ev["enrichment"]["quality"]["score"]
        .as_f64()
        .expect("score");
    assert!((0.3..0.95).contains(&score), "score {score}");
}

#[test]
fn nothing_else_is_flagged_or_changed() {
    let ev = event();
    let all_issues = ev["enrichment"]["quality"]["issues"]
        .as_array()
        .expect("issues");
    assert_eq!(all_issues.len(), 2, "{all_issues:#?}");
    let kinds: Vec<&str> = ev["enrichment"]["normalisation"]
        .as_array()
        .expect("normalisation")
        .iter()
        .map(|n| n["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(
        kinds,
        vec![
            "headline:not_a_headline",
            "lift_metadata",
            "lift_date",
            "lift_media",
            "mark_crosshead",
            "split_run_together",
            "split_run_together",
            "split_run_together",
        ]
    );
}
