//! Golden tests for decode: every wire format, a typical and an awkward synthetic fixture
//! each (`tests/fixtures/<format>/`), with the expected `Story` fields, plus the openly
//! licensed IPTC examples in `../shared/data`.

use copydesk::decode::{DecodeConfig, DecodeError, Decoder};
use copydesk::story::{BlockKind, PubStatus, Story, WireFormat};

use BlockKind::{Crosshead as H, Paragraph as P, Quote as Q};

/// An expected media association: (name, kind, uri, caption, credit).
type MediaRow = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// Expected fields; `None` / empty means "not checked" except where noted.
#[derive(Default)]
struct Expect {
    file: &'static str,
    content_type: Option<&'static str>,
    format: Option<WireFormat>,
    charset: &'static str,
    guid: Option<&'static str>,
    version: Option<&'static str>,
    provider: Option<&'static str>,
    headline: &'static str,
    slugline: Option<&'static str>,
    byline: Option<&'static str>,
    dateline: Option<&'static str>,
    located: Option<&'static str>,
    language: Option<&'static str>,
    first_created: Option<&'static str>,
    version_created: Option<&'static str>,
    embargoed_until: Option<&'static str>,
    /// Always checked (default usable).
    pub_status: PubStatus,
    urgency: Option<u8>,
    /// Always checked.
    subjects: &'static [&'static str],
    /// Always checked: every block, in order.
    body: &'static [(BlockKind, &'static str)],
    /// Always checked: (name, kind, uri, caption, credit).
    media: &'static [MediaRow],
    /// Always checked.
    ed_notes: &'static [&'static str],
}

fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

fn time(t: Option<chrono::DateTime<chrono::Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339())
}

fn check(e: &Expect, story: &Story) {
    let f = e.file;
    assert_eq!(story.format, e.format, "{f}: format");
    assert_eq!(story.charset.as_deref(), Some(e.charset), "{f}: charset");
    assert_eq!(story.headline.as_deref(), Some(e.headline), "{f}: headline");
    for (name, got, want) in [
        ("guid", &story.guid, e.guid),
        ("version", &story.version, e.version),
        ("provider", &story.provider, e.provider),
        ("slugline", &story.slugline, e.slugline),
        ("byline", &story.byline, e.byline),
        ("dateline", &story.dateline, e.dateline),
        ("located", &story.located, e.located),
        ("language", &story.declared_language, e.language),
    ] {
        if want.is_some() {
            assert_eq!(got.as_deref(), want, "{f}: {name}");
        }
    }
    for (name, got, want) in [
        ("first_created", story.first_created, e.first_created),
        ("version_created", story.version_created, e.version_created),
        ("embargoed_until", story.embargoed_until, e.embargoed_until),
    ] {
        if want.is_some() {
            assert_eq!(time(got).as_deref(), want, "{f}: {name}");
        }
    }
    assert_eq!(story.pub_status, e.pub_status, "{f}: pub_status");
    if e.urgency.is_some() {
        assert_eq!(story.urgency, e.urgency, "{f}: urgency");
    }
    assert_eq!(story.declared_subjects, e.subjects, "{f}: subjects");
    let body: Vec<(BlockKind, &str)> = story
        .body
        .iter()
        .map(|b| (b.kind, b.text.as_str()))
        .collect();
    assert_eq!(body, e.body, "{f}: body");
    let media: Vec<_> = story
        .media
        .iter()
        .map(|m| {
            (
                m.name.as_str(),
                m.kind.as_str(),
                m.uri.as_deref(),
                m.caption.as_deref(),
                m.credit.as_deref(),
            )
        })
        .collect();
    assert_eq!(media, e.media, "{f}: media");
    assert_eq!(story.ed_notes, e.ed_notes, "{f}: ed_notes");
}

