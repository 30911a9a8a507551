//! IPTC ninjs (News in JSON) 1.x, 2.x and 3.x → [`Story`].
//!
//! The three generations differ in spelling more than in meaning, so every field is read
//! under each of its names:
//!
//! | Story field | ninjs 1.x | 2.x | 3.x |
//! | --- | --- | --- | --- |
//! | guid, version | `uri`, `version` | same | same |
//! | headline | `headline` | `headlines[role=main]` | `headlines[role=main]` |
//! | byline | `byline` | `by` | `by` |
//! | times | `firstcreated`, `versioncreated`, `embargoed` | same | `firstCreated`, `versionCreated`, `embargoedUntil` |
//! | pub_status | `pubstatus` | `pubstatus` | `pubStatus` |
//! | subjects | `subject[].code` | `subjects[].uri` | `subjects[].uri` |
//! | body | `body_text` / `body_html` | `bodies[]` | `bodies[]` (`text/plain` preferred, else XHTML) |
//! | media | `associations{name: item}` | same | `associations[]` |
//! | provider | `copyrightholder` | `infosources[0].name` | `infoSources[0].name`, `copyrightHolder` |
//! | ed_notes | `ednote` | `ednote` | `edNote` |

use serde_json::{Map, Value};

use super::time::parse_time;
use super::xml::html_blocks;
use super::{json_kind, paragraphs, squash, Ctx, DecodeError};
use crate::story::{Block, Media, PubStatus, Story};

const FORMAT: &str = "ninjs";

fn invalid(message: String) -> DecodeError {
    DecodeError::Invalid {
        format: FORMAT,
        message,
    }
}

/// Keys that only ninjs objects carry alongside `uri` and a headline.
const NINJS_MARKERS: [&str; 9] = [
    "versioncreated",
    "versionCreated",
    "firstcreated",
    "firstCreated",
    "bodies",
    "body_text",
    "body_html",
    "pubstatus",
    "pubStatus",
];

/// Structural check: `standard.name == "ninjs"`, or `uri` + `headline(s)` + a ninjs time,
/// status or body key.
pub(crate) fn looks_like(value: &Value) -> bool {
    let Some(obj) = value.as_object() else {
        return false;
    };
    if obj
        .get("standard")
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .is_some_and(|n| n.eq_ignore_ascii_case("ninjs"))
    {
        return true;
    }
    obj.get("uri").is_some_and(Value::is_string)
        && (obj.get("headlines").is_some_and(Value::is_array)
            || obj.get("headline").is_some_and(Value::is_string))
        && NINJS_MARKERS.iter().any(|k| obj.contains_key(*k))
}

/// Cheap textual version of [`looks_like`] for [`super::detect`].
pub(crate) fn looks_like_text(text: &str) -> bool {
    let has = |key: &str| text.contains(key);
    (has("\"ninjs\"") && has("\"standard\""))
        || (has("\"uri\"")
            && (has("\"headlines\"") || has("\"headline\""))
            && (has("\"versioncreated\"") || has("\"versionCreated\"")))
}

/// The first present, non-null value among the spellings.
fn get<'v>(obj: &'v Map<String, Value>, keys: &[&str]) -> Option<&'v Value> {
    keys.iter()
        .find_map(|k| obj.get(*k))
        .filter(|v| !v.is_null())
}

/// A string (or number) field.
fn text(obj: &Map<String, Value>, keys: &[&str]) -> Result<Option<String>, DecodeError> {
    match get(obj, keys) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(squash(s)),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(invalid(format!(
            "{:?} must be a string, found {}",
            keys[0],
            json_kind(other)
        ))),
    }
}

