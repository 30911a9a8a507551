//! Repair: machine-translation damage, handled conservatively.
//!
//! - **Run-together words** are split only when the whole token is not a known word and
//!   the split is backed by evidence: a case change (`ANDseparate` → `and separate`,
//!   `ofItaquera` → `of Itaquera`) or two halves of which one is a closed-class "glue" word
//!   (conjunction, article, preposition, auxiliary, number) and the other a known word
//!   (`andraised` → `and raised`, `eightyears` → `eight years`). A capitalised token may also
//!   split into a known or name-like stem plus a number word (`Luhansktwo` →
//!   `Luhansk two`, `Kharkivthree` → `Kharkiv three`). Productive prefixes (`over`, `under`,
//!   `for`, …) are not glue, so rare compounds are left alone. Inside direct quotes only
//!   whitespace may change, so there the split inserts the space and nothing else
//!   (`AND separate`, not `and separate`); letters inside quotes are never touched.
//! - **Doubled words** (`Threat threats`, `Water water`) are flagged (`doubled_word`), not
//!   changed: which of the two was meant is an editor's call. Legitimate doubles (`had
//!   had`, `that that`) are ignored.
//! - **Likely garbles**: lower-case words of four letters or more that are not in the word
//!   table, grouped with neighbours joined by short words (`cortine of hiron`), are
//!   flagged (`likely_garble`).
//!
//! Word knowledge comes from [`Lexicon`] (PyPI `wordfreq` 3.1.1, CC BY-SA 4.0).
//!
//! **Quality score.** Damage points: 1 per split, 2 per doubled
//! word, 3 per garble; per 100 words (at least 100) that gives `d`, and
//! `score = exp(-0.2 · d)`, rounded to three decimals: a clean story scores 1.0, the
//! wire sample about 0.7.

use std::ops::Range;
use std::sync::LazyLock;

use super::word_tokens::tokens;
use super::{overlaps, quote_spans, record, Lexicon};
use crate::pipeline::{Stage, StageError};
use crate::story::{QualityIssue, Story};

/// The repair stage (`normalise_repair`).
#[derive(Debug, Clone, Copy)]
pub struct Repair {
    lexicon: &'static Lexicon,
}

impl Default for Repair {
    fn default() -> Self {
        Self::new()
    }
}

impl Repair {
    /// Builds the stage, loading the embedded word table (once per process).
    pub fn new() -> Self {
        Self {
            lexicon: Lexicon::get(),
        }
    }
}

/// Closed-class words that machine translation glues onto the *following* word.
const LEFT_GLUE: &[&str] = &[
    "and", "or", "but", "nor", "the", "of", "to", "in", "on", "at", "by", "as", "is", "an", "with",
    "from", "into", "that", "this", "these", "those", "its", "their", "his", "her", "our", "not",
    "also", "than", "when", "while", "before", "about", "between", "during", "more", "most",
    "some", "all", "both", "each", "very", "was", "were", "has", "have", "had", "will", "would",
    "could", "should", "said", "which", "who", "two", "three", "four", "five", "six", "seven",
    "eight", "nine", "ten", "twenty", "thirty", "forty", "fifty", "hundred", "thousand", "million",
    "billion",
];

/// Closed-class words that machine translation glues onto the *preceding* word. Words that
/// end many names (`ten`, `nine`, `one`, `more`, `had`, …) are deliberately absent.
const RIGHT_GLUE: &[&str] = &[
    "two", "three", "four", "five", "six", "seven", "eight", "twenty", "thirty", "forty", "fifty",
    "hundred", "thousand", "million", "billion", "and", "the", "with", "from", "that", "which",
    "said", "were", "would", "could", "should", "will", "also", "after", "before", "during",
    "between", "about",
];

/// Right-hand glue strong enough to split an unknown capitalised stem (a name).
const NAME_GLUE: &[&str] = &[
    "two", "three", "four", "five", "six", "seven", "eight", "twenty", "thirty", "forty", "fifty",
    "hundred", "thousand", "million", "billion",
];

/// Words English legitimately doubles.
const LEGIT_DOUBLES: &[&str] = &[
    "had", "that", "very", "bye", "no", "so", "ha", "knock", "far", "many", "tut", "yes", "again",
    "long", "round", "on", "over", "now", "well", "more", "really",
];