fn cases() -> Vec<Expect> {
    vec![
        // ---------------- ninjs
        Expect {
            file: "ninjs/v1_typical.json",
            format: Some(WireFormat::Ninjs),
            charset: "utf-8",
            guid: Some("urn:northwire:2026:harbour-1"),
            version: Some("1"),
            provider: Some("Northwire"),
            headline: "Harbour crane collapses in storm",
            slugline: Some("Harbour-Crane"),
            byline: Some("By Mara Quint"),
            located: Some("Port Elling"),
            language: Some("en"),
            first_created: Some("2026-03-02T08:00:00+00:00"),
            version_created: Some("2026-03-02T08:15:00+00:00"),
            urgency: Some(4),
            subjects: &["medtop:16000000", "weather"],
            body: &[
                (P, "PORT ELLING, March 2 (Northwire) - A crane fell into the harbour."),
                (P, "No one was hurt, the port said."),
            ],
            media: &[("photo1", "picture", Some("http://img.example/1.jpg"), Some("The fallen crane."), Some("Photo: Ivo Brant"))],
            ed_notes: &["Corrects spelling of Elling"],
            ..Expect::default()
        },
        Expect {
            file: "ninjs/v2_typical.json",
            format: Some(WireFormat::Ninjs),
            charset: "utf-8",
            guid: Some("urn:northwire:2026:budget-7"),
            provider: Some("Northwire"),
            headline: "Council delays budget vote",
            byline: Some("Lena Ortz"),
            version_created: Some("2026-04-10T12:00:00+00:00"),
            pub_status: PubStatus::Withheld,
            subjects: &["http://cv.iptc.org/newscodes/mediatopic/11000000"],
            body: &[(P, "The vote moves to May."), (P, "Members want more time.")],
            ..Expect::default()
        },
        Expect {
            file: "ninjs/v3_typical.json",
            format: Some(WireFormat::Ninjs),
            charset: "utf-8",
            guid: Some("urn:northwire:2026:river-3"),
            version: Some("2"),
            provider: Some("Northwire"),
            headline: "River breaks banks in Aldmoor",
            slugline: Some("River-Aldmoor"),
            byline: Some("Pia Senn"),
            located: Some("Aldmoor"),
            language: Some("en-GB"),
            first_created: Some("2026-05-01T06:00:00+00:00"),
            version_created: Some("2026-05-01T05:30:00+00:00"),
            embargoed_until: Some("2026-05-01T10:00:00+00:00"),
            urgency: Some(2),
            subjects: &["http://cv.iptc.org/newscodes/mediatopic/20000162"],
            body: &[
                (P, "ALDMOOR (Northwire) - The river rose overnight."),
                (P, "Residents moved to the school."),
            ],
            media: &[("image1", "picture", Some("http://img.example/river.jpg"), Some("Water in the square."), Some("Northwire/Kai Dorn"))],
            ed_notes: &["Embargoed until 10:00 GMT"],
            ..Expect::default()
        },
        Expect {
            file: "ninjs/v3_awkward_kill.json",
            format: Some(WireFormat::Ninjs),
            charset: "utf-8",
            guid: Some("urn:northwire:2026:mayor-9"),
            headline: "KILL: Mayor resigns",
            language: Some("fr"),
            pub_status: PubStatus::Canceled,
            body: &[
                (P, "Le maire a démissionné\u{a0}hier."),
                (H, "Réactions"),
                (Q, "« C'est fini »"),
                (P, "Fin"),
            ],
            media: &[("graphic1", "graphic", Some("http://img.example/g.png"), Some("Chart"), None)],
            ..Expect::default()
        },
        // ---------------- NITF
        Expect {
            file: "nitf/typical.xml",
            format: Some(WireFormat::Nitf),
            charset: "utf-8",
            guid: Some("NW-2026-0311-ferry"),
            version: Some("1"),
            provider: Some("Northwire"),
            headline: "Ferry service resumes after repairs",
            slugline: Some("Ferry-Resumes"),
            byline: Some("By Tom Rell, Northwire Writer"),
            dateline: Some("STAVELEY, Norland, March 11"),
            located: Some("STAVELEY, Norland"),
            language: Some("en"),
            first_created: Some("2026-03-11T08:15:00+00:00"),
            version_created: Some("2026-03-11T08:15:00+00:00"),
            urgency: Some(5),
            subjects: &["medtop:20000556"],
            body: &[
                (P, "STAVELEY, Norland, March 11 (Northwire) \u{2014} The island ferry sails again."),
                (P, "Repairs took six weeks."),
            ],
            media: &[("image1", "picture", Some("http://img.example/ferry.jpg"), Some("The ferry leaves port."), Some("Northwire/Ada Voss"))],
            ..Expect::default()
        },
        Expect {
            file: "nitf/awkward_latin1_kill.xml",
            format: Some(WireFormat::Nitf),
            charset: "windows-1252",
            guid: Some("NW-2026-0312-café"),
            provider: Some("Northwire"),
            headline: "Café\u{a0}owner wins «landmark» case",
            dateline: Some("LYSE, March 12"),
            version_created: Some("2026-03-12T09:00:00+00:00"),
            embargoed_until: Some("2026-03-12T12:00:00+00:00"),
            pub_status: PubStatus::Canceled,
            subjects: &["subj:04000000"],
            body: &[
                (P, "LYSE, March 12 (Northwire) \u{2014} A café owner won."),
                (H, "Appeal"),
                (Q, "We will appeal,"),
                (P, "First point"),
                (P, "Second point"),
                (P, "loose trailing text"),
            ],
            ed_notes: &["KILL: story withdrawn for legal reasons"],
            ..Expect::default()
        },
        // ---------------- NewsML-G2
        Expect {
            file: "newsml/newsitem_typical.xml",
            format: Some(WireFormat::NewsMl),
            charset: "utf-8",
            guid: Some("urn:newsml:northwire.example:20260313:mill"),
            version: Some("3"),
            provider: Some("Northwire"),
            headline: "Old mill closes after 90 years",
            slugline: Some("Mill-Closes"),
            byline: Some("By Ula Fenn"),
            dateline: Some("BRENNPORT, March 13 (Northwire)"),
            located: Some("Brennport"),
            language: Some("en-US"),
            first_created: Some("2026-03-13T14:00:00+00:00"),
            version_created: Some("2026-03-13T15:00:00+00:00"),
            urgency: Some(3),
            subjects: &["medtop:04000000", "medtop:09000000"],
            body: &[
                (P, "BRENNPORT, March 13 (Northwire) - The mill shut its gates."),
                (P, "Workers gathered outside."),
            ],
            ed_notes: &["Adds quote from union"],
            ..Expect::default()
        },
        Expect {
            file: "newsml/newsmessage_utf16_withheld.xml",
            format: Some(WireFormat::NewsMl),
            charset: "utf-16le",
            guid: Some("urn:nw:text:54"),
            version: Some("2"),
            provider: Some("http://northwire.example/"),
            headline: "Bridge opens to traffic — à la fête",
            byline: Some("Jo Wick"),
            first_created: Some("2026-03-14T05:00:00+00:00"),
            version_created: Some("2026-03-14T06:30:00+00:00"),
            embargoed_until: Some("2026-03-15T00:00:00+00:00"),
            pub_status: PubStatus::Withheld,
            body: &[
                (P, "The bridge opened\u{a0}on Saturday."),
                (H, "Traffic"),
                (Q, "It is a great day"),
            ],
            media: &[
                ("image1", "picture", Some("http://img.example/b2.jpg"), Some("Cars cross."), Some("Northwire")),
                ("picture2", "picture", Some("http://img.example/bridge.jpg"), Some("The new bridge at dusk, seen from the east bank."), Some("Northwire/Oli Frey")),
            ],
            ..Expect::default()
        },
        // ---------------- ANPA-1312
        Expect {
            file: "anpa/typical.anpa",
            format: Some(WireFormat::Anpa),
            charset: "windows-1252",
            guid: Some("a0417"),
            version: Some("1st Ld-Writethru"),
            provider: Some("NW"),
            headline: "Dam repairs finish early in Krönberg",
            slugline: Some("BC-Dam-Repair"),
            byline: Some("By Edda Lund, Northwire Writer"),
            dateline: Some("KRÖNBERG, Westland (Northwire)"),
            located: Some("KRÖNBERG, Westland"),
            version_created: Some("2026-03-15T20:23:00+00:00"),
            urgency: Some(3),
            subjects: &["anpa-category:a"],
            body: &[
                (P, "KRÖNBERG, Westland (Northwire) _ Crews finished the dam repairs a week early."),
                (P, "The reservoir will refill by June."),
            ],
            ..Expect::default()
        },
        Expect {
            file: "anpa/awkward_kill_no_etx.anpa",
            format: Some(WireFormat::Anpa),
            charset: "utf-8",
            guid: Some("a0418"),
            version: Some("KILL"),
            headline: "KILL Dam repairs finish early",
            slugline: Some("BC-Dam-Repair"),
            pub_status: PubStatus::Canceled,
            urgency: Some(1),
            subjects: &["anpa-category:i"],
            body: &[
                (P, "No paragraphs are indented here."),
                (P, "Second chunk, with café mojibake."),
            ],
            ed_notes: &["Eds: KILL the story; figures were wrong."],
            ..Expect::default()
        },
        // ---------------- IPTC 7901
        Expect {
            file: "iptc7901/typical.txt",
            format: Some(WireFormat::Iptc7901),
            charset: "utf-8",
            guid: Some("NWX0231"),
            provider: Some("NWX"),
            headline: "Recount confirms mayor's win",
            slugline: Some("Vote-Recount"),
            byline: Some("By Rhea Doss"),
            dateline: Some("OSTBURG, March 16 (NWX)"),
            located: Some("OSTBURG"),
            version_created: Some("2026-03-16T12:30:00+00:00"),
            urgency: Some(3),
            subjects: &["iptc7901-category:POL"],
            body: &[
                (P, "OSTBURG, March 16 (NWX) - A recount confirmed the result."),
                (P, "The margin was 41 votes."),
            ],
            ..Expect::default()
        },
        Expect {
            file: "iptc7901/awkward_withhold_cp1252.txt",
            format: Some(WireFormat::Iptc7901),
            charset: "windows-1252",
            guid: Some("NWX0232"),
            headline: "Bank chief to step down",
            version_created: Some("2026-03-17T18:00:00+00:00"),
            pub_status: PubStatus::Withheld,
            urgency: Some(1),
            subjects: &["iptc7901-category:ECO"],
            body: &[(P, "\"We need change,\" the \u{201c}minister\u{201d} said.")],
            ed_notes: &["EDS: Withhold until the minister speaks.", "WITHHOLD"],
            ..Expect::default()
        },
        // ---------------- charsets (plain text carrier)
        Expect {
            file: "charset/mojibake.txt",
            format: Some(WireFormat::Plain),
            charset: "utf-8",
            headline: "Café reopens in São Vale",
            body: &[(P, "It’s back, the owner said. “Finally.”")],
            ..Expect::default()
        },
        Expect {
            file: "charset/utf16be_bom.txt",
            format: Some(WireFormat::Plain),
            charset: "utf-16be",
            headline: "Grüße aus Köln",
            body: &[(P, "Ein Absatz.")],
            ..Expect::default()
        },
        Expect {
            file: "charset/windows1252_undeclared.txt",
            format: Some(WireFormat::Plain),
            charset: "windows-1252",
            headline: "Président “quoted” — costs €5",
            body: &[(P, "Body ’para’.")],
            ..Expect::default()
        },
        Expect {
            file: "charset/windows1252_undeclared.txt",
            content_type: Some("text/plain; charset=ISO-8859-1"),
            format: Some(WireFormat::Plain),
            charset: "windows-1252",
            headline: "Président “quoted” — costs €5",
            body: &[(P, "Body ’para’.")],
            ..Expect::default()
        },
    ]
}

