//! Keywords: the story's keyphrases and the names it is about, best first, with scores.
//!
//! How: the headline and body blocks are split into words; stopwords (function words,
//! reporting verbs, time and number words), lower-case words ending in `-ed` or `-ly`,
//! numbers, possessives and punctuation break the text into runs, and every n-gram of one
//! to three words inside a run is a candidate (noun-phrase-like without a tagger). Case and
//! plural variants share one key (`Ports` = `port`). A candidate's score is
//!
//! ```text
//! weighted frequency × rarity × (1 + 0.5 · (words − 1))
//! ```
//!
//! where each occurrence counts 3 in the headline, 2 in the lede, 1.5 in a crosshead and 1
//! elsewhere, and rarity is the mean over its words of `(7.2 − zipf) / 4.5` clamped to
//! 0.05–1, zipf taken from the shared English word table ([`crate::normalise::Lexicon`],
//! PyPI `wordfreq`); words the table does not know count as rare. Phrases of two or three
//! words need a weighted frequency of at least 2 (twice in the body, or once in the lede or
//! headline). A sub-phrase that occurs mostly inside a longer candidate is dropped in its
//! favour. Named entities found by `enrich::Entities` are candidates too, scored the same
//! way from their mention counts; an entity absorbs the candidates that are part of its
//! name ("Putin" → "Vladimir Putin"). The best `max` candidates that do not contain one
//! another are kept, scores scaled so that the best is 1.0.

use std::hash::BuildHasherDefault;
use std::sync::LazyLock;

use crate::hash::IdMap;
use crate::normalise::Lexicon;
use crate::pipeline::{Stage, StageError};
use crate::story::{BlockKind, Entity, EntityKind, Keyword, KeywordKind, Story};

const HEADLINE_WEIGHT: f32 = 3.0;
const LEDE_WEIGHT: f32 = 2.0;
const CROSSHEAD_WEIGHT: f32 = 1.5;
const BODY_WEIGHT: f32 = 1.0;
/// Multi-word candidates need at least this many occurrences.
const MIN_PHRASE_COUNT: u32 = 2;
/// A sub-phrase is dropped when its frequency is below this multiple of the longer one's.
const SUBSUMED_RATIO: f32 = 1.3;
/// Candidates per wanted keyword whose rarity is computed first (the best by frequency).
const RANKED_PER_KEYWORD: usize = 4;
/// Candidates per wanted keyword that must keep their place: any other candidate is
/// looked at only if its upper-bound score beats the last of them. (Some top candidates
/// are skipped as parts of others, so this is more than one.)
const FLOOR_PER_KEYWORD: usize = 2;
/// Score factor for a candidate that occurs only once.
const SINGLE_MENTION_FACTOR: f32 = 0.5;
/// Keywords scoring below this share of the best are not reported.
const MIN_RELATIVE_SCORE: f32 = 0.05;
const MAX_WORDS: usize = 3;

mod words;

use words::*;

/// A candidate keyword.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    /// Keys of its words.
    keys: [u64; MAX_WORDS],
    len: u8,
    /// Weighted frequency.
    freq: f32,
    /// Plain count.
    count: u32,
    /// Mean rarity of its words; computed only for candidates that may rank.
    rarity: f32,
    /// (zone, start, end) of the preferred spelling: first non-initial body occurrence,
    /// else the first occurrence.
    at: (u32, u32, u32),
    /// 2 = body, not sentence-initial; 1 = body, sentence-initial; 0 = headline.
    at_quality: u8,
    /// Whether the preferred occurrence starts a sentence (or the headline).
    at_initial: bool,
    suppressed: bool,
    entity: Option<usize>,
}

impl Candidate {
    fn keys(&self) -> &[u64] {
        &self.keys[..usize::from(self.len)]
    }

    /// Whether it survives the counting: a phrase said once is noise.
    fn kept(&self) -> bool {
        self.len == 1 || self.count >= MIN_PHRASE_COUNT
    }

    /// The score with its rarity as it is (1.0 before it is computed: an upper bound).
    fn score(&self) -> f32 {
        // Longer phrases are rarer by count; names are not more important for being long.
        let words = if self.entity.is_some() { 1 } else { self.len };
        // Said once, it is rarely what the story is about.
        let once = if self.count < 2 {
            SINGLE_MENTION_FACTOR
        } else {
            1.0
        };
        self.freq * self.rarity * once * (1.0 + 0.5 * f32::from(words.saturating_sub(1)))
    }
}

