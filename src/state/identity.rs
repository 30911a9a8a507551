//! The [`Identity`] step: is this story new, a newer version of a known story, a re-send, a
//! near-duplicate of another agency's story, or a kill / withhold / correction notice?
//!
//! Runs after the enrich stages (it needs the fingerprint and the entities) and before
//! encoding. The classification and the index update happen under one lock, so two workers
//! cannot both claim to have seen a story first.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::index::StoryIndex;
use super::record::{NameList, StoryRecord};
use super::DedupConfig;
use crate::enrich::fingerprint::similarity;
use crate::pipeline::Source;
use crate::story::{
    DuplicateOf, IdentityStatus, Notice, PubStatus, Story, StoryIdentity, VersionOf,
};

/// Slug and headline words that mark a notice, and the notice kind.
const NOTICE_MARKERS: &[(&str, &str)] = &[
    ("KILL", "kill"),
    ("KILLED", "kill"),
    ("ELIMINATE", "kill"),
    ("WITHDRAWN", "kill"),
    ("WITHHOLD", "withhold"),
    ("WITHHELD", "withhold"),
    ("CORRECTS", "correction"),
    ("CORRECTED", "correction"),
    ("CORRECTION", "correction"),
    ("CORRECTIVE", "correction"),
    ("RECASTS", "correction"),
];

/// What [`Identity::observe`] decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The record to publish to the state topic.
    pub record: StoryRecord,
    /// Whether the story should produce no output (`dedup.drop_exact` and a re-send).
    pub drop: bool,
}

/// Classifies stories against a shared [`StoryIndex`].
#[derive(Debug, Clone)]
pub struct Identity {
    index: Arc<StoryIndex>,
    drop_exact: bool,
    max_bits: u32,
    window: Duration,
}