#[test]
fn golden_fixtures() {
    let decoder = Decoder::new(&DecodeConfig::default());
    let cases = cases();
    for e in &cases {
        let story = decoder
            .decode(&fixture(e.file), e.content_type)
            .unwrap_or_else(|err| panic!("{}: {err}", e.file));
        check(e, &story);
    }
    // Every format directory has at least a typical and an awkward fixture.
    for dir in ["ninjs", "nitf", "newsml", "anpa", "iptc7901", "charset"] {
        assert!(
            cases.iter().filter(|c| c.file.starts_with(dir)).count() >= 2,
            "{dir}"
        );
    }
}

#[test]
fn mojibake_repairs_are_logged() {
    let decoder = Decoder::new(&DecodeConfig::default());
    let story = decoder
        .decode(&fixture("charset/mojibake.txt"), None)
        .unwrap();
    let kinds: Vec<&str> = story
        .enrichment
        .normalisation
        .iter()
        .map(|n| n.kind.as_str())
        .collect();
    assert_eq!(kinds, ["repair_mojibake:headline", "repair_mojibake"]);
    let off = DecodeConfig {
        repair_mojibake: false,
        ..DecodeConfig::default()
    };
    let raw = Decoder::new(&off)
        .decode(&fixture("charset/mojibake.txt"), None)
        .unwrap();
    assert_eq!(raw.headline.as_deref(), Some("CafÃ© reopens in SÃ£o Vale"));
}