/// A candidate in the ranking: what the ranking order compares, and its index in
/// [`Candidates::list`]. Sorting these small records moves less than sorting the candidates
/// and gives the same permutation (the same comparisons).
#[derive(Debug, Clone, Copy)]
struct Ranked {
    /// [`Candidate::score`] as [`rank_of`] gives it, as the score is now.
    rank: i32,
    /// [`Candidate::at`].
    at: (u32, u32, u32),
    /// The entity's index for an entity, else 0. Only entities share an `at` ((0, 0, 0);
    /// a phrase's span is never empty), so this breaks ties as `Candidate::entity` would.
    entity: usize,
    index: usize,
}

impl Ranked {
    fn new(c: &Candidate, index: usize) -> Self {
        Self {
            rank: rank_of(c.score()),
            at: c.at,
            entity: c.entity.unwrap_or(0),
            index,
        }
    }

    /// Best score first (as `b.score().total_cmp(&a.score())`), then first place, then
    /// first entity.
    fn order(a: &Self, b: &Self) -> std::cmp::Ordering {
        b.rank
            .cmp(&a.rank)
            .then(a.at.cmp(&b.at))
            .then(a.entity.cmp(&b.entity))
    }
}

/// A score as an integer in [`f32::total_cmp`] order (the same transformation of the bits):
/// comparing two ranks is comparing the scores.
fn rank_of(score: f32) -> i32 {
    // reinterpreting the bits is the point
    let bits = score.to_bits() as i32;
    bits ^ ((((bits >> 31) as u32) >> 1) as i32)
}

/// Rarity of a word: `((7.2 − zipf) / 4.5)²` clamped to 0.01–1 (squared so that specific
/// words outrank everyday ones); 1 for words the table does not know.
fn rarity_of(zipf: Option<u16>) -> f32 {
    zipf.map_or(1.0, |z| {
        let r = ((7.2 - f32::from(z) / 100.0) / 4.5).clamp(0.1, 1.0);
        r * r
    })
}

/// The candidates of a story: a vector, and a map from key to index in it. The map's
/// entries stay small (no 80-byte candidates moved into and probed in it); its iteration
/// order, which is the order candidates go into ranking (and ties in the rarity memo
/// depend on), is that of a map of the candidates themselves: the same keys inserted in
/// the same order into a table of the same capacity.
struct Candidates {
    index: IdMap<usize>,
    list: Vec<Candidate>,
}

impl Candidates {
    fn with_capacity(n: usize) -> Self {
        Self {
            index: IdMap::with_capacity_and_hasher(n, BuildHasherDefault::default()),
            list: Vec::with_capacity(n),
        }
    }

    /// Counts one occurrence of the phrase `words` (key `key`) with zone weight `weight`;
    /// returns the candidate's index.
    // two call sites, one of them run for every content word
    #[inline(always)]
    fn add(&mut self, key: u64, words: &[Word], weight: f32) -> usize {
        let (first, last) = (words[0], words[words.len() - 1]);
        let quality = match (first.zone, first.initial) {
            (0, _) => 0,
            (_, true) => 1,
            (_, false) => 2,
        };
        let at = (first.zone, first.start, last.end);
        let list = &mut self.list;
        let i = *self.index.entry(key).or_insert_with(|| {
            let mut keys = [0u64; MAX_WORDS];
            for (k, w) in keys.iter_mut().zip(words) {
                *k = w.key;
            }
            list.push(Candidate {
                keys,
                // at most MAX_WORDS
                len: words.len() as u8,
                freq: 0.0,
                count: 0,
                rarity: 1.0,
                at,
                at_quality: quality,
                at_initial: first.initial,
                suppressed: false,
                entity: None,
            });
            list.len() - 1
        });
        let c = &mut self.list[i];
        c.freq += weight;
        c.count += 1;
        if quality > c.at_quality {
            c.at = at;
            c.at_quality = quality;
            c.at_initial = first.initial;
        }
        i
    }

    /// The candidate with key `key` if it is [`Candidate::kept`].
    fn get_mut(&mut self, key: u64) -> Option<&mut Candidate> {
        let &i = self.index.get(&key)?;
        self.list.get_mut(i).filter(|c| c.kept())
    }
}

