//! Entities: people, organisations and places named in the headline and body, with every
//! mention's byte offsets, merged mentions, roles, demonyms resolved to countries, relevance
//! and confidence, and places resolved to GeoNames entries.
//!
//! How: [`tokenize`] splits the text, [`features`] builds hashed features (words, shapes,
//! affixes, context, gazetteer and word-list flags from [`gazetteer`], document statistics),
//! the averaged perceptron in [`perceptron`] (trained by `src/bin/train-ner.rs`, embedded
//! from `data/ner/model.bin`) tags BIO spans, and [`postprocess`] turns spans into entities.
//! The model and gazetteer are built once per process and shared read-only.

pub mod eval;
pub mod features;
pub mod gazetteer;
pub mod perceptron;
mod postprocess;
pub mod tokenize;

use std::sync::OnceLock;

use crate::pipeline::{Stage, StageError};
use crate::story::{Entity, PlaceRef, Story};

use gazetteer::Gazetteer;
use perceptron::Model;

const MODEL_BIN: &[u8] = include_bytes!("../../../data/ner/model.bin");

/// The shared, read-only tables: gazetteer and tagger model.
#[derive(Debug)]
pub struct Resources {
    /// Places, demonyms, word lists.
    pub gazetteer: Gazetteer,
    /// The tagger.
    pub model: Model,
}

static RESOURCES: OnceLock<Resources> = OnceLock::new();

/// The process-wide tables, built on first use.
pub fn resources() -> &'static Resources {
    RESOURCES.get_or_init(|| Resources {
        gazetteer: Gazetteer::load(),
        // The embedded model is produced by train-ner and checked by a unit test; a corrupt
        // file degrades to an empty model (no entities) rather than a panic.
        model: Model::from_bytes(MODEL_BIN).unwrap_or_else(|err| {
            tracing::error!(%err, "embedded NER model unreadable; entity tagging disabled");
            Model::default()
        }),
    })
}

/// Finds the entities and resolved places of a story's headline and body text.
pub fn extract(headline: Option<&str>, body: &str) -> (Vec<Entity>, Vec<PlaceRef>) {
    postprocess::extract(resources(), headline, body)
}

/// Empties the calling thread's cache of word scores ([`perceptron::WordScores`]), so that
/// the next story is tagged as by a worker that has seen no story before (for measuring
/// that case; results never depend on the cache).
pub fn forget_word_scores() {
    postprocess::forget_word_scores();
}

/// The entities stage.
#[derive(Debug, Clone, Copy)]
pub struct Entities {
    res: &'static Resources,
}

impl Entities {
    /// Builds the stage (loading the shared tables if this is the first use).
    pub fn new() -> Self {
        Self { res: resources() }
    }
}

impl Default for Entities {
    fn default() -> Self {
        Self::new()
    }
}

impl Stage for Entities {
    fn name(&self) -> &'static str {
        "entities"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        let body = story.body_text();
        let (entities, places) = postprocess::extract(self.res, story.headline.as_deref(), &body);
        story.enrichment.entities = entities;
        story.enrichment.places = places;
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::{Block, EntityKind};

    /// The sample wire story with the run-together word the normalise stage splits.
    fn sample() -> (String, String) {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/data/stories/wire-sample-mt-noisy.txt"
        );
        let text = std::fs::read_to_string(path)
            .expect("sample story")
            .replace("Luhansktwo", "Luhansk two");
        let (head, body) = text.split_once('\n').expect("headline line");
        (head.to_string(), body.trim().to_string())
    }

    fn find<'a>(entities: &'a [Entity], name: &str) -> Option<&'a Entity> {
        entities
            .iter()
            .find(|e| e.name == name || e.name.starts_with(name))
    }

    #[test]
    fn model_is_embedded_and_readable() {
        let model = Model::from_bytes(MODEL_BIN).expect("embedded model");
        assert!(model.len() > 10_000);
    }

    #[test]
    fn sample_story_entities() {
        let (head, body) = sample();
        let (entities, places) = extract(Some(&head), &body);
        for (name, kind) in [
            ("Vladimir Putin", EntityKind::Person),
            ("Kim Jong-un", EntityKind::Person),
            ("Russia", EntityKind::Place),
            ("North Korea", EntityKind::Place),
            ("Vladivostok", EntityKind::Place),
            ("Pyongyang", EntityKind::Place),
            ("Japan", EntityKind::Place),
            ("Ukraine", EntityKind::Place),
            ("Donetsk", EntityKind::Place),
            ("Luhansk", EntityKind::Place),
            ("Donbas", EntityKind::Place),
            ("KCNA", EntityKind::Organisation),
        ] {
            let e =
                find(&entities, name).unwrap_or_else(|| panic!("{name} missing: {entities:#?}"));
            assert_eq!(e.kind, kind, "{name}");
            for m in &e.mentions {
                assert!(body.is_char_boundary(m.start) && body.is_char_boundary(m.end));
            }
        }
        // "Kim" and "Putin" alone are merged into the full names
        let kim = find(&entities, "Kim Jong-un").expect("Kim");
        assert!(
            kim.mentions.iter().any(|m| &body[m.start..m.end] == "Kim"),
            "{kim:?}"
        );
        let putin = find(&entities, "Vladimir Putin").expect("Putin");
        assert!(putin.mention_count >= 4);
        assert!(
            putin.roles.iter().any(|r| r.contains("President")),
            "{putin:?}"
        );
        // places resolved with coordinates
        let vlad = places
            .iter()
            .find(|p| p.name == "Vladivostok")
            .expect("Vladivostok resolved");
        assert_eq!(vlad.country, "RU");
        assert!(vlad.lat.is_some_and(|lat| (lat - 43.1).abs() < 0.5));
        let pyongyang = places
            .iter()
            .find(|p| p.name == "Pyongyang")
            .expect("Pyongyang");
        assert_eq!(pyongyang.country, "KP");
    }

    #[test]
    fn table_of_sentences() {
        for (text, name, kind) in [
            (
                "Chancellor Olaf Scholz met Emmanuel Macron in Paris on Monday.",
                "Olaf Scholz",
                EntityKind::Person,
            ),
            (
                "Chancellor Olaf Scholz met Emmanuel Macron in Paris on Monday.",
                "Paris",
                EntityKind::Place,
            ),
            (
                "Shares of Microsoft Corp. fell after the company said sales slowed.",
                "Microsoft",
                EntityKind::Organisation,
            ),
            (
                "Floods hit the Sichuan province of China, officials said.",
                "Sichuan",
                EntityKind::Place,
            ),
        ] {
            let (entities, _) = extract(None, text);
            let e =
                find(&entities, name).unwrap_or_else(|| panic!("{name} in {text:?}: {entities:?}"));
            assert_eq!(e.kind, kind, "{name} in {text:?}");
        }
    }

    #[test]
    fn stage_fills_enrichment() {
        let story = Story {
            headline: Some("Putin writes to Kim".into()),
            body: vec![Block::paragraph(
                "Russian President Vladimir Putin wrote to North Korean leader Kim Jong-un.",
            )],
            ..Story::default()
        };
        let out = Entities::new().process(story).expect("stage");
        let putin = find(&out.enrichment.entities, "Vladimir Putin").expect("Putin");
        assert!(putin.in_headline);
        assert_eq!(putin.affiliation.as_deref(), Some("Russia"));
        assert!(out
            .enrichment
            .entities
            .iter()
            .any(|e| e.name == "North Korea" && !e.named));
        assert!(Entities::new()
            .process(Story::default())
            .expect("empty")
            .enrichment
            .entities
            .is_empty());
    }
}
