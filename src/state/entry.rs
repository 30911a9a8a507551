//! [`Entry`]: one remembered story as the index holds it — the [`StoryRecord`] packed into
//! a fixed part (what near-duplicate lookups read for every candidate) and one byte string
//! for the rest, with entity names and the source topic as ids in the index's
//! [`NameTable`].
//!
//! A record unpacks to exactly the record packed: strings byte for byte, times to the
//! nanosecond, names in their order (duplicates too), `schema` as [`STATE_SCHEMA`] (a
//! record with another schema never reaches the index).

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};

use super::names::{NameId, NameTable};
use super::record::{NameList, StoryRecord, STATE_SCHEMA};

/// `flags` bits.
const HAS_FINGERPRINT: u16 = 1;
const KILLED: u16 = 1 << 1;
const HAS_VERSION: u16 = 1 << 2;
const HAS_SLUG: u16 = 1 << 3;
/// `version_created` is given and equals `story_time` (as [`StoryRecord::of`] makes it
/// whenever the wire gives one), so it takes no bytes.
const VERSION_CREATED_IS_STORY_TIME: u16 = 1 << 4;
/// `version_created` is given, differs from `story_time`, and is in `packed`.
const VERSION_CREATED_PACKED: u16 = 1 << 5;
/// `source` is not `topic/partition/offset` as [`super::record::source_key`] writes it
/// (a foreign writer's), so it is in `packed` as text.
const SOURCE_AS_TEXT: u16 = 1 << 6;
/// The id is copydesk's own content id ([`CONTENT_ID_PREFIX`] and 32 lower-case hex
/// digits, what `Story::id` gives a story that names none), packed as its 16 bytes.
const CONTENT_ID: u16 = 1 << 7;
/// `story_time` has no [`Nanos`] (out of range, or in a leap second) and is in `packed`.
const STORY_TIME_PACKED: u16 = 1 << 8;
/// `seen_at` has no [`Nanos`] and is in `packed`.
const SEEN_AT_PACKED: u16 = 1 << 9;

/// How copydesk's own content ids begin (`Story::id`).
const CONTENT_ID_PREFIX: &str = "copydesk:";
/// Length of a content id as text: the prefix and 32 hex digits.
const CONTENT_ID_LEN: usize = CONTENT_ID_PREFIX.len() + 32;

/// A story in the index. Build with [`Entry::pack`]; give it back with [`Entry::release`]
/// (dropping it instead would keep its names interned forever).
#[derive(Debug)]
pub(super) struct Entry {
    /// In order: id (its 16 bytes if `CONTENT_ID`); version (if `HAS_VERSION`); slug (if
    /// `HAS_SLUG`); source (topic name id, partition, offset — or its text if
    /// `SOURCE_AS_TEXT`); version-created time (if `VERSION_CREATED_PACKED`); story time
    /// (if `STORY_TIME_PACKED`); seen-at time (if `SEEN_AT_PACKED`); entity name count and
    /// ids. Strings are a LEB128 length and UTF-8 bytes, numbers LEB128 (signed ones
    /// zig-zag), times 12 fixed bytes.
    packed: Box<[u8]>,
    /// Meaningful only with `HAS_FINGERPRINT`.
    fingerprint: u64,
    headline_hash: u64,
    body_hash: u64,
    /// Meaningful only without `STORY_TIME_PACKED`.
    story_time: Nanos,
    /// Meaningful only without `SEEN_AT_PACKED`.
    seen_at: Nanos,
    flags: u16,
}

/// A time as nanoseconds since 1970 (8 bytes where `DateTime<Utc>` takes 12): every
/// time from 1677 to 2262 outside a leap second. Others are kept in [`Entry::packed`].
#[derive(Debug, Clone, Copy, Default)]
struct Nanos(i64);

impl Nanos {
    /// `time` in nanoseconds, if they hold it exactly.
    fn of(time: DateTime<Utc>) -> Option<Self> {
        // A leap second's nanoseconds (10⁹ and over) would read back as the next second.
        if time.timestamp_subsec_nanos() >= 1_000_000_000 {
            return None;
        }
        time.timestamp_nanos_opt().map(Self)
    }