/// Whether `inner` is a contiguous part of `outer`.
fn contains(outer: &[u64], inner: &[u64]) -> bool {
    inner.len() <= outer.len() && outer.windows(inner.len()).any(|w| w == inner)
}

/// The keywords stage.
#[derive(Debug, Clone, Copy)]
pub struct Keywords {
    max: usize,
    lexicon: &'static Lexicon,
}

impl Keywords {
    /// A stage keeping at most `max` keywords.
    pub fn new(max: usize) -> Self {
        LazyLock::force(&STOP);
        Self {
            max,
            lexicon: Lexicon::get(),
        }
    }

    /// Extracts the keywords of a story (entities from `story.enrichment.entities`).
    pub fn extract(&self, story: &Story) -> Vec<Keyword> {
        if self.max == 0 {
            return Vec::new();
        }
        // Zones: 0 = headline, 1.. = body blocks.
        let mut zones: Vec<(&str, f32)> = Vec::with_capacity(story.body.len() + 1);
        zones.push((story.headline.as_deref().unwrap_or(""), HEADLINE_WEIGHT));
        let mut lede_done = false;
        for block in &story.body {
            if super::summary::is_caption(&block.text) {
                continue;
            }
            let w = match block.kind {
                BlockKind::Crosshead => CROSSHEAD_WEIGHT,
                BlockKind::Paragraph if !lede_done => {
                    lede_done = true;
                    LEDE_WEIGHT
                }
                _ => BODY_WEIGHT,
            };
            zones.push((&block.text, w));
        }
        let mut buf = Vec::with_capacity(32);
        let bytes: usize = zones.iter().map(|(t, _)| t.len()).sum();
        let mut ws: Vec<Word> = Vec::with_capacity(bytes / 5 + 8);
        // all the words, function words too: the candidate map's capacity (see below)
        let mut n_words = 0;
        for (z, (text, _)) in zones.iter().enumerate() {
            // zones are few; a u32 index cannot overflow
            n_words += words(text, z as u32, false, &mut ws, &mut buf);
            if let Some(last) = ws.last_mut() {
                last.break_after = true; // phrases end with the zone
            }
        }
        // Sized by all the words, as it always was: the capacity decides the map's layout,
        // and so its iteration order (see `Candidates`).
        let mut cands = Candidates::with_capacity(n_words + 16);
        // Pass 1: single words (`ws` holds content words only); each one's candidate, by
        // index.
        debug_assert!(ws.iter().all(|w| w.content));
        let mut single = Vec::with_capacity(ws.len());
        for w in &ws {
            let weight = zones[w.zone as usize].1;
            single.push(cands.add(w.key, &[*w], weight));
        }
        // Pass 2: phrases of two and three words, only where every word occurs at least
        // MIN_PHRASE_COUNT times (otherwise the phrase cannot either).
        let repeated: Vec<bool> = single
            .iter()
            .map(|&c| {
                cands
                    .list
                    .get(c)
                    .is_some_and(|c| c.count >= MIN_PHRASE_COUNT)
            })
            .collect();
        for i in 0..ws.len() {
            let mut key = ws[i].key;
            if !repeated[i] {
                continue;
            }
            for n in 2..=MAX_WORDS {
                let last = i + n - 1;
                if last >= ws.len() || ws[last - 1].break_after || !repeated[last] {
                    break;
                }
                key = combine(key, ws[last].key);
                let weight = zones[ws[i].zone as usize].1;
                cands.add(key, &ws[i..=last], weight);
            }
        }
        // Rare phrases are noise (not `kept`); sub-phrases mostly inside a longer phrase
        // give way to it.
        let longer: Vec<([u64; MAX_WORDS], u8, f32)> = cands
            .list
            .iter()
            .filter(|c| c.len > 1 && c.kept())
            .map(|c| (c.keys, c.len, c.freq))
            .collect();
        for (keys, len, freq) in &longer {
            let keys = &keys[..usize::from(*len)];
            for n in 1..keys.len() {
                for sub in keys.windows(n) {
                    let k = sub.iter().skip(1).fold(sub[0], |h, x| combine(h, *x));
                    if let Some(c) = cands.get_mut(k) {
                        if c.freq < SUBSUMED_RATIO * freq {
                            c.suppressed = true;
                        }
                    }
                }
            }
        }
        // Entities: candidates of their own. One spelled exactly like a phrase candidate
        // takes its place; the parts of a person's name ("Putin") give way to the full name
        // (the entity's mention count already includes them).
        let entities: Vec<&Entity> = story
            .enrichment
            .entities
            .iter()
            .filter(|e| e.named)
            .collect();
        let mut all: Vec<Ranked> = Vec::with_capacity(cands.list.len() + entities.len());
        let mut name_words: Vec<Word> = Vec::new();
        for (idx, e) in entities.iter().enumerate() {
            name_words.clear();
            words(&e.name, 0, true, &mut name_words, &mut buf);
            let keys: Vec<u64> = name_words.iter().map(|w| w.key).collect();
            if keys.is_empty() {
                continue;
            }
            let mut freq = e.mention_count as f32
                + if e.in_headline {
                    HEADLINE_WEIGHT - 1.0
                } else {
                    0.0
                };
            let full = keys.iter().skip(1).fold(keys[0], |h, x| combine(h, *x));
            let mut count = u32::try_from(e.mention_count).unwrap_or(u32::MAX);
            if let Some(c) = cands.get_mut(full) {
                freq = freq.max(c.freq);
                count = count.max(c.count);
                c.suppressed = true;
            }
            if e.kind == EntityKind::Person {
                for n in 1..keys.len().min(MAX_WORDS + 1) {
                    for sub in keys.windows(n) {
                        let k = sub.iter().skip(1).fold(sub[0], |h, x| combine(h, *x));
                        if let Some(c) = cands.get_mut(k) {
                            c.suppressed = true;
                        }
                    }
                }
            }
            let mut ck = [0u64; MAX_WORDS];
            let len = keys.len().min(MAX_WORDS);
            ck[..len].copy_from_slice(&keys[..len]);
            // after the phrases in the list, and not in its map: no phrase finds one
            let c = Candidate {
                keys: ck,
                len: len as u8,
                freq,
                count,
                rarity: 1.0,
                at: (0, 0, 0),
                at_quality: 3,
                at_initial: false,
                suppressed: false,
                entity: Some(idx),
            };
            all.push(Ranked::new(&c, cands.list.len()));
            cands.list.push(c);
        }
        // in the map's order (see `Candidates`)
        all.extend(cands.index.values().filter_map(|&i| {
            let c = cands.list.get(i)?;
            (c.kept() && !c.suppressed).then(|| Ranked::new(c, i))
        }));
        // Rarity needs a word-table lookup per word: compute it only for candidates that
        // can still rank. Scores with rarity 1.0 are upper bounds, so once `wanted`
        // candidates have real scores, any candidate whose bound is below the lowest of
        // them cannot displace them.
        let wanted = self.max.saturating_mul(RANKED_PER_KEYWORD).min(all.len());
        if wanted == 0 {
            return Vec::new();
        }
        let list = &mut cands.list;
        // a word or two per candidate whose rarity is computed: no need to grow
        let mut memo: IdMap<f32> =
            IdMap::with_capacity_and_hasher(2 * wanted, BuildHasherDefault::default());
        let (head, tail) = if all.len() > wanted {
            all.select_nth_unstable_by(wanted - 1, Ranked::order);
            let (head, tail) = all.split_at_mut(wanted);
            (head, tail)
        } else {
            (&mut all[..], &mut [][..])
        };
        // the rarity of a candidate into it, and its new rank
        let rate = |list: &mut [Candidate], memo: &mut IdMap<f32>, r: &mut Ranked| {
            let rarity = self.candidate_rarity(&list[r.index], &zones, &entities, memo);
            list[r.index].rarity = rarity;
            r.rank = rank_of(list[r.index].score());
        };
        for r in head.iter_mut() {
            rate(list, &mut memo, r);
        }
        // the bar: the score of the `max`·FLOOR_PER_KEYWORD-th best candidate computed so far
        head.sort_unstable_by(Ranked::order);
        let floor = head
            .get(self.max.saturating_mul(FLOOR_PER_KEYWORD).min(head.len()) - 1)
            .map_or(0.0, |r| list[r.index].score());
        let mut ranked: Vec<Ranked> = head.to_vec();
        for r in tail.iter_mut() {
            if list[r.index].score() > floor {
                rate(list, &mut memo, r);
                ranked.push(*r);
            }
        }
        ranked.sort_unstable_by(Ranked::order);
        let ranked: Vec<&Candidate> = ranked.iter().map(|r| &list[r.index]).collect();
        let best = ranked.first().map_or(0.0, |c| c.score());
        if best <= 0.0 {
            return Vec::new();
        }
        let mut chosen: Vec<&Candidate> = Vec::with_capacity(self.max);
        for &c in &ranked {
            if chosen.len() >= self.max || c.score() < MIN_RELATIVE_SCORE * best {
                break;
            }
            if chosen
                .iter()
                .any(|k| contains(k.keys(), c.keys()) || contains(c.keys(), k.keys()))
            {
                continue;
            }
            chosen.push(c);
        }
        chosen
            .into_iter()
            .map(|c| {
                let (text, kind) = match c.entity {
                    Some(i) => (entities[i].name.clone(), KeywordKind::Entity),
                    None => (self.spelling(c, &zones), KeywordKind::Phrase),
                };
                Keyword {
                    text,
                    score: (f64::from(c.score() / best) * 1000.0).round() / 1000.0,
                    count: c.count as usize,
                    kind,
                }
            })
            .collect()
    }