#[test]
fn content_types_force_formats() {
    let decoder = Decoder::new(&DecodeConfig::default());
    for (file, ct, want) in [
        (
            "ninjs/v3_typical.json",
            "application/ninjs+json",
            WireFormat::Ninjs,
        ),
        (
            "ninjs/v3_typical.json",
            "application/json",
            WireFormat::Ninjs,
        ),
        ("nitf/typical.xml", "application/nitf+xml", WireFormat::Nitf),
        (
            "nitf/typical.xml",
            "application/xml; charset=utf-8",
            WireFormat::Nitf,
        ),
        (
            "newsml/newsitem_typical.xml",
            "application/vnd.iptc.g2.newsitem+xml",
            WireFormat::NewsMl,
        ),
        (
            "anpa/typical.anpa",
            "application/x-anpa-1312",
            WireFormat::Anpa,
        ),
        (
            "iptc7901/typical.txt",
            "application/x-iptc-7901",
            WireFormat::Iptc7901,
        ),
    ] {
        let story = decoder
            .decode(&fixture(file), Some(ct))
            .unwrap_or_else(|e| panic!("{file} {ct}: {e}"));
        assert_eq!(story.format, Some(want), "{file} {ct}");
    }
    // A forced format that does not fit is a typed error, not a panic.
    let err = decoder
        .decode(
            &fixture("ninjs/v3_typical.json"),
            Some("application/nitf+xml"),
        )
        .unwrap_err();
    assert_eq!(err.class(), "malformed_xml");
}