    fn time(self) -> DateTime<Utc> {
        DateTime::from_timestamp_nanos(self.0)
    }
}

/// The 16 bytes of a content id (`copydesk:` and 32 lower-case hex digits), if `id` is one.
fn content_id_bytes(id: &str) -> Option<[u8; 16]> {
    let hex = id.strip_prefix(CONTENT_ID_PREFIX)?.as_bytes();
    if hex.len() != 32 {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let mut bytes = [0u8; 16];
    for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(bytes)
}

/// An entry's id as text: borrowed from `packed`, or a content id spelled out again on the
/// stack (no allocation: ids are compared and hashed on every lookup).
pub(super) enum IdText<'a> {
    Packed(&'a str),
    Content([u8; CONTENT_ID_LEN]),
}

impl std::ops::Deref for IdText<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            IdText::Packed(text) => text,
            // Built from ASCII (the prefix and hex digits) by `Reader::id`: always UTF-8.
            IdText::Content(bytes) => std::str::from_utf8(bytes).unwrap_or_default(),
        }
    }
}

/// `topic`, `partition`, `offset` of a `topic/partition/offset` key, if formatting them
/// again gives the same text (so the text need not be kept).
pub(super) fn split_source(source: &str) -> Option<(&str, i32, i64)> {
    let mut parts = source.rsplitn(3, '/');
    let offset: i64 = parts.next()?.parse().ok()?;
    let partition: i32 = parts.next()?.parse().ok()?;
    let topic = parts.next()?;
    (format!("{topic}/{partition}/{offset}") == source).then_some((topic, partition, offset))
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        // Truncation intended: the low seven bits, with the continuation bit.
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    // Truncation cannot happen: the loop left fewer than eight bits.
    out.push(value as u8);
}

fn zigzag(value: i64) -> u64 {
    // Reinterpreting the bits is the point of zig-zag.
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    // Reinterpreting the bits is the point of zig-zag.
    (value >> 1) as i64 ^ -((value & 1) as i64)
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_varint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

/// Reads `Entry::packed` in the order [`Entry::pack`] wrote it.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> u64 {
        let mut value = 0u64;
        let mut shift = 0;
        while let Some((&byte, rest)) = self.bytes.split_first() {
            self.bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte < 0x80 || shift >= 64 {
                break;
            }
        }
        value
    }

    fn bytes(&mut self, len: usize) -> &'a [u8] {
        let (taken, rest) = self.bytes.split_at(len.min(self.bytes.len()));
        self.bytes = rest;
        taken
    }

    fn str(&mut self) -> &'a str {
        // Usize holds any length `put_str` wrote (it came from a usize).
        let len = usize::try_from(self.varint()).unwrap_or(usize::MAX);
        // The bytes were copied from a `&str`, whole: valid UTF-8, so the fallback is dead.
        std::str::from_utf8(self.bytes(len)).unwrap_or_default()
    }

    /// The id, spelled out again if `flags` say it is a content id.
    fn id(&mut self, flags: u16) -> IdText<'a> {
        if flags & CONTENT_ID == 0 {
            return IdText::Packed(self.str());
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut text = [0u8; CONTENT_ID_LEN];
        let (prefix, digits) = text.split_at_mut(CONTENT_ID_PREFIX.len());
        prefix.copy_from_slice(CONTENT_ID_PREFIX.as_bytes());
        for (pair, &byte) in digits.chunks_exact_mut(2).zip(self.bytes(16)) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 0xf)];
        }
        IdText::Content(text)
    }

    fn name_id(&mut self) -> NameId {
        // Name ids were written from a u32.
        NameId::try_from(self.varint()).unwrap_or(NameId::MAX)
    }
}