    /// Mean rarity of a candidate's words (entity names: at least 0.6, names are specific).
    fn candidate_rarity(
        &self,
        c: &Candidate,
        zones: &[(&str, f32)],
        entities: &[&Entity],
        memo: &mut IdMap<f32>,
    ) -> f32 {
        let mut sum = 0.0;
        let mut n = 0u32;
        let mut add = |word: &str, k: u64| {
            sum += *memo.entry(k).or_insert_with(|| self.rarity(word));
            n += 1;
        };
        match c.entity {
            Some(i) => {
                let mut buf = Vec::new();
                for word in entities[i]
                    .name
                    .split(|ch: char| ch.is_whitespace())
                    .filter(|w| !w.is_empty())
                {
                    let k = if word.is_ascii() {
                        key(word.as_bytes())
                    } else {
                        lower(word, &mut buf);
                        key(&buf)
                    };
                    add(word, k);
                }
            }
            None => {
                let (z, start, end) = c.at;
                let text = zones
                    .get(z as usize)
                    .and_then(|(t, _)| t.get(start as usize..end as usize))
                    .unwrap_or("");
                // The words of a phrase are separated by whitespace only (anything else
                // ends a phrase in `words`), one per key of the candidate: their keys need
                // not be computed again. Whitespace inside ASCII text is ASCII whitespace.
                if text.is_ascii() {
                    for (word, &k) in text.split_ascii_whitespace().zip(c.keys()) {
                        add(word, k);
                    }
                } else {
                    for (word, &k) in text
                        .split(|ch: char| ch.is_whitespace())
                        .filter(|w| !w.is_empty())
                        .zip(c.keys())
                    {
                        add(word, k);
                    }
                }
                debug_assert_eq!(n, u32::from(c.len), "{text}");
            }
        }
        let mean = if n == 0 { 1.0 } else { sum / n as f32 };
        if c.entity.is_some() {
            mean.max(0.6)
        } else {
            mean
        }
    }