#[test]
fn malformed_input_names_format_and_position() {
    let decoder = Decoder::new(&DecodeConfig::default());
    for (input, class, needle) in [
        (&b"<nitf><body><p>x</nitf>"[..], "malformed_xml", "nitf: malformed XML at line 1, column"),
        (b"<newsItem guid='g'><contentMeta></newsItem>", "malformed_xml", "newsml_g2: malformed XML at line 1"),
        (b"<newsItem guid='g'/>", "invalid_story", "newsml_g2: no headline"),
        (b"<!DOCTYPE nitf [<!ENTITY a 'b'>]><nitf>&a;</nitf>", "limit_exceeded", "nitf: DTD entity declarations are refused"),
        (b"\x16\x16\x01a0001 r a BC-X 01-01 0001 no text marker", "malformed_framing", "anpa_1312: no STX (start of text) after the header at byte 2"),
        (b"\x01XYZ0001 3 POL 0001", "malformed_framing", "iptc_7901: no STX"),
        (b"{\"uri\":\"u\",\"headlines\":[{\"role\":\"main\",\"value\":\"h\"}],\"versionCreated\":\"x\"}", "invalid_story", "ninjs: \"versionCreated\": \"x\" is not an ISO 8601 time"),
        (b"{\"uri\":\"u\",\"headline\":\"h\",\"versioncreated\":\"2026-01-01T00:00:00Z\",\"urgency\":0.1}", "invalid_story", "ninjs: urgency 0.1"),
        (b"<html><body/></html>", "unsupported_format", "unknown root element <html>"),
    ] {
        let err = decoder.decode(input, None).unwrap_err();
        assert_eq!(err.class(), class, "{input:?}: {err}");
        assert!(err.to_string().contains(needle), "{input:?}: {err}");
    }
    let deep = format!("<nitf>{}</nitf>", "<block>".repeat(1000));
    let err = decoder.decode(deep.as_bytes(), None).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::Limit {
                format: "nitf",
                position: 1791,
                ..
            }
        ),
        "{err:?}"
    );
}

