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