    /// Rarity of a word; a hyphenated compound the table does not know ("north-eastern")
    /// is as rare as its parts on average.
    fn rarity(&self, word: &str) -> f32 {
        match self.lexicon.zipf(word) {
            Some(z) => rarity_of(Some(z)),
            None if word.contains('-') => {
                let (sum, n) = word
                    .split('-')
                    .filter(|p| !p.is_empty())
                    .fold((0.0, 0u32), |(s, n), p| {
                        (s + rarity_of(self.lexicon.zipf(p)), n + 1)
                    });
                if n == 0 {
                    1.0
                } else {
                    sum / n as f32
                }
            }
            None => 1.0,
        }
    }

    /// The phrase as written; a common word capitalised only because it starts a sentence
    /// or the headline is lower-cased ("Traffic jams" → "traffic jams").
    fn spelling(&self, c: &Candidate, zones: &[(&str, f32)]) -> String {
        let (z, start, end) = c.at;
        let text = zones
            .get(z as usize)
            .and_then(|(t, _)| t.get(start as usize..end as usize))
            .unwrap_or("");
        if !c.at_initial {
            return text.to_string();
        }
        let first = text.split([' ', '-']).next().unwrap_or("");
        let common = self.lexicon.zipf(first).is_some_and(|z| z >= 450);
        let rest_lower = first.chars().skip(1).all(|ch| !ch.is_uppercase());
        let mut chars = text.chars();
        match chars.next() {
            Some(f) if common && rest_lower && f.is_uppercase() => {
                f.to_lowercase().chain(chars).collect()
            }
            _ => text.to_string(),
        }
    }
}