// ------------------------------------------------------------------ shared IPTC examples

fn shared(path: &str) -> Vec<u8> {
    let full = format!("{}/../shared/data/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

#[test]
fn iptc_nitf_example() {
    let decoder = Decoder::new(&DecodeConfig::default());
    let story = decoder
        .decode(&shared("nitf/nitf-example-3.6.xml"), None)
        .unwrap();
    assert_eq!(story.format, Some(WireFormat::Nitf));
    assert_eq!(
        story.headline.as_deref(),
        Some("Astronauts take spacewalk No. 3 after suit snag")
    );
    assert_eq!(
        story.byline.as_deref(),
        Some("By Alan Karben, EP Aerospace Writer.")
    );
    assert_eq!(story.located.as_deref(), Some("CAPE CANAVERAL, Fla."));
    assert_eq!(story.provider.as_deref(), Some("EP"));
    assert_eq!(
        time(story.version_created).as_deref(),
        Some("2009-11-23T11:44:28+00:00")
    );
    assert_eq!(story.body.len(), 11);
    assert!(story.body[1]
        .text
        .contains("Dr. Amy Sweigert Jr. and Vinnie Tripodi — the father"));
    assert_eq!(story.body[10].text, "A Bold Statement.");
    assert_eq!(story.media.len(), 1);
    let media = &story.media[0];
    assert_eq!(media.kind, "picture");
    assert_eq!(media.credit.as_deref(), Some("The Example Press, NASA"));
    assert!(media
        .caption
        .as_deref()
        .unwrap_or("")
        .starts_with("In an image provided by NASA"));
}

#[test]
fn iptc_newsml_examples() {
    let decoder = Decoder::new(&DecodeConfig::default());
    let story = decoder
        .decode(
            &shared("newsml-g2/LISTING_2_NewsML-G2_Text_Document.xml"),
            None,
        )
        .unwrap();
    assert_eq!(
        story.guid.as_deref(),
        Some("urn:newsml:acmenews.com:20161121:US-FINANCE-FED")
    );
    assert_eq!(story.version.as_deref(), Some("11"));
    assert_eq!(
        story.headline.as_deref(),
        Some("Fed to halt QE to avert \"bubble\"")
    );
    assert_eq!(story.slugline.as_deref(), Some("US-Finance-Fed"));
    assert_eq!(
        story.byline.as_deref(),
        Some("By Meredith Jameson, Staff Reporter")
    );
    assert_eq!(story.located.as_deref(), Some("New York, NY"));
    assert_eq!(story.declared_language.as_deref(), Some("en-US"));
    assert_eq!(
        story.declared_subjects,
        ["medtop:04000000", "medtop:20000350", "medtop:20000379"]
    );
    assert_eq!(
        time(story.version_created).as_deref(),
        Some("2018-11-21T21:25:32+00:00")
    );
    assert_eq!(
        time(story.first_created).as_deref(),
        Some("2016-11-21T20:21:06+00:00")
    );
    assert_eq!(story.body.len(), 2);
    assert_eq!(story.pub_status, PubStatus::Usable);

    // A contentSet fragment with inline NITF reads as far as it goes.
    let story = decoder
        .decode(
            &shared("newsml-g2/LISTING_25_An_NITF_marked-up_article_conveyed_in_inlineXML.xml"),
            None,
        )
        .unwrap();
    assert_eq!(
        story.headline.as_deref(),
        Some("Arizona Diamondbacks (29-23) at Philadelphia Phillies (26-24), 7:05p.m.")
    );
    assert_eq!(story.byline.as_deref(), Some("Sports Network"));
    assert_eq!(story.body.len(), 1);

    // A contentMeta fragment has no headline: a typed error.
    let err = decoder
        .decode(
            &shared("newsml-g2/LISTING_28_Illustrating_Located_Subject_and_Dateline.xml"),
            None,
        )
        .unwrap_err();
    assert_eq!(err.class(), "invalid_story");

    // A video item declared ISO-8859-1, with no headline.
    let err = decoder
        .decode(&shared("newsml-g2/ap_metadata_example.xml"), None)
        .unwrap_err();
    assert_eq!(err.class(), "invalid_story");
}

#[test]
fn iptc_ninjs_examples() {
    let decoder = Decoder::new(&DecodeConfig::default());
    let story = decoder
        .decode(
            &shared("ninjs/examples_3.1/005_complex_text_article.json"),
            None,
        )
        .unwrap();
    assert_eq!(story.format, Some(WireFormat::Ninjs));
    assert_eq!(
        story.headline.as_deref(),
        Some("Captain of wrecked cruise ship on trial in Italy")
    );
    assert_eq!(
        story.byline.as_deref(),
        Some("Paulo Santalucia and Frances d'Emilio")
    );
    assert_eq!(story.located.as_deref(), Some("Grossetto, Italy"));
    assert_eq!(story.body.len(), 1);
    assert!(story.body[0].text.starts_with("GROSSETO, Italy (AP) --"));

    let story = decoder
        .decode(
            &shared("ninjs/examples_3.1/003_associations_example.json"),
            None,
        )
        .unwrap();
    let names: Vec<&str> = story.media.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["logo", "photo"]);

    // Every example and every test-suite document decodes or fails with a typed error.
    for dir in [
        "ninjs/examples_3.1",
        "ninjs/test_suite_3.0/should_pass",
        "ninjs/test_suite_3.0/should_fail",
    ] {
        let full = format!("{}/../shared/data/{dir}", env!("CARGO_MANIFEST_DIR"));
        let mut decoded = 0;
        for entry in std::fs::read_dir(&full).expect("dir") {
            let path = entry.expect("entry").path();
            let bytes = std::fs::read(&path).expect("read");
            match decoder.decode(&bytes, None) {
                Ok(story) => {
                    assert!(story.headline.is_some());
                    decoded += 1;
                }
                Err(e) => assert!(
                    ["invalid_story", "malformed_json"].contains(&e.class()),
                    "{}: {e}",
                    path.display()
                ),
            }
        }
        assert!(decoded > 0, "{dir}");
    }
    // The bad-urgency document of the suite is rejected.
    let err = decoder
        .decode(
            &shared("ninjs/test_suite_3.0/should_fail/006_bad_urgency.json"),
            Some("application/ninjs+json"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("urgency"), "{err}");
}