fn marker(word: &str) -> Option<&'static str> {
    NOTICE_MARKERS
        .iter()
        .find(|(m, _)| word.eq_ignore_ascii_case(m))
        .map(|(_, kind)| *kind)
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// The slug without notice markers, upper-cased: `KILL-QUAKE-JAPAN` → `QUAKE-JAPAN`.
pub fn bare_slug(slug: &str) -> String {
    words(slug)
        .filter(|w| marker(w).is_none())
        .map(str::to_uppercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// Kill / withhold / correction signals, strongest first: the status field, then a marker
/// word in the slugline, then at the start of the headline or first paragraph ("KILL -",
/// "CORRECTED-…", "(Corrects spelling in paragraph 3)").
fn notice_kind(story: &Story) -> Option<(&'static str, &'static str)> {
    match story.pub_status {
        PubStatus::Canceled => return Some(("kill", "pub_status")),
        PubStatus::Withheld => return Some(("withhold", "pub_status")),
        PubStatus::Usable => {}
    }
    if let Some(kind) = story
        .slugline
        .as_deref()
        .and_then(|s| words(s).find_map(marker))
    {
        return Some((kind, "slugline"));
    }
    let lead = |text: &str| {
        let text = text.trim_start();
        // Only an upper-case marker, or one in brackets, at the very start counts:
        // "Killed in action" or "Corrections officers strike" are ordinary headlines.
        let bracketed = text.starts_with('(') || text.starts_with('[');
        let first = words(text).next()?;
        let shouted = first.chars().all(|c| !c.is_lowercase());
        (shouted || bracketed).then(|| marker(first)).flatten()
    };
    if let Some(kind) = story.headline.as_deref().and_then(lead) {
        return Some((kind, "headline"));
    }
    let first_para = story.body.first().map(|b| b.text.as_str()).unwrap_or("");
    if first_para.trim_start().starts_with('(') {
        if let Some(kind) = lead(first_para) {
            return Some((kind, "body"));
        }
    }
    None
}

/// Whether `new` is a later version than `old`: numeric versions compare as numbers, then
/// version-created times; with neither, a changed text counts as newer (a re-send with
/// the same text is a duplicate).
fn is_newer(new: &StoryRecord, old: &StoryRecord) -> Option<bool> {
    let num = |v: &Option<String>| v.as_deref().and_then(|v| v.trim().parse::<u64>().ok());
    if let (Some(a), Some(b)) = (num(&new.version), num(&old.version)) {
        if a != b {
            return Some(a > b);
        }
    }
    if let (Some(a), Some(b)) = (new.version_created, old.version_created) {
        if a != b {
            return Some(a > b);
        }
    }
    None
}

fn names_diff(new: &NameList, old: &NameList) -> (Vec<String>, Vec<String>) {
    let (new, old): (BTreeSet<&str>, BTreeSet<&str>) = (new.iter().collect(), old.iter().collect());
    (
        new.difference(&old).map(|s| (*s).to_string()).collect(),
        old.difference(&new).map(|s| (*s).to_string()).collect(),
    )
}

impl Identity {
    /// A classifier over `index` with the `[dedup]` settings.
    pub fn new(index: Arc<StoryIndex>, config: &DedupConfig) -> Self {
        Self {
            index,
            drop_exact: config.drop_exact,
            max_bits: config.near_duplicate_max_bits,
            window: super::seconds(config.window_s),
        }
    }

    /// The shared index.
    pub fn index(&self) -> &Arc<StoryIndex> {
        &self.index
    }

    /// Classifies `story` (published under `id`), fills `enrichment.identity` and
    /// remembers it.
    pub fn observe(&self, story: &mut Story, id: &str, source: &Source) -> Outcome {
        self.observe_at(story, id, source, Utc::now())
    }

    /// [`Self::observe`] with an explicit clock, for tests.
    pub fn observe_at(
        &self,
        story: &mut Story,
        id: &str,
        source: &Source,
        now: DateTime<Utc>,
    ) -> Outcome {
        let mut record = StoryRecord::of(story, id, source, now);
        let notice = notice_kind(story);
        let (identity, drop) = self.index.with(|view| {
            // The same input record read again (after a crash or rebalance) is a replay:
            // classify it as if the earlier attempt had not happened.
            let known = view.get(id).filter(|old| old.source != record.source);
            let mut identity = StoryIdentity {
                status: IdentityStatus::New,
                ..StoryIdentity::default()
            };
            let mut keep_old = false;
            let mut drop = false;
            if let Some(old) = &known {
                // Kill and correction versions often drop the slug; keep the story's own so
                // a later notice that names it still finds it.
                if record.slug.is_none() {
                    record.slug.clone_from(&old.slug);
                }
                let same_text =
                    old.body_hash == record.body_hash && old.headline_hash == record.headline_hash;
                match is_newer(&record, old) {
                    Some(false) => {
                        identity.status = IdentityStatus::Duplicate;
                        identity.duplicate_of = Some(DuplicateOf {
                            id: id.to_string(),
                            similarity: fp_similarity(&record, old),
                            reason: "older_version".into(),
                        });
                        keep_old = true;
                        drop = self.drop_exact;
                    }
                    None if same_text && old.killed == record.killed => {
                        identity.status = IdentityStatus::Duplicate;
                        identity.duplicate_of = Some(DuplicateOf {
                            id: id.to_string(),
                            similarity: 1.0,
                            reason: "identical".into(),
                        });
                        drop = self.drop_exact;
                    }
                    _ => {
                        let (added, removed) = names_diff(&record.entities, &old.entities);
                        identity.status = IdentityStatus::Version;
                        identity.version_of = Some(VersionOf {
                            id: id.to_string(),
                            previous_version: old.version.clone(),
                            headline_changed: old.headline_hash != record.headline_hash,
                            body_changed: old.body_hash != record.body_hash,
                            entities_added: added,
                            entities_removed: removed,
                        });
                    }
                }
            }
            let near = record
                .fingerprint
                .and_then(|fp| view.nearest(id, fp, record.story_time, self.max_bits, self.window));
            if known.is_none() {
                if let Some(near) = &near {
                    identity.status = IdentityStatus::NearDuplicate;
                    identity.duplicate_of = Some(DuplicateOf {
                        id: near.id.clone(),
                        similarity: 1.0 - f64::from(near.bits) / 64.0,
                        reason: "near_duplicate".into(),
                    });
                }
            }
            if let Some((kind, signal)) = notice {
                // The story a notice is about: itself when its id is known (a new version
                // with status canceled), else the story with the same slug, else the
                // near-duplicate it repeats.
                let target = known
                    .as_ref()
                    .map(|_| id.to_string())
                    .or_else(|| {
                        record
                            .slug
                            .as_deref()
                            .filter(|s| !s.is_empty())
                            .and_then(|s| view.by_slug(s))
                            .filter(|other| other != id)
                    })
                    .or_else(|| near.as_ref().map(|n| n.id.clone()));
                identity.notice = Some(Notice {
                    kind: kind.into(),
                    target,
                    signal: signal.into(),
                });
                // A notice is news in itself: never dropped as a re-send of its target.
                drop = false;
            }
            if !keep_old {
                view.remember(record.clone(), now);
            }
            (identity, drop)
        });
        story.enrichment.identity = identity;
        Outcome { record, drop }
    }
}

fn fp_similarity(a: &StoryRecord, b: &StoryRecord) -> f64 {
    match (a.fingerprint, b.fingerprint) {
        (Some(x), Some(y)) => similarity(x, y),
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::Block;

    const BODY: &str = "Rescue teams searched collapsed buildings in the coastal city on \
        Monday after a magnitude 7.1 earthquake struck before dawn, killing at least 12 \
        people and injuring dozens more, the regional governor said. \
        Power and water supplies were cut across the province, and the main highway along \
        the coast was closed by landslides near the port. Hospitals treated the injured in \
        tents set up in car parks as aftershocks continued through the morning. The national \
        weather agency lifted a tsunami warning three hours after the quake, which was \
        centred about 40 kilometres offshore at a depth of 30 kilometres. The prime minister \
        said troops would be sent to help clear roads and deliver food, water and blankets \
        to families who had spent the night outdoors.";

    fn story(guid: &str, version: Option<&str>, headline: &str, body: &str) -> Story {
        Story {
            guid: Some(guid.into()),
            version: version.map(str::to_string),
            headline: Some(headline.into()),
            slugline: Some("QUAKE-COAST".into()),
            body: vec![Block::paragraph(body)],
            ..Story::default()
        }
    }

    fn src(offset: i64) -> Source {
        Source {
            topic: "raw".into(),
            partition: 0,
            offset,
            timestamp: None,
        }
    }

    fn identity(drop_exact: bool) -> Identity {
        let config = DedupConfig {
            drop_exact,
            near_duplicate_max_bits: 6,
            ..DedupConfig::default()
        };
        Identity::new(Arc::new(StoryIndex::new(1000, 86_400)), &config)
    }

    /// Regression: a `dedup.window_s` beyond what chrono holds (about 290 million years)
    /// panicked in `Duration::seconds` when the step was built.
    #[test]
    fn a_huge_window_is_forever() {
        for window_s in [u64::MAX, i64::MAX as u64 / 1000 + 1] {
            let config = DedupConfig {
                window_s,
                ..DedupConfig::default()
            };
            let id = Identity::new(Arc::new(StoryIndex::new(10, 86_400)), &config);
            let mut first = story("w1", None, "Quake kills 12", BODY);
            id.observe(&mut first, "w1", &src(0));
            let mut again = story("w2", None, "Quake kills 12", BODY);
            id.observe(&mut again, "w2", &src(1));
            assert_eq!(
                again.enrichment.identity.status,
                IdentityStatus::NearDuplicate
            );
        }
    }

    #[test]
    fn new_then_version_then_resend_then_older() {
        let id = identity(false);
        let mut s1 = story("q1", Some("1"), "Quake kills 12", BODY);
        id.observe(&mut s1, "q1", &src(0));
        assert_eq!(s1.enrichment.identity.status, IdentityStatus::New);

        let body2 = BODY.replace("12", "15");
        let mut s2 = story("q1", Some("2"), "Quake kills 15", &body2);
        id.observe(&mut s2, "q1", &src(1));
        let v = s2.enrichment.identity.version_of.clone().unwrap();
        assert_eq!(s2.enrichment.identity.status, IdentityStatus::Version);
        assert_eq!(v.previous_version.as_deref(), Some("1"));
        assert!(v.headline_changed && v.body_changed);

        let mut s3 = story("q1", Some("2"), "Quake kills 15", &body2);
        let out = id.observe(&mut s3, "q1", &src(2));
        assert_eq!(s3.enrichment.identity.status, IdentityStatus::Duplicate);
        assert_eq!(
            s3.enrichment.identity.duplicate_of.unwrap().reason,
            "identical"
        );
        assert!(!out.drop, "kept unless drop_exact");

        let mut s4 = story("q1", Some("1"), "Quake kills 12", BODY);
        id.observe(&mut s4, "q1", &src(3));
        let dup = s4.enrichment.identity.duplicate_of.unwrap();
        assert_eq!(dup.reason, "older_version");
        // The older re-send did not replace version 2.
        id.index()
            .with(|v| assert_eq!(v.get("q1").unwrap().version.as_deref(), Some("2")));
    }

    #[test]
    fn drop_exact_drops_resends_but_never_notices() {
        let id = identity(true);
        let mut s1 = story("d1", None, "Quake kills 12", BODY);
        assert!(!id.observe(&mut s1, "d1", &src(0)).drop);
        let mut s2 = story("d1", None, "Quake kills 12", BODY);
        assert!(id.observe(&mut s2, "d1", &src(1)).drop);
        let mut kill = story("d1", None, "Quake kills 12", BODY);
        kill.pub_status = PubStatus::Canceled;
        let out = id.observe(&mut kill, "d1", &src(2));
        assert!(!out.drop);
        let notice = kill.enrichment.identity.notice.unwrap();
        assert_eq!(
            (notice.kind.as_str(), notice.target.as_deref()),
            ("kill", Some("d1"))
        );
    }

    #[test]
    fn replay_of_the_same_input_is_not_a_duplicate() {
        // Regression guard: state published before a crash must not turn the replayed
        // record into a dropped duplicate (that would lose its event).
        let id = identity(true);
        let mut s1 = story("r1", None, "Quake kills 12", BODY);
        id.observe(&mut s1, "r1", &src(7));
        let mut again = story("r1", None, "Quake kills 12", BODY);
        let out = id.observe(&mut again, "r1", &src(7));
        assert!(!out.drop);
        assert_eq!(again.enrichment.identity.status, IdentityStatus::New);
    }

    #[test]
    fn near_duplicate_from_another_agency() {
        let id = identity(false);
        let mut a = story("agency-a:1", None, "Quake kills 12", BODY);
        id.observe(&mut a, "agency-a:1", &src(0));
        let rewrite = BODY.replace("before dawn", "before dawn local time");
        let mut b = story("agency-b:9", None, "Earthquake kills 12", &rewrite);
        b.slugline = None;
        id.observe(&mut b, "agency-b:9", &src(1));
        let dup = b.enrichment.identity.duplicate_of.clone().unwrap();
        assert_eq!(b.enrichment.identity.status, IdentityStatus::NearDuplicate);
        assert_eq!(dup.id, "agency-a:1");
        assert!(dup.similarity > 0.9, "{dup:?}");

        let mut other = story(
            "agency-c:1",
            None,
            "Rates rise",
            "The central bank raised \
            interest rates by half a point on Thursday as inflation hit a forty-year high.",
        );
        other.slugline = None;
        id.observe(&mut other, "agency-c:1", &src(2));
        assert_eq!(other.enrichment.identity.status, IdentityStatus::New);
    }

    #[test]
    fn notices_are_detected_and_targeted() {
        let cases: &[(&str, Option<&str>, &str, Option<&str>)] = &[
            // headline, slugline, expected kind, expected target
            (
                "KILL - Quake kills 12",
                Some("KILL-QUAKE-COAST"),
                "kill",
                Some("orig"),
            ),
            (
                "CORRECTED-Quake kills 12",
                Some("QUAKE-COAST/CORRECTS"),
                "correction",
                Some("orig"),
            ),
            (
                "Quake kills 12",
                Some("WITHHOLD QUAKE COAST"),
                "withhold",
                Some("orig"),
            ),
        ];
        for (headline, slug, kind, target) in cases {
            let id = identity(false);
            let mut orig = story("orig", None, "Quake kills 12", BODY);
            id.observe(&mut orig, "orig", &src(0));
            let mut n = story("notice", None, headline, "Editors: please kill the story.");
            n.slugline = slug.map(str::to_string);
            id.observe(&mut n, "notice", &src(1));
            let notice = n
                .enrichment
                .identity
                .notice
                .unwrap_or_else(|| panic!("{headline}"));
            assert_eq!(notice.kind, *kind, "{headline}");
            assert_eq!(notice.target.as_deref(), *target, "{headline}");
        }
    }

    #[test]
    fn ordinary_headlines_are_not_notices() {
        for headline in [
            "Killed in action: a soldier's story",
            "Corrections officers strike",
        ] {
            let id = identity(false);
            let mut s = story("x", None, headline, BODY);
            s.slugline = None;
            id.observe(&mut s, "x", &src(0));
            assert_eq!(s.enrichment.identity.notice, None, "{headline}");
        }
        assert_eq!(bare_slug("KILL-quake/coast"), "QUAKE-COAST");
    }
}
