//! JSON Schema validators for events: IPTC's official ninjs 3.1 schema (from ../shared) and
//! the project's own event schema (`schema/copydesk-event-1.json`), built once.

use std::sync::OnceLock;

use jsonschema::{Registry, Resource, Validator};
use serde_json::Value;

const NINJS_ID: &str = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json";
const GEOJSON_ID: &str = "https://geojson.org/schema/GeoJSON.json";

fn shared(path: &str) -> Value {
    let full = format!("{}/../shared/data/ninjs/{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{full}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn registry() -> &'static Registry<'static> {
    static REGISTRY: OnceLock<Registry<'static>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        // No machine here reaches the web: the GeoJSON schema the ninjs schema refers to is
        // registered from the local copy, and so is the ninjs schema for the event schema.
        Registry::new()
            .add(GEOJSON_ID, Resource::from_contents(shared("GeoJSON.json")))
            .expect("geojson resource")
            .add(
                NINJS_ID,
                Resource::from_contents(shared("ninjs-schema_3.1.json")),
            )
            .expect("ninjs resource")
            .prepare()
            .expect("registry")
    })
}

fn build(schema: &Value) -> Validator {
    jsonschema::options()
        .with_registry(registry())
        .should_validate_formats(true)
        .build(schema)
        .expect("schema compiles")
}

/// IPTC ninjs 3.1.
pub fn ninjs() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| build(&shared("ninjs-schema_3.1.json")))
}

/// copydesk.event/1.
pub fn event() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/copydesk-event-1.json");
        let text = std::fs::read_to_string(path).expect("event schema");
        build(&serde_json::from_str(&text).expect("event schema JSON"))
    })
}

/// Panics with every violation unless `event` validates against both schemas.
pub fn assert_valid_event(instance: &Value) {
    let errors: Vec<String> = event()
        .iter_errors(instance)
        .map(|e| format!("event schema: {} at {}", e, e.instance_path()))
        .chain(
            ninjs()
                .iter_errors(&instance["ninjs"])
                .map(|e| format!("ninjs 3.1: {} at {}", e, e.instance_path())),
        )
        .collect();
    assert!(
        errors.is_empty(),
        "{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(instance).unwrap_or_default()
    );
}
