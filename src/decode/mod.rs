//! Decode: raw record bytes → [`Story`].
//!
//! [`Decoder::decode`] picks the wire format from an explicit `content-type` header when one
//! is present, otherwise from the bytes ([`detect`]), works out the character set
//! ([`charset`]: BOM, `charset=` parameter, XML prolog, or detection), then hands over to one
//! module per format:
//!
//! | format | module | detected by |
//! | --- | --- | --- |
//! | plain wire text | `plain` | anything else |
//! | JSON envelope | `json` | `{` without ninjs keys |
//! | IPTC ninjs 1.x–3.x | `ninjs` | `{` with `uri` + `headline(s)` + `versioncreated`/`standard` |
//! | NITF 3.x | `nitf` | XML root `<nitf>` |
//! | NewsML-G2 | `newsml` | XML root `<newsItem>`, `<newsMessage>`, … |
//! | ANPA-1312 | `anpa` | `SYN SYN SOH` or `SOH` + `a1234`-style header |
//! | IPTC 7901 | `iptc7901` | `SOH` + `AFP0123`-style header |
//!
//! Every failure is a typed [`DecodeError`] that names the format and the position, so that
//! it can become a useful dead letter; no input makes a decoder panic (property tests in
//! `tests/decode_props.rs`, fuzz targets in `fuzz/`). XML is parsed without DTDs: external
//! entities are never resolved, internal entity declarations are refused, nesting depth and
//! node count are bounded.

mod anpa;
pub mod charset;
mod iptc7901;
mod json;
mod newsml;
mod ninjs;
mod nitf;
mod plain;
mod time;
mod xml;

pub use json::JsonFields;

use chrono::{FixedOffset, Offset, Utc};
use serde_json::Value;

use crate::story::{Story, WireFormat};

/// Why a record could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Zero bytes, or only whitespace.
    #[error("empty record: nothing to decode")]
    Empty,
    /// The bytes are not valid UTF-8 although the `content-type` declared UTF-8.
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
    /// Malformed XML (NITF, NewsML-G2).
    #[error("{format}: malformed XML at line {line}, column {column}: {message}")]
    Xml {
        /// Format being decoded.
        format: &'static str,
        /// The parser's reason.
        message: String,
        /// 1-based line (of the transcoded UTF-8 text).
        line: u32,
        /// 1-based column.
        column: u32,
    },
    /// A safety limit was hit: nesting depth, node count, or a DTD that declares entities
    /// (billion laughs and external entities are refused, never expanded).
    #[error("{format}: {message} at byte {position}")]
    Limit {
        /// Format being decoded.
        format: &'static str,
        /// Which limit.
        message: String,
        /// Byte offset (in the transcoded UTF-8 text) where it was hit.
        position: usize,
    },
    /// Broken transmission framing (SOH / STX / ETX) in ANPA-1312 or IPTC 7901.
    #[error("{format}: {message} at byte {position}")]
    Framing {
        /// Format being decoded.
        format: &'static str,
        /// What is wrong.
        message: String,
        /// Byte offset (in the transcoded UTF-8 text).
        position: usize,
    },
    /// The `content-type` or XML prolog names a charset copydesk cannot decode.
    #[error("{format}: unsupported charset {label:?}")]
    UnsupportedCharset {
        /// Format being decoded.
        format: &'static str,
        /// The label as declared.
        label: String,
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
    /// The bytes decode to text, but mostly to control characters: binary data, not copy.
    #[error("{format}: binary data, not text ({controls} of the first {checked} characters are control characters)")]
    Binary {
        /// Format being decoded.
        format: &'static str,
        /// Control characters found.
        controls: usize,
        /// Characters checked.
        checked: usize,
    },
    /// The bytes look like a format copydesk does not read (e.g. an unknown XML root).
    #[error("{format}: unsupported document: {message}")]
    UnsupportedFormat {
        /// What it looked like.
        format: &'static str,
        /// Why it is not read.
        message: String,
    },
}

