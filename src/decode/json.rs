//! JSON envelopes: an object whose fields (named in config, dotted paths allowed) hold the
//! story. The body may be one string (paragraphs separated by blank lines) or an array of
//! strings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{json_kind, paragraphs, DecodeError};
use crate::story::{Block, PubStatus, Story};

/// Where each story field lives in a JSON envelope (`[pipeline.decode.json]`). Each value is
/// a dotted path such as `meta.guid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JsonFields {
    /// Provider's story identifier.
    pub id: String,
    /// Version (number or string).
    pub version: String,
    /// Provider / agency name.
    pub provider: String,
    /// Main headline (required: an envelope without one is not a story).
    pub headline: String,
    /// Slugline.
    pub slugline: String,
    /// Byline.
    pub byline: String,
    /// Dateline.
    pub dateline: String,
    /// Declared language.
    pub language: String,
    /// First-created time (RFC 3339).
    pub first_created: String,
    /// Version-created time (RFC 3339).
    pub version_created: String,
    /// Embargo end (RFC 3339).
    pub embargoed_until: String,
    /// Publication status (`usable`, `withheld`, `canceled`).
    pub pub_status: String,
    /// Urgency 1–9.
    pub urgency: String,
    /// Declared subjects (array of strings).
    pub subjects: String,
    /// Body: a string or an array of paragraph strings.
    pub body: String,
}

impl Default for JsonFields {
    fn default() -> Self {
        Self {
            id: "id".into(),
            version: "version".into(),
            provider: "provider".into(),
            headline: "headline".into(),
            slugline: "slugline".into(),
            byline: "byline".into(),
            dateline: "dateline".into(),
            language: "language".into(),
            first_created: "firstCreated".into(),
            version_created: "versionCreated".into(),
            embargoed_until: "embargoedUntil".into(),
            pub_status: "pubStatus".into(),
            urgency: "urgency".into(),
            subjects: "subjects".into(),
            body: "body".into(),
        }
    }
}

fn invalid(message: String) -> DecodeError {
    DecodeError::Invalid {
        format: "json",
        message,
    }
}

fn lookup<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return None;
    }
    path.split('.')
        .try_fold(root, |v, key| v.get(key))
        .filter(|v| !v.is_null())
}

/// A scalar field as text: strings as they are, numbers printed.
fn text(root: &Value, path: &str) -> Result<Option<String>, DecodeError> {
    match lookup(root, path) {
        None => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(invalid(format!(
            "field {path:?} must be a string, found {}",
            json_kind(other)
        ))),
    }
}

fn time(root: &Value, path: &str) -> Result<Option<DateTime<Utc>>, DecodeError> {
    text(root, path)?
        .map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    invalid(format!(
                        "field {path:?}: {s:?} is not an RFC 3339 time: {e}"
                    ))
                })
        })
        .transpose()
}

/// Decodes a JSON envelope.
#[cfg(test)]
pub fn decode(text_in: &str, fields: &JsonFields) -> Result<Story, DecodeError> {
    decode_value(&parse(text_in)?, fields)
}

/// Parses JSON text, reporting the position of a syntax error.
pub(crate) fn parse(text_in: &str) -> Result<Value, DecodeError> {
    serde_json::from_str(text_in).map_err(|e| {
        // serde_json appends " at line L column C"; the position is reported separately.
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        DecodeError::Json {
            message: full.strip_suffix(&suffix).unwrap_or(&full).to_string(),
            line: e.line(),
            column: e.column(),
        }
    })
}

