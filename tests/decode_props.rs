//! Property tests for decode: whatever the bytes, `Decoder::decode` returns `Ok` or a typed
//! `Err` — it never panics, and it does not hang (proptest would time out). Generators go
//! from raw bytes to XML-like, JSON-like and control-byte soup that reach deep into every
//! format's code path.

use copydesk::decode::{charset, detect, DecodeConfig, Decoder};
use proptest::prelude::*;

const CONTENT_TYPES: [Option<&str>; 8] = [
    None,
    Some("text/plain"),
    Some("application/json"),
    Some("application/ninjs+json"),
    Some("application/nitf+xml"),
    Some("application/xml; charset=iso-8859-1"),
    Some("application/x-anpa-1312"),
    Some("application/x-iptc-7901; charset=utf-16"),
];

fn decoder() -> Decoder {
    Decoder::new(&DecodeConfig::default())
}

/// Decodes under every content type; any result is fine, a panic is not.
fn decode_all(bytes: &[u8]) {
    let d = decoder();
    for ct in CONTENT_TYPES {
        match d.decode(bytes, ct) {
            Ok(story) => {
                assert!(story.format.is_some());
                assert!(story.charset.is_some());
            }
            Err(e) => assert!(!e.class().is_empty()),
        }
    }
    let _ = detect(bytes);
}

fn xml_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("<nitf>".to_string()),
        Just("</nitf>".to_string()),
        Just("<newsItem guid=\"g\" version=\"1\">".to_string()),
        Just("<newsMessage><itemSet>".to_string()),
        Just("<itemMeta><pubStatus qcode=\"stat:canceled\"/><versionCreated>2026-01-01T00:00:00Z</versionCreated></itemMeta>".to_string()),
        Just("<contentMeta><headline>H</headline><urgency>3</urgency></contentMeta>".to_string()),
        Just("<contentSet><inlineXML>".to_string()),
        Just("<html><body>".to_string()),
        Just("<head><docdata><doc-id id-string=\"x\"/><date.issue norm=\"2026\"/></docdata></head>".to_string()),
        Just("<body><body.head><hedline><hl1>".to_string()),
        Just("</hl1></hedline>".to_string()),
        Just("<body.content><p>".to_string()),
        Just("</p>".to_string()),
        Just("<bq><block>".to_string()),
        Just("<media media-type=\"Photo\"><media-caption>".to_string()),
        Just("<!DOCTYPE nitf SYSTEM \"x.dtd\">".to_string()),
        Just("<!DOCTYPE x [<!ENTITY a \"&a;&a;\">]>".to_string()),
        Just("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>".to_string()),
        Just("&nbsp;&amp;&#169;&#xZZ;&bogus;".to_string()),
        Just("<![CDATA[ x ]]>".to_string()),
        Just("<!-- c -->".to_string()),
        Just("<a b='>' c=\"<\">".to_string()),
        "[a-zA-Z<>/=\"' &;.:-]{0,12}",
        "\\PC{0,8}",
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn json_like() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("1".to_string()),
        Just("0.1".to_string()),
        Just("\"2026-03-02T09:15:00Z\"".to_string()),
        Just("\"usable\"".to_string()),
        Just("\"canceled\"".to_string()),
        Just("\"<p>x</p><h2>y\"".to_string()),
        "\"[a-z ]{0,10}\"",
    ];
    let value = leaf.prop_recursive(4, 32, 6, |inner| {
        let key = prop_oneof![
            Just("uri"),
            Just("headline"),
            Just("headlines"),
            Just("versionCreated"),
            Just("versioncreated"),
            Just("bodies"),
            Just("body_text"),
            Just("body_html"),
            Just("value"),
            Just("role"),
            Just("contentType"),
            Just("associations"),
            Just("urgency"),
            Just("pubStatus"),
            Just("subjects"),
            Just("subject"),
            Just("renditions"),
            Just("descriptions"),
            Just("standard"),
            Just("name"),
            Just("embargoedUntil"),
            Just("infoSources"),
            Just("by"),
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((key, inner), 0..6).prop_map(|kv| {
                let body: Vec<String> = kv
                    .into_iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            }),
        ]
    });
    (value, prop::bool::ANY).prop_map(|(v, ninjs)| {
        if ninjs {
            format!(
                "{{\"uri\":\"u\",\"headline\":\"h\",\"versioncreated\":\"2026-01-01\",\"x\":{v}}}"
            )
        } else {
            v
        }
    })
}

fn control_soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(vec![0x16u8, 0x16, 0x01]),
        Just(vec![0x01]),
        Just(vec![0x02]),
        Just(vec![0x03]),
        Just(vec![0x04]),
        Just(b"a0123 r a BC-Slug,KILL 04-02 0458\n".to_vec()),
        Just(b"AFP0001 3 POL 0100 WITHHOLD\r\n".to_vec()),
        Just(b"^Headline<\n^By A=\n".to_vec()),
        Just(b"\tCITY, Ore. (NW) _ Text\n".to_vec()),
        Just(b"NW-NY-13-45-26 9999XYZ<".to_vec()),
        Just(b"311299 FOO 26 CET".to_vec()),
        Just(b"\xc3\x83\xc2\xa9\xe2\x80".to_vec()),
        Just(b"\xff\xfe".to_vec()),
        Just(b"\xfe\xff".to_vec()),
        prop::collection::vec(any::<u8>(), 0..16),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        decode_all(&bytes);
    }

    #[test]
    fn xml_like_never_panics(text in xml_like()) {
        decode_all(text.as_bytes());
        // The same document in UTF-16 with a BOM takes the transcoding path.
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        decode_all(&utf16);
    }

    #[test]
    fn json_like_never_panics(text in json_like()) {
        decode_all(text.as_bytes());
    }

    #[test]
    fn control_soup_never_panics(bytes in control_soup()) {
        decode_all(&bytes);
    }

    #[test]
    fn mojibake_repair_is_idempotent_on_clean_text(text in "\\PC{0,64}") {
        // Text without any Latin-1 supplement / cp1252 punctuation has nothing to repair.
        if text.chars().all(|c| (c as u32) < 0x80 || (c as u32) > 0x2122) {
            prop_assert_eq!(charset::repair(&text), None);
        }
    }

    #[test]
    fn mojibake_round_trip(text in "[a-zé èüßœ€’“”ñ]{0,40}") {
        // Encode as UTF-8, misread as Windows-1252: repair gives the text back.
        let (garbled, _, _) = encoding_rs::WINDOWS_1252.decode(text.as_bytes());
        let repaired = charset::repair(&garbled).unwrap_or_else(|| garbled.to_string());
        prop_assert_eq!(repaired, text);
    }
}

#[test]
fn pathological_inputs_are_typed_errors() {
    let d = decoder();
    let deep_xml = format!("<nitf>{}", "<p>".repeat(200_000));
    assert_eq!(
        d.decode(deep_xml.as_bytes(), None).unwrap_err().class(),
        "limit_exceeded"
    );
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(
        d.decode(deep_json.as_bytes(), None).unwrap_err().class(),
        "malformed_json"
    );
    let wide = format!("<nitf>{}</nitf>", "<p/>".repeat(300_000));
    assert_eq!(
        d.decode(wide.as_bytes(), None).unwrap_err().class(),
        "limit_exceeded"
    );
}