/// Minimum Zipf×100 for the non-glue half of a split (filters the table's rare tail).
const MIN_HALF_ZIPF: u16 = 250;
/// Stricter minimum when the glue half has only two letters (`in`, `to`, …).
const MIN_HALF_ZIPF_SHORT_GLUE: u16 = 350;

/// Could this token be a run-together word? Lower-case tokens always could; capitalised
/// and mixed-case ones only with an inner capital or a glue word at either end, so that
/// names (most capitalised tokens) cost no table lookup.
#[inline]
fn maybe_run_together(word: &str) -> bool {
    let bytes = word.as_bytes();
    // Inlined so that the common case, a lower-case token, costs no call.
    !bytes.first().is_some_and(u8::is_ascii_uppercase) || capitalised_run_together(bytes)
}

/// [`maybe_run_together`] for a token starting with a capital.
fn capitalised_run_together(bytes: &[u8]) -> bool {
    if bytes.len() < 5 {
        return false;
    }
    if bytes[1..].iter().any(u8::is_ascii_uppercase) {
        return true;
    }
    let glue = &*GLUE_INDEX;
    let first = bytes[0].to_ascii_lowercase();
    let last = bytes[bytes.len() - 1];
    glue.left_by_first[usize::from(first)]
        .iter()
        .any(|g| bytes.len() > g.len() + 2 && bytes[..g.len()].eq_ignore_ascii_case(g))
        || glue.right_by_last[usize::from(last)]
            .iter()
            .any(|g| bytes.len() > g.len() + 2 && bytes.ends_with(g))
}

/// [`LEFT_GLUE`] by first byte and [`RIGHT_GLUE`] by last byte. [`maybe_run_together`] runs
/// on every capitalised token; with the lists bucketed it compares a handful of glue words
/// instead of walking all hundred.
struct GlueIndex {
    left_by_first: Vec<Vec<&'static [u8]>>,
    right_by_last: Vec<Vec<&'static [u8]>>,
}

static GLUE_INDEX: LazyLock<GlueIndex> = LazyLock::new(|| {
    // 256 buckets, one per byte value, so any token byte indexes them directly.
    let bucket = |words: &[&'static str], key: fn(&[u8]) -> Option<&u8>| {
        let mut buckets = vec![Vec::new(); 256];
        for word in words {
            let word = word.as_bytes();
            if let Some(&b) = key(word) {
                buckets[usize::from(b)].push(word);
            }
        }
        buckets
    };
    GlueIndex {
        left_by_first: bucket(LEFT_GLUE, <[u8]>::first),
        right_by_last: bucket(RIGHT_GLUE, <[u8]>::last),
    }
});

impl Repair {
    fn known(&self, word: &str, min: u16) -> bool {
        self.lexicon.zipf(word).is_some_and(|z| z >= min)
    }