/// Decodes a parsed JSON envelope.
pub(crate) fn decode_value(root: &Value, fields: &JsonFields) -> Result<Story, DecodeError> {
    if !root.is_object() {
        return Err(invalid(format!(
            "top level must be an object, found {}",
            json_kind(root)
        )));
    }
    let headline = text(root, &fields.headline)?
        .ok_or_else(|| invalid(format!("no headline at field {:?}", fields.headline)))?;
    let body = match lookup(root, &fields.body) {
        None => Vec::new(),
        Some(Value::String(s)) => paragraphs(s),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(invalid(format!(
                    "field {:?} items must be strings, found {}",
                    fields.body,
                    json_kind(other)
                ))),
            })
            .filter(|p| p.as_ref().map_or(true, |s| !s.is_empty()))
            .collect::<Result<_, _>>()?,
        Some(other) => {
            return Err(invalid(format!(
                "field {:?} must be a string or an array of strings, found {}",
                fields.body,
                json_kind(other)
            )))
        }
    };
    let pub_status = match text(root, &fields.pub_status)? {
        None => PubStatus::Usable,
        Some(s) => {
            PubStatus::parse(&s).ok_or_else(|| invalid(format!("unknown pubStatus {s:?}")))?
        }
    };
    let urgency = text(root, &fields.urgency)?
        .map(|s| match s.parse::<u8>() {
            Ok(n @ 1..=9) => Ok(n),
            _ => Err(invalid(format!("urgency {s:?} is not 1-9"))),
        })
        .transpose()?;
    let declared_subjects = match lookup(root, &fields.subjects) {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        Some(other) => {
            return Err(invalid(format!(
                "field {:?} must be an array of strings, found {}",
                fields.subjects,
                json_kind(other)
            )))
        }
    };
    Ok(Story {
        guid: text(root, &fields.id)?,
        version: text(root, &fields.version)?,
        provider: text(root, &fields.provider)?,
        headline: Some(headline),
        slugline: text(root, &fields.slugline)?,
        byline: text(root, &fields.byline)?,
        dateline: text(root, &fields.dateline)?,
        declared_language: text(root, &fields.language)?,
        first_created: time(root, &fields.first_created)?,
        version_created: time(root, &fields.version_created)?,
        embargoed_until: time(root, &fields.embargoed_until)?,
        pub_status,
        urgency,
        declared_subjects,
        body: body.into_iter().map(Block::paragraph).collect(),
        ..Story::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> JsonFields {
        JsonFields::default()
    }

    #[test]
    fn full_envelope() {
        let story = decode(
            r#"{"id":"s1","version":2,"provider":"nw","headline":" H ","byline":"By A",
                "firstCreated":"2026-03-02T09:15:00+01:00","pubStatus":"canceled","urgency":3,
                "subjects":["politics"],"body":"p1\n\np2"}"#,
            &fields(),
        )
        .unwrap();
        assert_eq!(story.guid.as_deref(), Some("s1"));
        assert_eq!(story.version.as_deref(), Some("2"));
        assert_eq!(story.headline.as_deref(), Some("H"));
        assert_eq!(story.pub_status, PubStatus::Canceled);
        assert_eq!(story.urgency, Some(3));
        assert_eq!(
            story.first_created.map(|t| t.to_rfc3339()),
            Some("2026-03-02T08:15:00+00:00".into())
        );
        assert_eq!(story.body_text(), "p1\n\np2");
        assert_eq!(story.id(), "nw:s1");
    }

    #[test]
    fn configurable_dotted_paths() {
        let mut f = fields();
        f.headline = "meta.title".into();
        f.body = "content.paras".into();
        let story = decode(
            r#"{"meta":{"title":"T"},"content":{"paras":["a","","b"]}}"#,
            &f,
        )
        .unwrap();
        assert_eq!(story.headline.as_deref(), Some("T"));
        assert_eq!(story.body_text(), "a\n\nb");
    }

    #[test]
    fn rejections_name_the_problem() {
        let cases = [
            (r#"{"headline": "#, "malformed_json", "EOF while parsing"),
            ("[1,2]", "invalid_story", "top level must be an object"),
            (r#"{"body":"x"}"#, "invalid_story", "no headline"),
            (
                r#"{"headline":"h","urgency":12}"#,
                "invalid_story",
                "urgency",
            ),
            (
                r#"{"headline":"h","firstCreated":"yesterday"}"#,
                "invalid_story",
                "RFC 3339",
            ),
            (
                r#"{"headline":{"a":1}}"#,
                "invalid_story",
                "must be a string",
            ),
            (
                r#"{"headline":"h","body":[1]}"#,
                "invalid_story",
                "items must be strings",
            ),
            (
                r#"{"headline":"h","pubStatus":"maybe"}"#,
                "invalid_story",
                "pubStatus",
            ),
        ];
        for (input, class, needle) in cases {
            let err = decode(input, &fields()).unwrap_err();
            assert_eq!(err.class(), class, "{input}");
            assert!(err.to_string().contains(needle), "{input}: {err}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let input = format!(r#"{{"headline":"h","x":{deep}}}"#);
        assert_eq!(
            decode(&input, &fields()).unwrap_err().class(),
            "malformed_json"
        );
    }
}
