//! Decode: raw record bytes → [`Story`].
//!
//! [`Decoder::decode`] picks the wire format from an explicit `content-type` header when one
//! is present, otherwise from the bytes, then hands over to one module per format. Every
//! failure is a typed [`DecodeError`] that names the format and the position, so that it can
//! become a useful dead letter; no input makes a decoder panic.

mod json;
mod plain;

pub use json::JsonFields;

use crate::story::{Story, WireFormat};

/// Why a record could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Zero bytes, or only whitespace.
    #[error("empty record: nothing to decode")]
    Empty,
    /// The bytes are not valid UTF-8.
    #[error("{format}: invalid UTF-8 at byte {position}")]
    InvalidUtf8 {
        /// Format being decoded.
        format: &'static str,
        /// Byte offset of the first invalid sequence.
        position: usize,
    },
    /// Malformed JSON.
    #[error("json: {message} at line {line}, column {column}")]
    Json {
        /// The parser's reason.
        message: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
    },
    /// Well-formed, but the content is not a story.
    #[error("{format}: {message}")]
    Invalid {
        /// Format being decoded.
        format: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The `content-type` header names a format copydesk does not read.
    #[error("unsupported content-type {0:?}")]
    UnsupportedContentType(String),
}

impl DecodeError {
    /// Short class for metrics and the `error.class` header.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::Json { .. } => "malformed_json",
            Self::Invalid { .. } => "invalid_story",
            Self::UnsupportedContentType(_) => "unsupported_format",
        }
    }
}

/// Decoder settings (`[pipeline.decode]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeConfig {
    /// Field names (dotted paths) read from JSON envelopes.
    #[serde(default)]
    pub json: JsonFields,
}

/// Format detection and dispatch, built once.
#[derive(Debug, Clone)]
pub struct Decoder {
    json: JsonFields,
}

impl Decoder {
    /// Builds a decoder from its config.
    pub fn new(config: &DecodeConfig) -> Self {
        Self {
            json: config.json.clone(),
        }
    }

    /// Detects the format and decodes.
    pub fn decode(&self, bytes: &[u8], content_type: Option<&str>) -> Result<Story, DecodeError> {
        let format = match content_type {
            Some(ct) => format_from_content_type(ct)?,
            None => detect(bytes)?,
        };
        let text = std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 {
            format: format.as_str(),
            position: e.valid_up_to(),
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut story = match format {
            WireFormat::Plain => plain::decode(text)?,
            WireFormat::Json => json::decode(text, &self.json)?,
        };
        story.format = Some(format);
        story.charset = Some("utf-8".into());
        Ok(story)
    }
}

/// Guesses the format from the first meaningful byte.
pub fn detect(bytes: &[u8]) -> Result<WireFormat, DecodeError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(DecodeError::Empty),
        Some(b'{') => Ok(WireFormat::Json),
        Some(_) => Ok(WireFormat::Plain),
    }
}

fn format_from_content_type(content_type: &str) -> Result<WireFormat, DecodeError> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "text/plain" => Ok(WireFormat::Plain),
        "application/json" => Ok(WireFormat::Json),
        _ => Err(DecodeError::UnsupportedContentType(
            content_type.to_string(),
        )),
    }
}

/// Splits text into paragraphs: blank lines separate paragraphs; when the text has no blank
/// lines at all, every line is its own paragraph (many wires send one paragraph per line).
pub(crate) fn paragraphs(text: &str) -> Vec<String> {
    let has_blank = text.lines().any(|l| l.trim().is_empty());
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || !has_blank {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            if !line.is_empty() {
                out.push(line.to_string());
            }
            continue;
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(line);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats() {
        for (input, want) in [
            (&b"{\"headline\":1}"[..], Ok(WireFormat::Json)),
            (b"  \n {", Ok(WireFormat::Json)),
            (b"\xef\xbb\xbf{}", Ok(WireFormat::Json)),
            (b"Headline\n\nBody", Ok(WireFormat::Plain)),
            (b"", Err(DecodeError::Empty)),
            (b" \n\t ", Err(DecodeError::Empty)),
        ] {
            assert_eq!(detect(input), want, "{input:?}");
        }
    }

    #[test]
    fn content_type_overrides_detection() {
        let decoder = Decoder::new(&DecodeConfig::default());
        let story = decoder
            .decode(b"{not json but plain", Some("text/plain; charset=utf-8"))
            .expect("plain");
        assert_eq!(story.headline.as_deref(), Some("{not json but plain"));
        assert_eq!(
            decoder.decode(b"x", Some("application/pdf")),
            Err(DecodeError::UnsupportedContentType(
                "application/pdf".into()
            ))
        );
    }

    #[test]
    fn invalid_utf8_names_position() {
        let decoder = Decoder::new(&DecodeConfig::default());
        let err = decoder.decode(b"Head\n\nok \xff\xfe", None).unwrap_err();
        assert_eq!(
            err,
            DecodeError::InvalidUtf8 {
                format: "plain",
                position: 9
            }
        );
        assert_eq!(err.class(), "invalid_utf8");
    }

    #[test]
    fn paragraph_rules() {
        assert_eq!(paragraphs("a\nb\n\nc"), vec!["a b", "c"]);
        assert_eq!(paragraphs("a\nb\nc"), vec!["a", "b", "c"]);
        assert_eq!(paragraphs("\n\n  a  \n\n\n"), vec!["a"]);
        assert!(paragraphs("").is_empty());
    }
}