impl DecodeError {
    /// Short class for metrics and the `error.class` header.
    pub fn class(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::Json { .. } => "malformed_json",
            Self::Xml { .. } => "malformed_xml",
            Self::Limit { .. } => "limit_exceeded",
            Self::Framing { .. } => "malformed_framing",
            Self::UnsupportedCharset { .. } => "unsupported_charset",
            Self::Invalid { .. } => "invalid_story",
            Self::Binary { .. } => "binary",
            Self::UnsupportedContentType(_) | Self::UnsupportedFormat { .. } => {
                "unsupported_format"
            }
        }
    }
}

/// Characters sampled by [`reject_binary`].
const BINARY_SAMPLE: usize = 4096;

/// Fails when more than 1 in 20 of the first [`BINARY_SAMPLE`] characters are control
/// characters (other than tab, line feed, carriage return, form feed) or U+FFFD.
fn reject_binary(text: &str, format: &'static str) -> Result<(), DecodeError> {
    // Counted on bytes rather than decoded characters (every record pays this): the sample's
    // end comes from counting character-start bytes. ASCII controls are counted only
    // when a cheap any-pass (an OR reduction the compiler vectorises) finds one.
    let sample = &text[..prefix_end(text, BINARY_SAMPLE)];
    let bytes = sample.as_bytes();
    let is_control = |b: u8| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f;
    let ascii_controls = if bytes.iter().fold(false, |any, &b| any | is_control(b)) {
        bytes.iter().filter(|&&b| is_control(b)).count()
    } else {
        0
    };
    // The other control characters, U+0080–U+009F, are encoded C2 80 – C2 9F.
    let c1_controls = memchr::memchr_iter(0xC2, bytes)
        .filter(|&i| is_c1_control_at(bytes, i))
        .count();
    let replacements = memchr::memmem::find_iter(bytes, "\u{fffd}".as_bytes()).count();
    let controls = ascii_controls + c1_controls + replacements;
    // Characters are the bytes that are not UTF-8 continuation bytes; only needed when there
    // are controls to weigh against them.
    if controls <= 2 {
        return Ok(());
    }
    let checked = bytes.iter().filter(|&&b| b & 0xC0 != 0x80).count();
    if controls > 2 && controls * 20 > checked {
        return Err(DecodeError::Binary {
            format,
            controls,
            checked,
        });
    }
    Ok(())
}

/// Whether a C1 control character (U+0080–U+009F, encoded C2 80 – C2 9F) starts at byte
/// `i` of UTF-8 `bytes`. C2 is never a continuation byte, so no decoding is needed.
pub(crate) fn is_c1_control_at(bytes: &[u8], i: usize) -> bool {
    bytes[i] == 0xC2 && matches!(bytes.get(i + 1), Some(0x80..=0x9f))
}

/// Byte length of the first `chars` characters of `text` (all of it when shorter), found by
/// counting the bytes that start a character a slice at a time: for ASCII text one pass
/// over `chars` bytes, instead of decoding every character.
fn prefix_end(text: &str, chars: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut end, mut left) = (0, chars);
    while left > 0 && end < bytes.len() {
        // `left` more characters take at least `left` more bytes.
        let step = (end + left).min(bytes.len());
        let slice = &bytes[end..step];
        // An ASCII test is cheaper than a count, and wire copy is mostly ASCII.
        left -= if slice.is_ascii() {
            slice.len()
        } else {
            slice.iter().filter(|&&b| b & 0xC0 != 0x80).count()
        };
        end = step;
    }
    // The last character counted may continue past `end`.
    while !text.is_char_boundary(end) {
        end += 1;
    }
    end
}

/// Decoder settings (`[pipeline.decode]`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecodeConfig {
    /// Time zone assumed for wire times that carry none (ANPA trailers without a zone,
    /// NITF `norm` dates without an offset, …): `UTC` or a fixed offset such as `+01:00`.
    #[serde(default = "default_provider_timezone")]
    pub provider_timezone: String,
    /// Deepest XML element nesting accepted (NITF, NewsML-G2); deeper is `limit_exceeded`.
    #[serde(default = "default_max_xml_depth")]
    pub max_xml_depth: usize,
    /// Most XML nodes (elements, text, attributes' owners) accepted in one record.
    #[serde(default = "default_max_xml_nodes")]
    pub max_xml_nodes: u32,
    /// Repair classic mojibake (UTF-8 read as Windows-1252, e.g. `Ã©` → `é`) in every text
    /// field; each repair is recorded in `enrichment.normalisation`.
    #[serde(default = "default_repair_mojibake")]
    pub repair_mojibake: bool,
    /// Field names (dotted paths) read from JSON envelopes.
    #[serde(default)]
    pub json: JsonFields,
}