fn put_time(out: &mut Vec<u8>, time: DateTime<Utc>) {
    let naive = time.naive_utc();
    out.extend_from_slice(&naive.date().num_days_from_ce().to_le_bytes());
    out.extend_from_slice(&naive.time().num_seconds_from_midnight().to_le_bytes());
    // Nanoseconds past 10⁹ mark a leap second; kept as they are.
    out.extend_from_slice(&naive.time().nanosecond().to_le_bytes());
}

fn read_time(reader: &mut Reader<'_>) -> Option<DateTime<Utc>> {
    let mut word = || -> Option<[u8; 4]> { reader.bytes(4).try_into().ok() };
    let days = i32::from_le_bytes(word()?);
    let seconds = u32::from_le_bytes(word()?);
    let nanos = u32::from_le_bytes(word()?);
    let date = NaiveDate::from_num_days_from_ce_opt(days)?;
    let time = NaiveTime::from_num_seconds_from_midnight_opt(seconds, nanos)?;
    Some(date.and_time(time).and_utc())
}

impl Entry {
    /// Packs `record`, holding its entity names and source topic in `names`.
    pub fn pack(record: &StoryRecord, names: &mut NameTable) -> Self {
        let mut flags = 0;
        let mut packed =
            Vec::with_capacity(record.id.len() + record.slug.as_ref().map_or(0, String::len) + 16);
        match content_id_bytes(&record.id) {
            Some(bytes) => {
                flags |= CONTENT_ID;
                packed.extend_from_slice(&bytes);
            }
            None => put_str(&mut packed, &record.id),
        }
        if let Some(version) = &record.version {
            flags |= HAS_VERSION;
            put_str(&mut packed, version);
        }
        if let Some(slug) = &record.slug {
            flags |= HAS_SLUG;
            put_str(&mut packed, slug);
        }
        match split_source(&record.source) {
            Some((topic, partition, offset)) => {
                put_varint(&mut packed, u64::from(names.acquire(topic)));
                put_varint(&mut packed, zigzag(i64::from(partition)));
                put_varint(&mut packed, zigzag(offset));
            }
            None => {
                flags |= SOURCE_AS_TEXT;
                put_str(&mut packed, &record.source);
            }
        }
        match record.version_created {
            Some(time) if time == record.story_time => flags |= VERSION_CREATED_IS_STORY_TIME,
            Some(time) => {
                flags |= VERSION_CREATED_PACKED;
                put_time(&mut packed, time);
            }
            None => {}
        }
        let story_time = Nanos::of(record.story_time).unwrap_or_else(|| {
            flags |= STORY_TIME_PACKED;
            put_time(&mut packed, record.story_time);
            Nanos::default()
        });
        let seen_at = Nanos::of(record.seen_at).unwrap_or_else(|| {
            flags |= SEEN_AT_PACKED;
            put_time(&mut packed, record.seen_at);
            Nanos::default()
        });
        put_varint(&mut packed, record.entities.len() as u64);
        for name in record.entities.iter() {
            put_varint(&mut packed, u64::from(names.acquire(name)));
        }
        if record.fingerprint.is_some() {
            flags |= HAS_FINGERPRINT;
        }
        if record.killed {
            flags |= KILLED;
        }
        Self {
            packed: packed.into_boxed_slice(),
            fingerprint: record.fingerprint.unwrap_or(0),
            headline_hash: record.headline_hash,
            body_hash: record.body_hash,
            story_time,
            seen_at,
            flags,
        }
    }