    /// Where to split a run-together token and the replacement outside quotes (case
    /// normalised), or `None` when it should stay as it is. Only ASCII tokens are
    /// considered.
    fn split(&self, word: &str) -> Option<(usize, String)> {
        let len = word.len();
        if !(5..=40).contains(&len) || !word.bytes().all(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        if self.lexicon.contains(word) {
            return None;
        }
        let bytes = word.as_bytes();
        let uppers: Vec<usize> = (0..len)
            .filter(|&i| bytes[i].is_ascii_uppercase())
            .collect();

        // lower→Upper: `ofItaquera`.
        if let [i] = uppers[..] {
            if i > 0 && len - i >= 3 {
                let left = &word[..i];
                return LEFT_GLUE
                    .contains(&left)
                    .then(|| (i, format!("{left} {}", &word[i..])));
            }
        }
        // UPPER→lower: `ANDseparate`.
        let caps = bytes.iter().take_while(|b| b.is_ascii_uppercase()).count();
        if caps >= 2 && uppers.len() == caps && len - caps >= 3 {
            let left = word[..caps].to_ascii_lowercase();
            let right = &word[caps..];
            return (LEFT_GLUE.contains(&left.as_str()) && self.known(right, MIN_HALF_ZIPF))
                .then(|| (caps, format!("{left} {right}")));
        }
        // No case change: all lower case, or Capitalised.
        let capitalised = match uppers[..] {
            [] => false,
            [0] => true,
            _ => return None,
        };
        let lower = word.to_ascii_lowercase();
        let mut best: Option<(u32, usize)> = None;
        for i in 2..=len - 3 {
            let (l, r) = (&lower[..i], &lower[i..]);
            let zl = self.lexicon.zipf(l);
            let zr = self.lexicon.zipf(r);
            let left_glue = LEFT_GLUE.contains(&l)
                && zr.is_some_and(|z| {
                    z >= if i == 2 {
                        MIN_HALF_ZIPF_SHORT_GLUE
                    } else {
                        MIN_HALF_ZIPF
                    }
                })
                && (i > 2 || r.len() >= 4);
            let right_glue = RIGHT_GLUE.contains(&r)
                && l.len() >= 3
                && (zl.is_some_and(|z| z >= MIN_HALF_ZIPF)
                    || (capitalised && l.len() >= 5 && NAME_GLUE.contains(&r)));
            if left_glue || right_glue {
                let score = u32::from(zl.unwrap_or(200)) + u32::from(zr.unwrap_or(200));
                if best.is_none_or(|(s, _)| score > s) {
                    best = Some((score, i));
                }
            }
        }
        best.map(|(_, i)| (i, format!("{} {}", &word[..i], &word[i..])))
    }

    fn is_doubled(a: &str, b: &str) -> bool {
        if a.len() < 2 || b.len() < 2 || a.len().abs_diff(b.len()) > 2 {
            return false;
        }
        if !a.as_bytes()[..2].eq_ignore_ascii_case(&b.as_bytes()[..2])
            && a.is_ascii()
            && b.is_ascii()
        {
            return false;
        }
        let (a, b) = (a.to_lowercase(), b.to_lowercase());
        if a == b {
            return !LEGIT_DOUBLES.contains(&a.as_str());
        }
        let plural = |x: &str, y: &str| {
            y.strip_prefix(x)
                .is_some_and(|rest| rest == "s" || rest == "es")
        };
        plural(&a, &b) || plural(&b, &a)
    }
}

/// Damage points per issue kind (see the module docs).
fn points(kind: &str) -> f64 {
    match kind {
        "doubled_word" => 2.0,
        "likely_garble" => 3.0,
        _ => 1.0,
    }
}

impl Stage for Repair {
    fn name(&self) -> &'static str {
        "normalise_repair"
    }