/// Default for [`DecodeConfig::provider_timezone`].
pub fn default_provider_timezone() -> String {
    "UTC".into()
}

/// Default for [`DecodeConfig::max_xml_depth`].
pub fn default_max_xml_depth() -> usize {
    256
}

/// Default for [`DecodeConfig::max_xml_nodes`].
pub fn default_max_xml_nodes() -> u32 {
    200_000
}

/// Default for [`DecodeConfig::repair_mojibake`].
pub fn default_repair_mojibake() -> bool {
    true
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self {
            provider_timezone: default_provider_timezone(),
            max_xml_depth: default_max_xml_depth(),
            max_xml_nodes: default_max_xml_nodes(),
            repair_mojibake: default_repair_mojibake(),
            json: JsonFields::default(),
        }
    }
}

impl DecodeConfig {
    /// Checks the values a decoder cannot work with: `Err((key, reason))`.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if time::parse_zone(&self.provider_timezone).is_none() {
            return Err((
                "pipeline.decode.provider_timezone",
                format!(
                    "{:?} is not UTC or a fixed offset like +01:00",
                    self.provider_timezone
                ),
            ));
        }
        if self.max_xml_depth == 0 {
            return Err(("pipeline.decode.max_xml_depth", "must be at least 1".into()));
        }
        if self.max_xml_nodes == 0 {
            return Err(("pipeline.decode.max_xml_nodes", "must be at least 1".into()));
        }
        Ok(())
    }
}

/// What every format decoder may need besides the text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    /// Zone for times without one.
    pub tz: FixedOffset,
    /// XML nesting bound.
    pub max_depth: usize,
    /// XML node bound.
    pub max_nodes: u32,
}

#[cfg(test)]
impl Ctx {
    /// UTC, nesting up to 256 and 10,000 nodes: the limits the unit tests are written for.
    pub(crate) fn for_tests() -> Self {
        use chrono::Offset;
        Self {
            tz: Utc.fix(),
            max_depth: 256,
            max_nodes: 10_000,
        }
    }
}

/// Format detection and dispatch, built once.
#[derive(Debug, Clone)]
pub struct Decoder {
    json: JsonFields,
    ctx: Ctx,
    repair_mojibake: bool,
}

impl Decoder {
    /// Builds a decoder from its config. An invalid `provider_timezone` (which
    /// [`DecodeConfig::validate`] reports) falls back to UTC.
    pub fn new(config: &DecodeConfig) -> Self {
        Self {
            json: config.json.clone(),
            ctx: Ctx {
                tz: time::parse_zone(&config.provider_timezone).unwrap_or(Utc.fix()),
                max_depth: config.max_xml_depth.max(1),
                max_nodes: config.max_xml_nodes.max(1),
            },
            repair_mojibake: config.repair_mojibake,
        }
    }

