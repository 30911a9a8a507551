//! `copydesk eval DIR OUT_DIR`: runs the configured pipeline over every `*.txt` story in DIR
//! and writes the named entities of each to `OUT_DIR/<story>.json` in the entity scorer's
//! format: `{"entities":[{"name":…,"type":"person|organization|place"}]}`. Entities the
//! story names only through an adjective or demonym are left out (they are not names).

use std::path::Path;

use anyhow::Context as _;
use serde_json::{json, Value};

use crate::config::PipelineConfig;
use crate::pipeline::{Pipeline, Source};

/// Runs the evaluation; returns the number of stories written.
pub fn run(config: &PipelineConfig, dir: &Path, out_dir: &Path) -> anyhow::Result<usize> {
    let pipeline = Pipeline::new(config);
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    files.sort();
    for path in &files {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let entities = match pipeline.process(&bytes, Some("text/plain"), &Source::default()) {
            Ok(processed) => {
                let event: Value =
                    serde_json::from_slice(&processed.payload).context("event JSON")?;
                scorer_entities(&event)
            }
            Err(failure) => {
                tracing::warn!(file = %path.display(), reason = %failure.message, "story failed");
                Vec::new()
            }
        };
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = out_dir.join(format!("{stem}.json"));
        let text = serde_json::to_string_pretty(&json!({ "entities": entities }))?;
        std::fs::write(&out, text).with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(files.len())
}

fn scorer_entities(event: &Value) -> Vec<Value> {
    let Some(list) = event["enrichment"]["entities"].as_array() else {
        return Vec::new();
    };
    list.iter()
        .filter(|e| e["named"].as_bool().unwrap_or(true))
        .map(|e| {
            let kind = match e["type"].as_str() {
                Some("organisation") => "organization",
                Some(other) => other,
                None => "place",
            };
            json!({"name": e["name"], "type": kind})
        })
        .collect()
}