    fn process(&self, mut story: Story) -> Result<Story, StageError> {
        let mut log = std::mem::take(&mut story.enrichment.normalisation);
        let mut issues = std::mem::take(&mut story.enrichment.quality.issues);
        let mut damage = 0.0;
        let mut words = 0usize;
        let mut base = 0usize;
        // Buffers reused by every block: most blocks need no edit, so per-block vectors
        // would be allocations for nothing.
        let mut toks = Vec::new();
        let mut unknown: Vec<usize> = Vec::new();
        let mut handled: Vec<bool> = Vec::new();
        let mut edits: Vec<(Range<usize>, String)> = Vec::new();
        let mut found: Vec<(&'static str, Range<usize>)> = Vec::new();
        for block in &mut story.body {
            let text = block.text.as_str();
            tokens(text, &mut toks);
            words += toks.len();
            handled.clear();
            handled.resize(toks.len(), false);
            edits.clear();
            found.clear();
            // Direct quotes matter only once a split is found.
            let mut spans: Option<Vec<Range<usize>>> = None;

            // One word-table lookup per token that could be a run-together or a garble; the
            // indices of the unknown ones (about one token in a hundred) are all the split
            // and garble passes visit.
            unknown.clear();
            unknown.extend(toks.iter().enumerate().filter_map(|(ti, t)| {
                // Cheap tests first: slicing a `str` checks character boundaries.
                (!t.joined && t.end - t.start >= 4 && {
                    let word = &text[t.start..t.end];
                    maybe_run_together(word) && !self.lexicon.contains(word)
                })
                .then_some(ti)
            }));
            for &ti in &unknown {
                let t = toks[ti];
                let word = &text[t.start..t.end];
                if let Some((at, replacement)) = self.split(word) {
                    handled[ti] = true;
                    let spans = spans.get_or_insert_with(|| quote_spans(text));
                    let replacement = if overlaps(spans, &(t.start..t.end)) {
                        // Inside a direct quote: the space only, letters untouched.
                        format!("{} {}", &word[..at], &word[at..])
                    } else {
                        replacement
                    };
                    edits.push((t.start..t.end, replacement));
                }
            }

            let bytes = text.as_bytes();
            for (ti, pair) in toks.windows(2).enumerate() {
                let (a, b) = (pair[0], pair[1]);
                let (first_a, first_b) = (bytes[a.start], bytes[b.start]);
                // Byte prefilters (one space between; ASCII first letters equal ignoring
                // case) spare the `str` slicing for nearly every pair.
                if b.start != a.end + 1
                    || bytes[a.end] != b' '
                    || (first_a.is_ascii()
                        && first_b.is_ascii()
                        && !first_a.eq_ignore_ascii_case(&first_b))
                {
                    continue;
                }
                if Self::is_doubled(&text[a.start..a.end], &text[b.start..b.end]) {
                    handled[ti] = true;
                    handled[ti + 1] = true;
                    found.push(("doubled_word", a.start..b.end));
                }
            }

            let mut garble: Option<(Range<usize>, usize)> = None;
            for &ti in &unknown {
                let t = toks[ti];
                if handled[ti] {
                    continue;
                }
                let word = &text[t.start..t.end];
                if word.chars().count() < 4 || !word.chars().all(char::is_lowercase) {
                    continue;
                }
                match garble.as_mut() {
                    Some((range, last))
                        if ti - *last <= 3
                            && toks[*last + 1..ti].iter().all(|g| {
                                let w = &text[g.start..g.end];
                                w.len() <= 3 || LEFT_GLUE.contains(&w)
                            })
                            && !text[range.end..t.start].contains(['.', ';', ':']) =>
                    {
                        range.end = t.end;
                        *last = ti;
                    }
                    _ => {
                        if let Some((range, _)) = garble.take() {
                            found.push(("likely_garble", range));
                        }
                        garble = Some((t.start..t.end, ti));
                    }
                }
            }
            if let Some((range, _)) = garble {
                found.push(("likely_garble", range));
            }

            // Offsets in the repaired text: shift by what earlier edits inserted.
            let shifted = |pos: usize| -> usize {
                let grown: usize = edits
                    .iter()
                    .filter(|(r, _)| r.end <= pos)
                    .map(|(r, rep)| rep.len() - r.len())
                    .sum();
                base + pos + grown
            };
            found.sort_by_key(|(_, r)| r.start);
            for (kind, range) in &found {
                damage += points(kind);
                issues.push(QualityIssue {
                    kind: (*kind).to_string(),
                    text: text[range.clone()].to_string(),
                    at: shifted(range.start),
                });
            }
            for (range, replacement) in &edits {
                damage += 1.0;
                let at = shifted(range.start);
                record(
                    &mut log,
                    "split_run_together",
                    &text[range.clone()],
                    replacement.clone(),
                    at,
                );
            }
            if !edits.is_empty() {
                let mut out = String::with_capacity(text.len() + edits.len());
                let mut pos = 0;
                for (range, replacement) in &edits {
                    out.push_str(&text[pos..range.start]);
                    out.push_str(replacement);
                    pos = range.end;
                }
                out.push_str(&text[pos..]);
                block.text = out;
            }
            base += block.text.len() + 2;
        }
        let per_100_words = damage * 100.0 / (words.max(100) as f64);
        story.enrichment.quality.score = ((-0.2 * per_100_words).exp() * 1000.0).round() / 1000.0;
        story.enrichment.quality.issues = issues;
        story.enrichment.normalisation = log;
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::story::Block;

    fn run(paras: &[&str]) -> Story {
        let story = Story {
            body: paras.iter().map(|p| Block::paragraph(*p)).collect(),
            ..Story::default()
        };
        Repair::new().process(story).expect("infallible")
    }

    #[test]
    fn split_table() {
        let repair = Repair::new();
        for (input, want) in [
            ("Luhansktwo", Some("Luhansk two")),
            ("Kharkivthree", Some("Kharkiv three")),
            ("ANDseparate", Some("and separate")),
            ("andraised", Some("and raised")),
            ("andswitch", Some("and switch")),
            ("eightyears", Some("eight years")),
            ("ofItaquera", Some("of Itaquera")),
            ("theUnited", Some("the United")),
            // Known words, names and compounds stay whole.
            ("separate", None),
            ("Luhansk", None),
            ("Holland", None),
            ("iPhone", None),
            ("McDonald", None),
            ("YouTube", None),
            ("DeSantis", None),
            ("Brookland", None),
            ("Hutten", None),
            ("overpolished", None),
            ("forswearing", None),
            ("cortine", None),
            ("hiron", None),
            ("NATO", None),
        ] {
            assert_eq!(
                repair.split(input).map(|(_, r)| r).as_deref(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn prefilter_table() {
        for (word, want) in [
            ("andraised", true),
            ("Luhansktwo", true),
            ("ANDseparate", true),
            ("Andraised", true),
            ("Pyongyang", false),
            ("Vladivostok", false),
            ("Kim", false),
            ("kim", true),
        ] {
            assert_eq!(maybe_run_together(word), want, "{word}");
        }
    }

    /// Regression: the prefilter must never hide a split `split()` would make.
    #[test]
    fn prefilter_agrees_with_split() {
        let repair = Repair::new();
        for word in [
            "Luhansktwo",
            "Kharkivthree",
            "ANDseparate",
            "ofItaquera",
            "Andraised",
            "Theunited",
        ] {
            if repair.split(word).is_some() {
                assert!(maybe_run_together(word), "{word}");
            }
        }
    }

    #[test]
    fn doubled_table() {
        for (a, b, want) in [
            ("Threat", "threats", true),
            ("Water", "water", true),
            ("Resilience", "resilience", true),
            ("had", "had", false),
            ("that", "that", false),
            ("the", "them", false),
            ("a", "a", false),
        ] {
            assert_eq!(Repair::is_doubled(a, b), want, "{a} {b}");
        }
    }

    #[test]
    fn splits_outside_quotes_are_logged_with_output_offsets() {
        let s = run(&["Intro.", "Donetsk and Luhansktwo areas, andraised hopes."]);
        assert_eq!(
            s.body[1].text,
            "Donetsk and Luhansk two areas, and raised hopes."
        );
        let body = s.body_text();
        for n in &s.enrichment.normalisation {
            assert_eq!(n.kind, "split_run_together");
            assert_eq!(&body[n.at..n.at + n.to.len()], n.to);
        }
        assert_eq!(s.enrichment.normalisation.len(), 2);
    }

    #[test]
    fn inside_direct_quotes_only_the_space_is_inserted() {
        for (input, want) in [
            (
                "\"One hit does not andswitch off a district,\" she said.",
                "\"One hit does not and switch off a district,\" she said.",
            ),
            (
                "“They were ANDseparate states,” he said; ANDseparate ones.",
                "“They were AND separate states,” he said; and separate ones.",
            ),
        ] {
            let s = run(&[input]);
            assert_eq!(s.body[0].text, want);
            assert!(s.enrichment.quality.issues.is_empty());
        }
    }

    /// Regression: `andraised` in the wire sample sits inside a direct quote and was left
    /// glued; inserting the missing space is a whitespace change, which quotes allow.
    #[test]
    fn regression_run_together_inside_quote_gets_its_space() {
        let s = run(&["“has been put on a new stage, more andraised, in the common front”."]);
        assert_eq!(
            s.body[0].text,
            "“has been put on a new stage, more and raised, in the common front”."
        );
        assert_eq!(s.enrichment.normalisation.len(), 1);
    }

    #[test]
    fn garbles_are_grouped_and_doubled_words_flagged() {
        let s = run(&[
            "“Threat threats from hostile forces”",
            "Since the collapse of the “cortine of hiron“ and after.",
        ]);
        let got: Vec<(&str, &str)> = s
            .enrichment
            .quality
            .issues
            .iter()
            .map(|i| (i.kind.as_str(), i.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("doubled_word", "Threat threats"),
                ("likely_garble", "cortine of hiron")
            ]
        );
        let body = s.body_text();
        for issue in &s.enrichment.quality.issues {
            assert_eq!(&body[issue.at..issue.at + issue.text.len()], issue.text);
        }
        assert!(s.enrichment.quality.score < 1.0);
    }

    #[test]
    fn clean_copy_scores_one() {
        let s = run(&["The ministry said on Monday that prices rose in March."]);
        assert!(s.enrichment.quality.issues.is_empty());
        assert_eq!(s.enrichment.quality.score, 1.0);
    }
}