impl Default for Keywords {
    fn default() -> Self {
        Self::new(10)
    }
}

impl Stage for Keywords {
    fn name(&self) -> &'static str {
        "keywords"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        story.enrichment.keywords = self.extract(&story);
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::{Block, Mention};

    fn story(headline: &str, body: &[&str]) -> Story {
        Story {
            headline: Some(headline.into()),
            body: body.iter().map(|p| Block::paragraph(*p)).collect(),
            ..Story::default()
        }
    }

    fn texts(keywords: &[Keyword]) -> Vec<&str> {
        keywords.iter().map(|k| k.text.as_str()).collect()
    }

    fn entity(kind: EntityKind, name: &str, mentions: usize, in_headline: bool) -> Entity {
        Entity {
            kind,
            name: name.into(),
            mentions: vec![Mention { start: 0, end: 0 }; mentions],
            mention_count: mentions,
            in_headline,
            named: true,
            relevance: 50,
            confidence: 80,
            roles: Vec::new(),
            affiliation: None,
            geonames_id: None,
        }
    }

    proptest::proptest! {
        /// Ranks compare as the scores' `total_cmp`.
        #[test]
        fn ranks_compare_as_total_cmp(a in proptest::num::u32::ANY, b in proptest::num::u32::ANY) {
            let (a, b) = (f32::from_bits(a), f32::from_bits(b));
            proptest::prop_assert_eq!(rank_of(a).cmp(&rank_of(b)), a.total_cmp(&b));
        }

        /// Selecting and sorting `Ranked` records permutes them as selecting and sorting the
        /// candidates themselves did (the rarity memo depends on the order).
        #[test]
        fn ranked_records_permute_as_candidates(
            specs in proptest::collection::vec(
                (0u8..40, 1u32..4, 1u8..4, 1u8..=10, proptest::bool::weighted(0.2)),
                1..60,
            ),
            nth in 0usize..60,
        ) {
            let list: Vec<Candidate> = specs
                .iter()
                .enumerate()
                .map(|(i, &(freq, count, len, rarity, entity))| Candidate {
                    keys: [0; MAX_WORDS],
                    len,
                    freq: f32::from(freq) / 4.0,
                    count,
                    rarity: f32::from(rarity) / 10.0,
                    // phrases: distinct non-empty spans; entities: none
                    at: if entity { (0, 0, 0) } else { (i as u32 % 3, i as u32, i as u32 + 1) },
                    at_quality: 2,
                    at_initial: false,
                    suppressed: false,
                    entity: entity.then_some(i),
                })
                .collect();
            let nth = nth % list.len();
            let order = |a: &Candidate, b: &Candidate| {
                b.score()
                    .total_cmp(&a.score())
                    .then(a.at.cmp(&b.at))
                    .then(a.entity.cmp(&b.entity))
            };
            let mut old = list.clone();
            old.select_nth_unstable_by(nth, order);
            let old_selected: Vec<_> = old.iter().map(|c| (c.at, c.entity)).collect();
            old[..=nth].sort_unstable_by(order);
            let old_sorted: Vec<_> = old.iter().map(|c| (c.at, c.entity)).collect();
            let mut new: Vec<Ranked> =
                list.iter().enumerate().map(|(i, c)| Ranked::new(c, i)).collect();
            new.select_nth_unstable_by(nth, Ranked::order);
            let at = |r: &Ranked| (list[r.index].at, list[r.index].entity);
            proptest::prop_assert_eq!(new.iter().map(at).collect::<Vec<_>>(), old_selected);
            new[..=nth].sort_unstable_by(Ranked::order);
            proptest::prop_assert_eq!(new.iter().map(at).collect::<Vec<_>>(), old_sorted);
        }

        /// A map of indices iterates in the order a map of candidates did, given the same
        /// capacity, keys and insertions, and after the same removals.
        #[test]
        fn candidate_index_iterates_as_a_map_of_candidates(
            names in proptest::collection::vec("[a-f]{1,3}", 0..300),
            extra_capacity in 0usize..200,
        ) {
            let capacity = names.len() / 2 + extra_capacity + 16;
            let mut old: IdMap<Candidate> =
                IdMap::with_capacity_and_hasher(capacity, BuildHasherDefault::default());
            let mut new = Candidates::with_capacity(capacity);
            let word = |k: u64| Word {
                start: 0,
                end: 1,
                zone: 1,
                key: k,
                content: true,
                break_after: false,
                initial: false,
            };
            for name in &names {
                let k = key(name.as_bytes());
                let w = word(k);
                // a phrase of one or two words, as `len` decides what is kept
                let words = if name.len() == 3 { vec![w, w] } else { vec![w] };
                new.add(k, &words, 1.0);
                old.entry(k)
                    .or_insert(Candidate {
                        count: 0,
                        len: words.len() as u8,
                        ..new.list[new.index[&k]]
                    })
                    .count += 1;
            }
            old.retain(|_, c| c.kept());
            let old_keys: Vec<u64> = old.keys().copied().collect();
            let new_keys: Vec<u64> = new
                .index
                .iter()
                .filter(|(_, &i)| new.list[i].kept())
                .map(|(&k, _)| k)
                .collect();
            proptest::prop_assert_eq!(new_keys, old_keys);
        }
    }