    /// Detects the format and charset, and decodes.
    pub fn decode(&self, bytes: &[u8], content_type: Option<&str>) -> Result<Story, DecodeError> {
        if charset::is_blank(bytes) {
            return Err(DecodeError::Empty);
        }
        let (forced, charset_param) = match content_type {
            Some(ct) => (format_from_content_type(ct)?, content_type_charset(ct)),
            None => (None, None),
        };
        let mut format = match forced {
            Some(f) => f,
            None => detect(bytes)?,
        };
        let xml_declared = match format {
            WireFormat::Nitf | WireFormat::NewsMl if charset_param.is_none() => {
                charset::xml_declared_encoding(bytes)
            }
            _ => None,
        };
        let (declared, strict) = match (&charset_param, &xml_declared) {
            (Some(label), _) => (Some(label.as_str()), true),
            (None, Some(label)) => (Some(label.as_str()), false),
            (None, None) => (None, false),
        };
        let decoded = charset::transcode(bytes, declared, strict, format.as_str())?;
        let text: &str = &decoded.text;
        // Windows-1252 turns any bytes into "text"; refuse what is mostly control characters.
        // ANPA-1312 and IPTC 7901 frame their text with control bytes, so they are exempt.
        if !matches!(format, WireFormat::Anpa | WireFormat::Iptc7901) {
            reject_binary(text, format.as_str())?;
        }
        let mut story = match format {
            WireFormat::Plain => plain::decode(text)?,
            WireFormat::Json | WireFormat::Ninjs => {
                let value = json::parse(text)?;
                let as_ninjs = format == WireFormat::Ninjs && forced == Some(WireFormat::Ninjs)
                    || ninjs::looks_like(&value);
                if as_ninjs {
                    format = WireFormat::Ninjs;
                    ninjs::decode_value(&value, &self.ctx)?
                } else {
                    format = WireFormat::Json;
                    json::decode_value(&value, &self.json)?
                }
            }
            WireFormat::Nitf => nitf::decode(text, &self.ctx)?,
            WireFormat::NewsMl => newsml::decode(text, &self.ctx)?,
            WireFormat::Anpa => anpa::decode(text, &self.ctx)?,
            WireFormat::Iptc7901 => iptc7901::decode(text, &self.ctx)?,
        };
        if self.repair_mojibake {
            charset::repair_story(&mut story);
        }
        story.format = Some(format);
        story.charset = Some(decoded.charset.to_string());
        Ok(story)
    }
}

/// How far into a record detection looks for JSON keys.
const SNIFF_BYTES: usize = 64 * 1024;

/// How much detection decodes first: enough to see the first character of nearly every
/// record (leading whitespace beyond it sends detection to the full window).
const DETECT_HEAD_BYTES: usize = 256;

/// Guesses the format from the bytes: transmission control characters (ANPA-1312,
/// IPTC 7901), the XML root element (NITF, NewsML-G2), ninjs keys in JSON, else plain text.
pub fn detect(bytes: &[u8]) -> Result<WireFormat, DecodeError> {
    // The first character decides plain text, and decoding the first bytes shows it for
    // nearly every record. Markup, JSON and control framing look further in, and a first
    // character far into the head may be cut, so those get the full sniff window.
    let head = charset::sniff_prefix(bytes, DETECT_HEAD_BYTES);
    let trimmed = trim_start(&head);
    let near_start = head.len() - trimmed.len() < DETECT_HEAD_BYTES / 2;
    match trimmed.chars().next() {
        Some(c) if near_start && !matches!(c, '{' | '[' | '<' | '\u{1}' | '\u{16}') => {
            Ok(WireFormat::Plain)
        }
        _ if bytes.len() <= DETECT_HEAD_BYTES => detect_in(trimmed),
        _ => detect_in(trim_start(&charset::sniff_prefix(bytes, SNIFF_BYTES))),
    }
}