    fn reader(&self) -> Reader<'_> {
        Reader {
            bytes: &self.packed,
        }
    }

    /// The story id.
    pub fn id(&self) -> IdText<'_> {
        self.reader().id(self.flags)
    }

    /// The bare slug, if the story has one.
    pub fn slug(&self) -> Option<&str> {
        if self.flags & HAS_SLUG == 0 {
            return None;
        }
        let mut reader = self.reader();
        reader.id(self.flags);
        if self.flags & HAS_VERSION != 0 {
            reader.str();
        }
        Some(reader.str())
    }

    /// SimHash of the body.
    pub fn fingerprint(&self) -> Option<u64> {
        (self.flags & HAS_FINGERPRINT != 0).then_some(self.fingerprint)
    }

    /// The story's own time.
    pub fn story_time(&self) -> DateTime<Utc> {
        if self.flags & STORY_TIME_PACKED != 0 {
            self.walk(|_| {}).story_time
        } else {
            self.story_time.time()
        }
    }

    /// When it was processed.
    pub fn seen_at(&self) -> DateTime<Utc> {
        if self.flags & SEEN_AT_PACKED != 0 {
            self.walk(|_| {}).seen_at
        } else {
            self.seen_at.time()
        }
    }

    /// Reads all of `packed`, calling `on_name` with each entity name id.
    fn walk(&self, mut on_name: impl FnMut(NameId)) -> Unpacked<'_> {
        let mut reader = self.reader();
        let id = reader.id(self.flags);
        let version = (self.flags & HAS_VERSION != 0).then(|| reader.str());
        let slug = (self.flags & HAS_SLUG != 0).then(|| reader.str());
        let source = if self.flags & SOURCE_AS_TEXT != 0 {
            PackedSource::Text(reader.str())
        } else {
            PackedSource::Key {
                topic: reader.name_id(),
                partition: unzigzag(reader.varint()),
                offset: unzigzag(reader.varint()),
            }
        };
        // `put_time` wrote valid times, so these read them back.
        let version_created = (self.flags & VERSION_CREATED_PACKED != 0)
            .then(|| read_time(&mut reader))
            .flatten();
        let mut packed_time = |flag: u16, nanos: Nanos| {
            if self.flags & flag != 0 {
                read_time(&mut reader).unwrap_or(DateTime::<Utc>::MIN_UTC)
            } else {
                nanos.time()
            }
        };
        let story_time = packed_time(STORY_TIME_PACKED, self.story_time);
        let seen_at = packed_time(SEEN_AT_PACKED, self.seen_at);
        let version_created = if self.flags & VERSION_CREATED_IS_STORY_TIME != 0 {
            Some(story_time)
        } else {
            version_created
        };
        for _ in 0..reader.varint() {
            on_name(reader.name_id());
        }
        Unpacked {
            id,
            version,
            slug,
            source,
            version_created,
            story_time,
            seen_at,
        }
    }

    /// The record this entry was packed from.
    pub fn unpack(&self, names: &NameTable) -> StoryRecord {
        let mut entities = Vec::new();
        let fields = self.walk(|id| entities.push(names.text(id)));
        let source = match fields.source {
            PackedSource::Text(text) => text.to_string(),
            PackedSource::Key {
                topic,
                partition,
                offset,
            } => format!("{}/{partition}/{offset}", names.text(topic)),
        };
        StoryRecord {
            schema: STATE_SCHEMA.into(),
            id: fields.id.to_string(),
            version: fields.version.map(str::to_string),
            version_created: fields.version_created,
            story_time: fields.story_time,
            fingerprint: self.fingerprint(),
            headline_hash: self.headline_hash,
            body_hash: self.body_hash,
            slug: fields.slug.map(str::to_string),
            entities: NameList::from(entities),
            source,
            seen_at: fields.seen_at,
            killed: self.flags & KILLED != 0,
        }
    }

    /// Gives back the names this entry holds.
    pub fn release(self, names: &mut NameTable) {
        let source = self.walk(|id| names.release(id)).source;
        if let PackedSource::Key { topic, .. } = source {
            names.release(topic);
        }
    }

    /// Heap bytes of the packed part (for tests).
    #[cfg(test)]
    pub fn packed_len(&self) -> usize {
        self.packed.len()
    }
}

/// The packed fields [`Entry::walk`] reads.
struct Unpacked<'a> {
    id: IdText<'a>,
    version: Option<&'a str>,
    slug: Option<&'a str>,
    source: PackedSource<'a>,
    version_created: Option<DateTime<Utc>>,
    story_time: DateTime<Utc>,
    seen_at: DateTime<Utc>,
}