    #[test]
    fn repeated_specific_phrases_rank_first() {
        let s = story(
            "Metro workers strike over privatisation",
            &[
                "Metro workers walked out on Tuesday over the planned privatisation of three lines.",
                "The metro workers' union said privatisation would cost jobs.",
                "Commuters queued for buses as the metro strike went on.",
                "The union said the privatisation plan had to be dropped.",
            ],
        );
        let got = Keywords::new(5).extract(&s);
        let t = texts(&got);
        assert!(t.contains(&"privatisation"), "{t:?}");
        assert!(t.iter().any(|k| k.starts_with("metro")), "{t:?}");
        assert_eq!(got[0].score, 1.0);
        assert!(got.windows(2).all(|w| w[0].score >= w[1].score), "{got:?}");
        assert!(!t.contains(&"said") && !t.contains(&"Tuesday"), "{t:?}");
        assert!(got.len() <= 5);
    }

    #[test]
    fn entities_replace_their_parts_and_variants_merge() {
        let mut s = story(
            "Putin writes to Kim",
            &[
                "Vladimir Putin wrote to Kim Jong-un about bilateral relations.",
                "Putin said bilateral relations would grow. Kim replied.",
                "Bilateral relations were forged in war, Putin said.",
            ],
        );
        s.enrichment.entities = vec![
            entity(EntityKind::Person, "Vladimir Putin", 4, true),
            entity(EntityKind::Person, "Kim Jong-un", 3, true),
        ];
        let got = Keywords::new(10).extract(&s);
        let t = texts(&got);
        assert!(t.contains(&"Vladimir Putin"), "{t:?}");
        assert!(!t.contains(&"Putin"), "{t:?}");
        assert!(t.contains(&"bilateral relations"), "{t:?}");
        // "Bilateral relations" at a sentence start is the same keyword
        assert_eq!(
            t.iter()
                .filter(|k| k.to_lowercase() == "bilateral relations")
                .count(),
            1
        );
        let putin = got
            .iter()
            .find(|k| k.text == "Vladimir Putin")
            .expect("Putin");
        assert_eq!(putin.kind, KeywordKind::Entity);
    }

    #[test]
    fn empty_and_zero_max() {
        assert!(Keywords::new(10).extract(&Story::default()).is_empty());
        let s = story("Metro strike", &["The metro strike goes on."]);
        assert!(Keywords::new(0).extract(&s).is_empty());
    }

    /// Regression: a photo credit left in the body ("… Image: Nick Moreau.") made the
    /// photographer's name and "Image" top keywords.
    #[test]
    fn captions_are_not_keywords() {
        let s = story(
            "Fans gather for comic convention",
            &[
                "Thousands of comic fans gathered at the convention centre.",
                "The convention floor shortly after opening. Image: Nick Moreau.",
                "Cosplay fans filled the convention halls with costumes.",
                "A group of cosplay fans posed for photos. Image: Nick Moreau.",
            ],
        );
        let t = texts(&Keywords::new(10).extract(&s)).join("|");
        assert!(!t.contains("Image") && !t.contains("Moreau"), "{t}");
    }
}