/// The text without leading whitespace and BOMs.
fn trim_start(text: &str) -> &str {
    text.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// [`detect`] on the sniffed text, leading whitespace removed.
fn detect_in(trimmed: &str) -> Result<WireFormat, DecodeError> {
    let Some(first) = trimmed.chars().next() else {
        return Err(DecodeError::Empty);
    };
    match first {
        '\u{16}' => Ok(WireFormat::Anpa),
        '\u{1}' => Ok(if anpa::looks_like_header(&trimmed[1..]) {
            WireFormat::Anpa
        } else {
            WireFormat::Iptc7901
        }),
        '{' => Ok(if ninjs::looks_like_text(trimmed) {
            WireFormat::Ninjs
        } else {
            WireFormat::Json
        }),
        '[' => Ok(WireFormat::Json),
        '<' => match xml::root_name(trimmed) {
            Some(name) => xml_format(name).ok_or_else(|| DecodeError::UnsupportedFormat {
                format: "xml",
                message: format!("unknown root element <{name}>"),
            }),
            None => Ok(WireFormat::Plain),
        },
        _ => Ok(WireFormat::Plain),
    }
}

/// The wire format an XML root element (local name) stands for.
fn xml_format(local_name: &str) -> Option<WireFormat> {
    match local_name {
        "nitf" => Some(WireFormat::Nitf),
        "newsItem" | "newsMessage" | "packageItem" | "contentSet" | "contentMeta" => {
            Some(WireFormat::NewsMl)
        }
        _ => None,
    }
}

/// Maps a `content-type` to a forced format; `None` means "sniff the bytes" (generic XML).
fn format_from_content_type(content_type: &str) -> Result<Option<WireFormat>, DecodeError> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let format = match essence.as_str() {
        "text/plain" => WireFormat::Plain,
        "application/json" | "text/json" => WireFormat::Json,
        "application/ninjs+json" | "application/vnd.iptc.ninjs+json" => WireFormat::Ninjs,
        "application/nitf+xml" | "text/vnd.iptc.nitf+xml" | "application/vnd.iptc.nitf+xml" => {
            WireFormat::Nitf
        }
        "application/vnd.iptc.g2.newsitem+xml"
        | "application/vnd.iptc.g2.newsmessage+xml"
        | "application/vnd.iptc.g2.packageitem+xml"
        | "application/newsml-g2+xml" => WireFormat::NewsMl,
        "application/x-anpa-1312" | "application/anpa-1312" | "text/x-anpa-1312" => {
            WireFormat::Anpa
        }
        "application/x-iptc-7901" | "application/iptc-7901" | "text/x-iptc-7901" => {
            WireFormat::Iptc7901
        }
        "application/xml" | "text/xml" => return Ok(None),
        _ => {
            return Err(DecodeError::UnsupportedContentType(
                content_type.to_string(),
            ))
        }
    };
    Ok(Some(format))
}

/// The `charset=` parameter of a content type, unquoted.
fn content_type_charset(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_string())
            .filter(|v| !v.is_empty())
    })
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