/// The source as packed: parts of a `topic/partition/offset` key, or a foreign text.
enum PackedSource<'a> {
    Key {
        topic: NameId,
        partition: i64,
        offset: i64,
    },
    Text(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn record() -> StoryRecord {
        let t = Utc.with_ymd_and_hms(2022, 8, 16, 9, 30, 0).unwrap();
        StoryRecord {
            schema: STATE_SCHEMA.into(),
            id: "reuters:tag:reuters.com,2022:newsml_L1N2ZS0001".into(),
            version: Some("3".into()),
            version_created: Some(t),
            story_time: t,
            fingerprint: Some(0xDEAD_BEEF_0123_4567),
            headline_hash: 11,
            body_hash: u64::MAX,
            slug: Some("UKRAINE-CRISIS/KOREA".into()),
            entities: NameList::from(vec!["Seoul", "Kim Jong-un", "Seoul", "Île-de-France"]),
            source: "raw-stories/3/123456789".into(),
            seen_at: t + chrono::Duration::nanoseconds(123_456_789),
            killed: true,
        }
    }

    fn round_trip(record: &StoryRecord) -> usize {
        let mut names = NameTable::default();
        let entry = Entry::pack(record, &mut names);
        assert_eq!(&entry.unpack(&names), record);
        assert_eq!(&*entry.id(), record.id);
        assert_eq!(entry.story_time(), record.story_time);
        assert_eq!(entry.seen_at(), record.seen_at);
        assert_eq!(entry.slug(), record.slug.as_deref());
        assert_eq!(entry.fingerprint(), record.fingerprint);
        let packed = entry.packed_len();
        entry.release(&mut names);
        assert_eq!(names.len(), 0, "releasing gives back every name it held");
        packed
    }

    #[test]
    fn unpacks_to_the_record_packed() {
        let base = record();
        let packed = round_trip(&base);
        assert!(packed < base.id.len() + 40, "{packed} bytes");

        let mut bare = base.clone();
        bare.version = None;
        bare.version_created = None;
        bare.fingerprint = None;
        bare.slug = None;
        bare.entities = NameList::default();
        bare.killed = false;
        bare.id = String::new();
        round_trip(&bare);

        let mut odd = base.clone();
        // Another version-created time, down to the nanosecond and in a leap second.
        odd.version_created = Some(
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
                .unwrap()
                .and_utc(),
        );
        odd.story_time = DateTime::from_timestamp(-62_000_000_000, 7).unwrap();
        odd.slug = Some(String::new());
        odd.version = Some("v2 — révisé".into());
        round_trip(&odd);
    }

    #[test]
    fn content_ids_take_their_16_bytes_and_lookalikes_stay_text() {
        let content = format!("copydesk:{}", "0123456789abcdef".repeat(2));
        let mut r = record();
        r.id = content.clone();
        let packed = round_trip(&r);
        let mut text = record();
        text.id = "x".repeat(content.len());
        assert_eq!(
            round_trip(&text),
            packed + 42 - 16,
            "41 bytes and a length byte vs 16"
        );
        for lookalike in [
            format!("copydesk:{}", "0123456789ABCDEF".repeat(2)),
            format!("copydesk:{}", &"0123456789abcdef".repeat(2)[1..]),
            format!("copydesk:{}0", "0123456789abcdef".repeat(2)),
            format!("copydesk-{}", "0123456789abcdef".repeat(2)),
            format!("copydesk:{}g", &"0123456789abcdef".repeat(2)[1..]),
            "copydesk:".to_string(),
        ] {
            assert_eq!(content_id_bytes(&lookalike), None, "{lookalike}");
            r.id = lookalike;
            round_trip(&r);
        }
    }

    #[test]
    fn times_outside_nanos_are_packed_and_come_back() {
        let mut r = record();
        let plain = round_trip(&r);
        // before 1677 and in a leap second: 12 bytes each in `packed`
        r.story_time = DateTime::from_timestamp(-10_000_000_000, 5).unwrap();
        // still the story time: read back from `packed` too
        r.version_created = Some(r.story_time);
        r.seen_at = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_000_000_001)
            .unwrap()
            .and_utc();
        assert_eq!(round_trip(&r), plain + 24);
        let mut names = NameTable::default();
        let entry = Entry::pack(&r, &mut names);
        assert_eq!(entry.story_time(), r.story_time);
        assert_eq!(entry.seen_at(), r.seen_at);
        entry.release(&mut names);
    }

    #[test]
    fn sources_that_do_not_format_back_are_kept_as_text() {
        for source in [
            "raw/-1/-9",
            "a/b/c/0/1",
            "/0/0",
            "raw/01/9",
            "raw/1/+9",
            "raw/1",
            "",
            "raw/99999999999/1",
            "raw/0/-9223372036854775808",
        ] {
            let mut r = record();
            r.source = source.into();
            round_trip(&r);
        }
        assert_eq!(split_source("raw/01/9"), None);
        assert_eq!(split_source("a/b/3/4"), Some(("a/b", 3, 4)));
    }

    #[test]
    fn names_are_shared_between_entries() {
        let mut names = NameTable::default();
        let a = Entry::pack(&record(), &mut names);
        let mut other = record();
        other.entities = NameList::from(vec!["Kim Jong-un", "Moscow"]);
        let b = Entry::pack(&other, &mut names);
        // raw-stories, Seoul, Kim Jong-un, Île-de-France, Moscow
        assert_eq!(names.len(), 5);
        a.release(&mut names);
        assert_eq!(names.len(), 3);
        assert_eq!(b.unpack(&names), other);
        b.release(&mut names);
        assert_eq!(names.len(), 0);
    }

    #[test]
    fn varints_round_trip() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(Reader { bytes: &out }.varint(), value);
        }
        for value in [0, -1, 1, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(value)), value);
        }
    }

    fn any_time() -> impl proptest::strategy::Strategy<Value = DateTime<Utc>> {
        use proptest::prelude::*;
        let (min, max) = (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC);
        prop_oneof![
            (min.timestamp()..=max.timestamp(), 0..1_000_000_000u32)
                .prop_map(move |(s, n)| DateTime::from_timestamp(s, n).unwrap_or(min)),
            // A leap second: chrono holds one only in a :59 second.
            (
                -100_000_000i64..100_000_000,
                1_000_000_000..2_000_000_000u32
            )
                .prop_map(move |(minute, n)| DateTime::from_timestamp(
                    minute * 60 + 59,
                    n
                )
                .unwrap_or(min)),
            Just(min),
            Just(max),
        ]
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// Any record — empty, long and non-ASCII strings, any times, any source — comes
        /// back exactly, and gives back every name it interned.
        #[test]
        fn any_record_round_trips(
            id in proptest::prop_oneof![".{0,80}", "copydesk:[0-9a-f]{32}", "copydesk:[0-9a-fA-F]{30,34}"],
            version in proptest::option::of(".{0,20}"),
            slug in proptest::option::of(".{0,20}"),
            names in proptest::collection::vec("[a-zé\\n ]{0,6}", 0..70),
            source in proptest::prop_oneof![
                ".{0,30}",
                (".{0,10}", proptest::prelude::any::<i32>(), proptest::prelude::any::<i64>())
                    .prop_map(|(t, p, o)| format!("{t}/{p}/{o}")),
            ],
            (story_time, seen_at, other_time) in (any_time(), any_time(), any_time()),
            version_created in 0..3u8,
            fingerprint in proptest::option::of(proptest::prelude::any::<u64>()),
            (headline_hash, body_hash, killed) in proptest::prelude::any::<(u64, u64, bool)>(),
        ) {
            let record = StoryRecord {
                schema: STATE_SCHEMA.into(),
                id,
                version,
                version_created: [None, Some(story_time), Some(other_time)][usize::from(version_created)],
                story_time,
                fingerprint,
                headline_hash,
                body_hash,
                slug,
                entities: NameList::from(names),
                source,
                seen_at,
                killed,
            };
            round_trip(&record);
        }
    }
}
