//! Property tests for the text enrichments (sentences, quotes, dates, language): whatever the
//! text, they never panic, and every span they return is ordered, inside the text and on
//! char boundaries. Generators mix news-like pieces (abbreviations, quotation marks of every
//! kind, date words, speech verbs, paragraph breaks) with arbitrary Unicode.

use chrono::NaiveDate;
use copydesk::enrich::quotes;
use copydesk::enrich::sentences::split_sentences;
use copydesk::enrich::{dates, Language};
use copydesk::story::{Entity, EntityKind, Mention};
use proptest::prelude::*;

fn news_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("Mr. ".to_string()),
        Just("U.S. ".to_string()),
        Just("J. R. R. ".to_string()),
        Just("$1.2bn. ".to_string()),
        Just("KYIV, Aug 16 (Reuters) - ".to_string()),
        Just("“".to_string()),
        Just("”".to_string()),
        Just("\"".to_string()),
        Just("«".to_string()),
        Just("»".to_string()),
        Just("…".to_string()),
        Just("...".to_string()),
        Just(". ".to_string()),
        Just("? ".to_string()),
        Just(",” he said. ".to_string()),
        Just("Putin said that ".to_string()),
        Just("according to KCNA, ".to_string()),
        Just(", the minister said.".to_string()),
        Just("\n\n".to_string()),
        Just("\n".to_string()),
        Just("15 August 2022 ".to_string()),
        Just("last July ".to_string()),
        Just("in February ".to_string()),
        Just("since the early 2000s ".to_string()),
        Just("century after century ".to_string()),
        Just("on Tuesday ".to_string()),
        Just("mid-2023 ".to_string()),
        Just("the '90s ".to_string()),
        Just("three years ago ".to_string()),
        Just("2022-08-15T10:00Z ".to_string()),
        Just("29 February ".to_string()),
        Just("31 June 2022 ".to_string()),
        Just("the 99th century ".to_string()),
        "[A-Za-z ,.;:'\"-]{0,12}",
        "\\PC{0,6}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn check_spans(text: &str, spans: impl IntoIterator<Item = (usize, usize)>) {
    for (s, e) in spans {
        assert!(
            s <= e && e <= text.len(),
            "span {s}..{e} out of {}",
            text.len()
        );
        assert!(
            text.is_char_boundary(s) && text.is_char_boundary(e),
            "{s}..{e}"
        );
    }
}

/// Fake entities with mentions on char boundaries, so speaker resolution is exercised.
fn entities(text: &str) -> Vec<Entity> {
    let mentions: Vec<Mention> = text
        .match_indices("Putin")
        .chain(text.match_indices("KCNA"))
        .map(|(i, m)| Mention {
            start: i,
            end: i + m.len(),
        })
        .collect();
    vec![Entity {
        kind: EntityKind::Person,
        name: "Vladimir Putin".into(),
        mention_count: mentions.len(),
        mentions,
        in_headline: false,
        named: true,
        relevance: 50,
        confidence: 50,
        roles: vec!["President".into()],
        affiliation: None,
        geonames_id: None,
    }]
}

fn run_all(text: &str) {
    let sentences = split_sentences(text);
    check_spans(text, sentences.iter().copied());
    for pair in sentences.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlapping sentences {pair:?}");
    }
    let found = quotes::extract(text, &sentences, &entities(text));
    check_spans(text, found.iter().map(|q| (q.start, q.end)));
    check_spans(
        text,
        found
            .iter()
            .filter_map(|q| q.speaker_span.map(|s| (s.start, s.end))),
    );
    for reference in [NaiveDate::from_ymd_opt(2022, 8, 16), None] {
        let found = dates::extract(text, reference, false);
        check_spans(text, found.iter().map(|d| (d.start, d.end)));
        for d in &found {
            assert_eq!(&text[d.start..d.end], d.text);
        }
    }
    let _ = Language::new().detect(None, text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn news_like_text_never_panics(text in news_like()) {
        run_all(&text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        run_all(&text);
    }
}

#[test]
fn extreme_reference_dates_do_not_panic() {
    let text = "last July, yesterday, next week, three years ago, the '90s, on Tuesday, 12 decades ago, 999 years ago";
    for reference in [NaiveDate::MIN, NaiveDate::MAX] {
        let _ = dates::extract(text, Some(reference), false);
    }
}