/// Collapses runs of whitespace to one space and trims; `None` when nothing is left.
pub(crate) fn squash(text: &str) -> Option<String> {
    let unicode_space = has_unicode_space(text.as_bytes());
    // Most text (one paragraph, a headline) is squashed already: a few vectorised passes
    // prove it, and a copy is all that is left to do.
    if !unicode_space && ascii_squashed(text.as_bytes()) {
        return (!text.is_empty()).then(|| text.to_owned());
    }
    let mut out = String::with_capacity(text.len());
    if unicode_space {
        squash_chars(text, &mut out);
    } else {
        // Only ASCII whitespace to find: byte by byte, no character decoding. Words that
        // are already one space apart are copied as one run.
        let bytes = text.as_bytes();
        let is_space = |b: u8| matches!(b, b' ' | b'\t'..=b'\r');
        let mut i = 0;
        loop {
            while i < bytes.len() && is_space(bytes[i]) {
                i += 1;
            }
            if i == bytes.len() {
                break;
            }
            let start = i;
            loop {
                while i < bytes.len() && !is_space(bytes[i]) {
                    i += 1;
                }
                let single_space =
                    bytes.get(i) == Some(&b' ') && bytes.get(i + 1).is_some_and(|&b| !is_space(b));
                if !single_space {
                    break;
                }
                i += 1;
            }
            push_word(&mut out, &text[start..i]);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// True when, as far as ASCII whitespace goes, `squash` would return the text unchanged:
/// no space at either end, no ASCII whitespace other than single spaces. (Unicode spaces
/// are [`has_unicode_space`]'s to find; no-break spaces are kept, so they count as text.)
fn ascii_squashed(bytes: &[u8]) -> bool {
    if bytes.first() == Some(&b' ') || bytes.last() == Some(&b' ') {
        return false;
    }
    let other_ascii_space = bytes
        .iter()
        .fold(false, |any, &b| any | matches!(b, b'\t'..=b'\r'));
    let double_space = bytes
        .iter()
        .zip(bytes.iter().skip(1))
        .fold(false, |any, (&a, &b)| any | ((a == b' ') & (b == b' ')));
    !other_ascii_space && !double_space
}

/// True when the UTF-8 `bytes` hold a whitespace character outside ASCII other than the
/// no-break space: U+0085, U+1680, U+2000–U+200A, U+2028, U+2029, U+202F, U+205F, U+3000.
/// Only their lead bytes (C2, E1, E2, E3) are inspected; byte searches, not a substring
/// finder, because this runs on every squashed text and a finder costs its set-up each time.
fn has_unicode_space(bytes: &[u8]) -> bool {
    let at = |i: usize| bytes.get(i).copied();
    memchr::memchr3_iter(0xC2, 0xE1, 0xE2, bytes).any(|i| match bytes[i] {
        0xC2 => at(i + 1) == Some(0x85),
        0xE1 => (at(i + 1), at(i + 2)) == (Some(0x9A), Some(0x80)),
        _ => matches!(
            (at(i + 1), at(i + 2)),
            (Some(0x80), Some(0x80..=0x8A | 0xA8 | 0xA9 | 0xAF)) | (Some(0x81), Some(0x9F))
        ),
    }) || memchr::memchr_iter(0xE3, bytes)
        .any(|i| (at(i + 1), at(i + 2)) == (Some(0x80), Some(0x80)))
}

/// [`squash`] character by character, appending to `out`.
fn squash_chars(text: &str, out: &mut String) {
    // No-break spaces are kept: they are the normalise stage's to change (and log).
    for word in text.split(|c: char| c.is_whitespace() && c != '\u{a0}') {
        push_word(out, word);
    }
}

/// Appends `word` (unless empty), after one space when `out` has text.
fn push_word(out: &mut String, word: &str) {
    if word.is_empty() {
        return;
    }
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(word);
}

/// A JSON value's kind, for messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_bytes_are_rejected_not_read_as_latin1() {
        let decoder = Decoder::new(&DecodeConfig::default());
        // Regression: random bytes used to decode as Windows-1252 "text" and become events.
        let binary = include_bytes!("../../examples/stories/bad/binary.bin");
        let err = decoder.decode(binary, None).unwrap_err();
        assert_eq!(err.class(), "binary", "{err}");
        let latin1 = b"Caf\xe9 talks\n\nThe caf\xe9 re-opened on Monday.";
        assert!(
            decoder.decode(latin1, None).is_ok(),
            "genuine Latin-1 still decodes"
        );
    }

    #[test]
    fn detects_formats() {
        for (input, want) in [
            (&b"{\"headline\":1}"[..], Ok(WireFormat::Json)),
            (b"  \n {", Ok(WireFormat::Json)),
            (b"\xef\xbb\xbf{}", Ok(WireFormat::Json)),
            (
                b"{\"uri\":\"u\",\"headlines\":[],\"versionCreated\":\"x\"}",
                Ok(WireFormat::Ninjs),
            ),
            (
                b"{\"uri\":\"u\",\"headline\":\"h\",\"versioncreated\":\"x\"}",
                Ok(WireFormat::Ninjs),
            ),
            (b"Headline\n\nBody", Ok(WireFormat::Plain)),
            (
                b"<?xml version=\"1.0\"?>\n<nitf><head/></nitf>",
                Ok(WireFormat::Nitf),
            ),
            (
                b"<!-- c --><!DOCTYPE nitf SYSTEM \"nitf.dtd\"><nitf/>",
                Ok(WireFormat::Nitf),
            ),
            (b"<g2:newsItem xmlns:g2=\"x\"/>", Ok(WireFormat::NewsMl)),
            (b"<newsMessage>", Ok(WireFormat::NewsMl)),
            (b"\x16\x16\x01a0001 r a BC-X", Ok(WireFormat::Anpa)),
            (b"\x01AFP0001 3 POL", Ok(WireFormat::Iptc7901)),
            (
                b"\xff\xfe<\x00n\x00i\x00t\x00f\x00>\x00",
                Ok(WireFormat::Nitf),
            ),
            (
                b"<b>bold</b> plain",
                Err(DecodeError::UnsupportedFormat {
                    format: "xml",
                    message: "unknown root element <b>".into(),
                }),
            ),
            (b"< not xml", Ok(WireFormat::Plain)),
            (b"", Err(DecodeError::Empty)),
            (b" \n\t ", Err(DecodeError::Empty)),
        ] {
            assert_eq!(detect(input), want, "{input:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn squash_matches_the_character_split(text in "[a é—“\u{a0}\u{1680}\u{2003}\u{200b}\u{2028}\u{205f}\u{3000}\u{85}\t\n\r\x0b\x0c\x1f]{0,30}") {
            let mut want = String::new();
            squash_chars(&text, &mut want);
            proptest::prop_assert_eq!(squash(&text), (!want.is_empty()).then_some(want));
        }

        #[test]
        fn prefix_end_matches_char_indices(text in "[a é中😀\n]{0,40}", chars in 0usize..45) {
            let want = text.char_indices().nth(chars).map_or(text.len(), |(at, _)| at);
            proptest::prop_assert_eq!(prefix_end(&text, chars), want);
        }
    }

    proptest::proptest! {
        /// Detection from the head decides as detection over the whole sniff window,
        /// also when leading whitespace pushes the first character past the head.
        #[test]
        fn head_detection_agrees_with_the_full_window(
            pad in proptest::collection::vec(proptest::sample::select(
                vec![&b" "[..], b"\n", b"\t", b"\xc2\xa0", b"\xef\xbb\xbf", b"\xe3\x80\x80", b"\x00"]
            ), 0..200),
            body in proptest::sample::select(vec![
                &b"{\"uri\":\"u\",\"headlines\":[],\"versionCreated\":\"x\"}"[..],
                b"{\"headline\":1}", b"[1]", b"<nitf/>", b"<b>x</b>", b"\x01AFP0001 3 POL",
                b"\x16\x01a0001", b"Headline\n\nBody", b"\xc3\xa9t\xc3\xa9", b"\xe9t\xe9", b"",
            ]),
        ) {
            let bytes: Vec<u8> = pad.concat().into_iter().chain(body.iter().copied()).collect();
            let full = detect_in(trim_start(&charset::sniff_prefix(&bytes, SNIFF_BYTES)));
            proptest::prop_assert_eq!(detect(&bytes), full);
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
        let story = decoder
            .decode(
                b"<nitf><body><body.head><hedline><hl1>H</hl1></hedline></body.head></body></nitf>",
                Some("text/xml"),
            )
            .expect("nitf via text/xml");
        assert_eq!(story.format, Some(WireFormat::Nitf));
    }

    #[test]
    fn declared_utf8_that_is_not_names_position() {
        let decoder = Decoder::new(&DecodeConfig::default());
        let err = decoder
            .decode(b"Head\n\nok \xff\xfe", Some("text/plain; charset=UTF-8"))
            .unwrap_err();
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
    fn undeclared_non_utf8_is_read_as_windows_1252() {
        let decoder = Decoder::new(&DecodeConfig::default());
        let story = decoder
            .decode(b"Caf\xe9 opens\n\n\x93Hi\x94", None)
            .unwrap();
        assert_eq!(story.headline.as_deref(), Some("Café opens"));
        assert_eq!(story.body_text(), "\u{201c}Hi\u{201d}");
        assert_eq!(story.charset.as_deref(), Some("windows-1252"));
    }

    #[test]
    fn unknown_charset_label_is_typed() {
        let decoder = Decoder::new(&DecodeConfig::default());
        let err = decoder
            .decode(b"H", Some("text/plain; charset=klingon"))
            .unwrap_err();
        assert_eq!(err.class(), "unsupported_charset");
    }

    #[test]
    fn config_defaults_validate() {
        let config = DecodeConfig::default();
        assert_eq!(config.validate(), Ok(()));
        let bad = DecodeConfig {
            provider_timezone: "Mars/Olympus".into(),
            ..DecodeConfig::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().0,
            "pipeline.decode.provider_timezone"
        );
    }

    #[test]
    fn paragraph_rules() {
        assert_eq!(paragraphs("a\nb\n\nc"), vec!["a b", "c"]);
        assert_eq!(paragraphs("a\nb\nc"), vec!["a", "b", "c"]);
        assert_eq!(paragraphs("\n\n  a  \n\n\n"), vec!["a"]);
        assert!(paragraphs("").is_empty());
        assert_eq!(squash("  a \n b  ").as_deref(), Some("a b"));
        assert_eq!(squash(" \n "), None);
    }
}