fn time(
    obj: &Map<String, Value>,
    keys: &[&str],
    ctx: &Ctx,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, DecodeError> {
    text(obj, keys)?
        .map(|s| {
            parse_time(&s, ctx.tz)
                .ok_or_else(|| invalid(format!("{:?}: {s:?} is not an ISO 8601 time", keys[0])))
        })
        .transpose()
}

/// The value of the `role: main` entry of a `[{role, value}]` array, else the first.
fn main_value(items: &[Value]) -> Option<String> {
    let value = |v: &Value| v.get("value").and_then(Value::as_str).and_then(squash);
    items
        .iter()
        .find(|h| h.get("role").and_then(Value::as_str) == Some("main"))
        .and_then(value)
        .or_else(|| items.iter().find_map(value))
}

/// Decodes a parsed ninjs object.
pub(crate) fn decode_value(root: &Value, ctx: &Ctx) -> Result<Story, DecodeError> {
    let obj = root.as_object().ok_or_else(|| {
        invalid(format!(
            "top level must be an object, found {}",
            json_kind(root)
        ))
    })?;
    let pub_status = match text(obj, &["pubStatus", "pubstatus"])? {
        None => PubStatus::Usable,
        Some(s) => {
            PubStatus::parse(&s).ok_or_else(|| invalid(format!("unknown pubStatus {s:?}")))?
        }
    };
    let urgency = match get(obj, &["urgency"]) {
        None => None,
        Some(v) => match v.as_u64() {
            Some(n @ 1..=9) => u8::try_from(n).ok(),
            _ => return Err(invalid(format!("urgency {v} is not an integer 1-9"))),
        },
    };
    let headline = match obj.get("headlines") {
        Some(Value::Array(items)) => main_value(items),
        Some(Value::Null) | None => None,
        Some(other) => {
            return Err(invalid(format!(
                "\"headlines\" must be an array, found {}",
                json_kind(other)
            )))
        }
    };
    let headline = match headline {
        Some(h) => h,
        None => text(obj, &["headline", "title"])?
            .ok_or_else(|| invalid("no headline (headlines, headline or title)".into()))?,
    };
    let mut declared_subjects = Vec::new();
    if let Some(Value::Array(items)) = get(obj, &["subjects", "subject"]) {
        for item in items {
            let code = match item {
                Value::String(s) => squash(s),
                Value::Object(o) => ["uri", "qcode", "code", "name"]
                    .iter()
                    .find_map(|k| o.get(*k).and_then(Value::as_str).and_then(squash)),
                _ => None,
            };
            if let Some(code) = code.filter(|c| !declared_subjects.contains(c)) {
                declared_subjects.push(code);
            }
        }
    }
    let provider = match get(obj, &["infoSources", "infosources"]) {
        Some(Value::Array(items)) => items
            .iter()
            .find_map(|i| i.get("name").and_then(Value::as_str).and_then(squash)),
        _ => None,
    };
    let provider = match provider {
        Some(p) => Some(p),
        None => text(obj, &["copyrightHolder", "copyrightholder"]).unwrap_or(None),
    };
    let ed_notes = text(obj, &["edNote", "ednote"])?.into_iter().collect();
    Ok(Story {
        guid: text(obj, &["uri"])?,
        version: text(obj, &["version"])?,
        provider,
        headline: Some(headline),
        slugline: text(obj, &["slugline"])?,
        byline: text(obj, &["by", "byline"])?,
        located: text(obj, &["located"])?,
        declared_language: text(obj, &["language", "lang"])?,
        first_created: time(obj, &["firstCreated", "firstcreated"], ctx)?,
        version_created: time(obj, &["versionCreated", "versioncreated"], ctx)?,
        embargoed_until: time(obj, &["embargoedUntil", "embargoed"], ctx)?,
        pub_status,
        urgency,
        declared_subjects,
        body: body(obj, ctx)?,
        media: associations(obj),
        ed_notes,
        ..Story::default()
    })
}

fn body(obj: &Map<String, Value>, ctx: &Ctx) -> Result<Vec<Block>, DecodeError> {
    let from_text = |s: &str| paragraphs(s).into_iter().map(Block::paragraph).collect();
    let from_html = |s: &str| html_blocks(s, ctx).blocks;
    if let Some(bodies) = get(obj, &["bodies"]) {
        let Value::Array(items) = bodies else {
            return Err(invalid(format!(
                "\"bodies\" must be an array, found {}",
                json_kind(bodies)
            )));
        };
        let entries: Vec<(&str, &str, &str)> = items
            .iter()
            .filter_map(|b| {
                let value = b.get("value")?.as_str()?;
                let role = b.get("role").and_then(Value::as_str).unwrap_or("");
                let ct = b
                    .get("contentType")
                    .or_else(|| b.get("contenttype"))
                    .and_then(Value::as_str)
                    .unwrap_or("text/plain");
                Some((role, ct, value))
            })
            .filter(|(_, _, v)| !v.trim().is_empty())
            .collect();
        let is_html = |ct: &str| ct.contains("html");
        let pick = entries
            .iter()
            .find(|(r, ct, _)| *r == "main" && !is_html(ct))
            .or_else(|| entries.iter().find(|(_, ct, _)| !is_html(ct)))
            .or_else(|| entries.first());
        return Ok(match pick {
            Some((_, ct, v)) if is_html(ct) => from_html(v),
            Some((_, _, v)) => from_text(v),
            None => Vec::new(),
        });
    }
    if let Some(Value::String(t)) = get(obj, &["body_text"]) {
        return Ok(from_text(t));
    }
    if let Some(Value::String(h)) = get(obj, &["body_html", "body_xhtml"]) {
        return Ok(from_html(h));
    }
    Ok(Vec::new())
}

fn associations(obj: &Map<String, Value>) -> Vec<Media> {
    let items: Vec<(Option<&str>, &Map<String, Value>)> = match obj.get("associations") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| Some((None, i.as_object()?)))
            .collect(),
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| Some((Some(k.as_str()), v.as_object()?)))
            .collect(),
        _ => Vec::new(),
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, (key, item))| {
            let s = |keys: &[&str]| text(item, keys).unwrap_or(None);
            let kind = s(&["type"]).unwrap_or_else(|| "picture".into());
            let caption = match get(item, &["descriptions"]) {
                Some(Value::Array(d)) => d
                    .iter()
                    .find(|x| x.get("role").and_then(Value::as_str) == Some("caption"))
                    .and_then(|x| x.get("value")?.as_str())
                    .and_then(squash)
                    .or_else(|| main_value(d)),
                _ => None,
            }
            .or_else(|| s(&["description_text", "body_text"]))
            .or_else(|| match get(item, &["headlines"]) {
                Some(Value::Array(h)) => main_value(h),
                _ => None,
            })
            .or_else(|| s(&["headline"]));
            let rendition_href = match item.get("renditions") {
                Some(Value::Array(r)) => r.iter().find_map(|x| x.get("href")?.as_str()),
                Some(Value::Object(r)) => r.values().find_map(|x| x.get("href")?.as_str()),
                _ => None,
            };
            Media {
                name: s(&["name"])
                    .or_else(|| key.map(str::to_string))
                    .unwrap_or_else(|| format!("{kind}{}", i + 1)),
                uri: s(&["uri"]).or_else(|| rendition_href.map(str::to_string)),
                caption,
                credit: s(&[
                    "copyrightHolder",
                    "copyrightholder",
                    "creditline",
                    "by",
                    "byline",
                ]),
                kind,
            }
        })
        .collect()
}
