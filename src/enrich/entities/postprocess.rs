//! From tagged tokens to entities: span clean-up (titles → roles), demonyms → countries,
//! gazetteer back-off for country names and "X region", mention merging ("Kim Jong-un" …
//! "Kim", acronyms), document-wide type voting and propagation of names the tagger missed,
//! relevance and confidence, and place resolution against the gazetteer.

use std::cell::RefCell;

use crate::hash::QuickMap;

use super::features::DocContext;
use super::gazetteer::{flag, HitKind, PlaceKind};
use super::perceptron::TAGS;
use super::perceptron::{Tagged, WordScores};
use super::tokenize::{sentences, tokenize};
use super::Resources;
use crate::story::{Entity, EntityKind, Mention, PlaceRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Label {
    Per,
    Org,
    Loc,
}

impl Label {
    fn index(self) -> usize {
        self as usize
    }
}

/// A token of the headline or body.
#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    text: &'a str,
    start: usize,
    end: usize,
    headline: bool,
    flags: u16,
    initial: bool,
}

/// A tagged or inferred mention over tokens `t0..t1`.
#[derive(Debug, Clone)]
struct Span {
    t0: usize,
    t1: usize,
    label: Label,
    conf: f32,
    /// A demonym/adjective of this country (place index): not a name mention.
    demonym: Option<u32>,
    roles: Vec<String>,
    affiliation: Option<u32>,
    /// Extra document-level vote for "person" from a context cue (title, given name, name
    /// shape), added when the span joins its group.
    person_cue: f32,
}

/// Zipf ×100 from which a word counts as a common English word (not a name).
const COMMON_ZIPF: u16 = 400;

/// Whether a token looks like one part of a personal name: `Xxxx` or `Xxxx-Xxxx`, letters only.
fn name_shaped(w: &str) -> bool {
    let mut chars = w.chars();
    chars.next().is_some_and(char::is_uppercase)
        && w.chars().count() >= 2
        && chars.all(|c| c.is_lowercase() || c == '-' || c == '\'' || c == '’')
}

/// Words that introduce a photo caption or credit (`Image: Jane Doe`).
const CAPTION_WORDS: &[&str] = &["Image", "Photo", "Picture", "Credit", "Photograph", "Video"];

/// Words that name a kind of region after a proper name ("the Donbas region").
const REGION_WORDS: &[&str] = &[
    "region",
    "province",
    "district",
    "oblast",
    "prefecture",
    "governorate",
];

fn is_cap(w: &str) -> bool {
    w.chars().next().is_some_and(char::is_uppercase)
}

fn key_of(toks: &[Tok<'_>]) -> String {
    let mut k = String::with_capacity(toks.iter().map(|t| t.text.len() + 1).sum());
    for t in toks {
        if matches!(t.text, "-" | "–" | "." | "'s" | "’s") {
            continue;
        }
        if !k.is_empty() {
            k.push(' ');
        }
        if t.text.is_ascii() {
            // nearly every token: lower-cased byte by byte, as the general path would
            k.extend(
                t.text
                    .bytes()
                    .filter(|&b| b != b'.')
                    .map(|b| char::from(b.to_ascii_lowercase())),
            );
            continue;
        }
        for c in t.text.chars().filter(|c| *c != '.') {
            k.extend(c.to_lowercase());
        }
    }
    k
}

fn gaz_key(toks: &[Tok<'_>]) -> String {
    let mut k = String::with_capacity(toks.iter().map(|t| t.text.len() + 1).sum());
    for (i, t) in toks.iter().enumerate() {
        if i > 0 {
            k.push(' ');
        }
        k.push_str(t.text);
    }
    k
}

fn confidence(margin: f32) -> f32 {
    1.0 / (1.0 + (-margin / 2.0).exp())
}

/// Group of spans that name one entity.
#[derive(Debug, Default)]
struct Group {
    spans: Vec<Span>,
    votes: [f32; 3],
    country: Option<u32>,
}

impl Group {
    fn label(&self) -> Label {
        let v = self.votes;
        if v[0] >= v[1] && v[0] >= v[2] {
            Label::Per
        } else if v[2] >= v[1] {
            Label::Loc
        } else {
            Label::Org
        }
    }
    fn first(&self) -> usize {
        self.spans.iter().map(|s| s.t0).min().unwrap_or(usize::MAX)
    }
}

/// Tags sentence `si`; with `skip`, tokens that cannot begin a name are tagged O after O
/// without being scored (about a fifth of the tokens are scored; the tags differ in under
/// 1 % of sentences, see the test below).
fn tag_sentence(
    res: &Resources,
    ctx: &DocContext<'_>,
    si: usize,
    skip: bool,
    buf: &mut String,
) -> Vec<Tagged> {
    WORD_SCORES.with_borrow_mut(|cache| {
        res.model.tag_with(
            &ctx.hashes[si],
            |i, out, partial| {
                *partial = cache.get(&res.model, ctx.word_key(si, i), |word| {
                    ctx.word_features(si, i, buf, word);
                });
                ctx.context_features(si, i, out);
            },
            |i| skip && ctx.cannot_begin_name(si, i),
        )
    })
}

thread_local! {
    /// This thread's cache of word scores (see [`WordScores`]).
    static WORD_SCORES: RefCell<WordScores> = RefCell::new(WordScores::default());
}

/// See [`super::forget_word_scores`].
pub(super) fn forget_word_scores() {
    WORD_SCORES.with_borrow_mut(|cache| *cache = WordScores::default());
}

pub(super) fn extract(
    res: &Resources,
    headline: Option<&str>,
    body: &str,
) -> (Vec<Entity>, Vec<PlaceRef>) {
    let gaz = &res.gazetteer;
    // 1. tokens and sentences of headline and body, in one token list
    let mut toks: Vec<Tok<'_>> = Vec::new();
    let mut sents: Vec<std::ops::Range<usize>> = Vec::new();
    for (text, is_head) in [(headline.unwrap_or(""), true), (body, false)] {
        let t = tokenize(text);
        let base = toks.len();
        for r in sentences(text, &t) {
            sents.push(base + r.start..base + r.end);
        }
        toks.extend(t.iter().map(|x| Tok {
            text: &text[x.start..x.end],
            start: x.start,
            end: x.end,
            headline: is_head,
            flags: 0,
            initial: false,
        }));
    }
    if toks.is_empty() || res.model.is_empty() {
        return (Vec::new(), Vec::new());
    }
    let words: Vec<Vec<&str>> = sents
        .iter()
        .map(|r| toks[r.clone()].iter().map(|t| t.text).collect())
        .collect();
    let ctx = DocContext::new(&words, gaz);
    // 2. tag
    let mut spans: Vec<Span> = Vec::new();
    let mut buf = String::with_capacity(32);
    for (si, r) in sents.iter().enumerate() {
        for (k, f) in ctx.flags[si].iter().enumerate() {
            toks[r.start + k].flags = *f;
            toks[r.start + k].initial = k == 0
                || matches!(
                    toks[r.start + k - 1].text,
                    "\"" | "“" | "'" | "‘" | "(" | ":" | "-" | "–" | "—"
                );
        }
        let tags = tag_sentence(res, &ctx, si, true, &mut buf);
        let mut k = 0;
        while k < tags.len() {
            let t = tags[k].tag;
            if t == 0 || t.is_multiple_of(2) {
                k += 1;
                continue;
            }
            let mut e = k + 1;
            let mut margin = tags[k].margin;
            while e < tags.len() && tags[e].tag == t + 1 {
                margin = margin.min(tags[e].margin);
                e += 1;
            }
            let label = match TAGS[t] {
                "B-PER" => Some(Label::Per),
                "B-ORG" => Some(Label::Org),
                "B-LOC" => Some(Label::Loc),
                _ => None,
            };
            let (t0, t1) = (r.start + k, r.start + e);
            let text_key = gaz_key(&toks[t0..t1]);
            match (label, gaz.demonym(&text_key)) {
                (_, Some((c, true))) => spans.push(Span {
                    t0,
                    t1,
                    label: Label::Loc,
                    conf: confidence(margin),
                    demonym: Some(c),
                    roles: Vec::new(),
                    affiliation: None,
                    person_cue: 0.0,
                }),
                (None, Some((_, false))) | (Some(_), _) => spans.push(Span {
                    t0,
                    t1,
                    label: label.unwrap_or(Label::Loc),
                    conf: confidence(margin),
                    demonym: None,
                    roles: Vec::new(),
                    affiliation: None,
                    person_cue: 0.0,
                }),
                (None, None) => {}
            }
            k = e;
        }
    }
    // 3. clean spans: titles → roles, stray punctuation, lower-case junk
    let mut cleaned = Vec::with_capacity(spans.len());
    for mut s in spans {
        // "Jong-un": a hyphen glued to the name and to a following word belongs to it
        while s.t1 + 1 < toks.len()
            && matches!(toks[s.t1].text, "-" | "–")
            && toks[s.t1].start == toks[s.t1 - 1].end
            && toks[s.t1 + 1].start == toks[s.t1].end
            && toks[s.t1 + 1].headline == toks[s.t1].headline
        {
            s.t1 += 2;
        }
        if s.t1 >= 2
            && matches!(toks[s.t1 - 1].text, "-" | "–")
            && s.t1 < toks.len()
            && toks[s.t1].start == toks[s.t1 - 1].end
            && toks[s.t1].headline == toks[s.t1 - 1].headline
        {
            s.t1 += 1;
        }
        while s.t1 > s.t0
            && (matches!(
                toks[s.t1 - 1].text,
                "-" | "–" | "," | "'s" | "’s" | "\"" | "”"
            ) || toks[s.t1 - 1]
                .text
                .chars()
                .next()
                .is_some_and(char::is_lowercase)
                && !(s.t1 >= 2
                    && matches!(toks[s.t1 - 2].text, "-" | "–")
                    && toks[s.t1 - 2].end == toks[s.t1 - 1].start))
        {
            s.t1 -= 1;
        }
        while s.t1 > s.t0 && matches!(toks[s.t0].text, "-" | "–" | "\"" | "“" | "The" | "the") {
            s.t0 += 1;
        }
        // caption and credit markers are no part of a name: "Image: Jane Doe"
        let is_caption = |k: usize| {
            CAPTION_WORDS.contains(&toks[k].text)
                && toks
                    .get(k + 1)
                    .is_some_and(|t| t.text == ":" && t.headline == toks[k].headline)
        };
        while s.t1 > s.t0 && (is_caption(s.t1 - 1) || toks[s.t1 - 1].text == ":") {
            s.t1 -= 1;
        }
        while s.t1 > s.t0 && (is_caption(s.t0) || toks[s.t0].text == ":") {
            s.t0 += 1;
        }
        if s.t1 == s.t0 {
            continue;
        }
        if s.label == Label::Per {
            let mut role = Vec::new();
            while s.t1 - s.t0 > 1 && toks[s.t0].flags & flag::TITLE != 0 {
                role.push(toks[s.t0].text);
                s.t0 += 1;
            }
            if !role.is_empty() {
                s.roles.push(role.join(" "));
            }
            // titles just before the name: "Russian President Vladimir Putin"
            let mut j = s.t0;
            while j > 0
                && s.t0 - j < 4
                && toks[j - 1].headline == toks[s.t0].headline
                && (toks[j - 1].flags & flag::TITLE != 0
                    || (is_cap(toks[j - 1].text)
                        && toks[j - 1].flags & flag::DEMONYM == 0
                        && toks[j].flags & flag::TITLE != 0
                        && j < s.t0))
            {
                j -= 1;
            }
            if j < s.t0 {
                let role: Vec<&str> = toks[j..s.t0].iter().map(|t| t.text).collect();
                s.roles.push(role.join(" "));
                // a demonym before the role: the affiliation
                let mut d = j;
                while d > 0 && toks[d - 1].flags & flag::DEMONYM != 0 {
                    d -= 1;
                }
                if d < j {
                    if let Some((c, _)) = gaz.demonym(&gaz_key(&toks[d..j])) {
                        s.affiliation = Some(c);
                    }
                }
            }
        }
        let any_cap = toks[s.t0..s.t1]
            .iter()
            .any(|t| t.text.chars().any(char::is_uppercase));
        let letters: usize = toks[s.t0..s.t1]
            .iter()
            .map(|t| t.text.chars().filter(|c| c.is_alphabetic()).count())
            .sum();
        // "Given-name Other-name" with no place or organisation cue is a person
        let span_flags = toks[s.t0..s.t1].iter().fold(0, |a, t| a | t.flags);
        if s.label != Label::Per
            && s.demonym.is_none()
            && s.t1 - s.t0 >= 2
            && toks[s.t0].flags & flag::GIVEN_NAME != 0
            && toks[s.t1 - 1].flags & (flag::GIVEN_NAME | flag::SURNAME) != 0
            && span_flags & (flag::PLACE_B | flag::ORG_WORD | flag::PLACE_WORD | flag::COUNTRY) == 0
        {
            s.label = Label::Per;
            s.person_cue = 1.0;
        }
        // two or three name-shaped words that are no common English words and carry no
        // place or organisation cue, tagged with little confidence: a person ("Sergey Brin")
        let lex = crate::normalise::Lexicon::get();
        let words: Vec<&str> = toks[s.t0..s.t1]
            .iter()
            .map(|t| t.text)
            .filter(|w| !matches!(*w, "-" | "–"))
            .collect();
        if s.label != Label::Per
            && s.demonym.is_none()
            && (2..=3).contains(&words.len())
            && s.conf < 0.9
            && words.iter().all(|w| {
                name_shaped(w)
                    && w.split('-')
                        .all(|p| lex.zipf(p).is_none_or(|z| z < COMMON_ZIPF))
            })
            && span_flags
                & (flag::PLACE_B
                    | flag::PLACE_I
                    | flag::ORG_WORD
                    | flag::PLACE_WORD
                    | flag::COUNTRY
                    | flag::DEMONYM
                    | flag::BIG_PLACE)
                == 0
        {
            s.label = Label::Per;
            s.person_cue = 0.5;
        }
        // a title just before ("its president, Vladimir Putin") makes a name a person
        let titled = (1..=2).any(|d| {
            s.t0 >= d
                && toks[s.t0 - d].flags & flag::TITLE != 0
                && toks[s.t0 - d].headline == toks[s.t0].headline
                && !matches!(toks[s.t0 - 1].text, "of" | "at" | "for" | "in")
        });
        if s.label != Label::Per
            && s.demonym.is_none()
            && titled
            && span_flags & (flag::ORG_WORD | flag::PLACE_WORD | flag::COUNTRY) == 0
            && toks[s.t0..s.t1]
                .iter()
                .all(|t| !t.text.chars().all(|c| c.is_uppercase()))
        {
            s.label = Label::Per;
            s.person_cue = 1.5;
        } else if s.label == Label::Per && titled {
            s.person_cue = 1.5;
        }
        if s.t1 > s.t0 && any_cap && letters >= 2 {
            cleaned.push(s);
        }
    }
    let mut spans = cleaned;
    let mut covered = vec![false; toks.len()];
    for s in &spans {
        covered[s.t0..s.t1].iter_mut().for_each(|c| *c = true);
    }
    // 4. gazetteer back-off: demonyms, unambiguous country-level names, "X region"
    for (si, r) in sents.iter().enumerate() {
        for hit in &ctx.hits[si] {
            let (t0, t1) = (r.start + hit.start, r.start + hit.end);
            if covered[t0..t1].iter().any(|&c| c) {
                continue;
            }
            let prev_cap = t0 > r.start && is_cap(toks[t0 - 1].text) && !toks[t0 - 1].initial;
            let next_cap = t1 < r.end && is_cap(toks[t1].text);
            if prev_cap || next_cap {
                continue;
            }
            let key = gaz_key(&toks[t0..t1]);
            let span = match hit.what {
                HitKind::Demonym(c) => match gaz.demonym(&key) {
                    Some((_, true)) => Some((Some(c), 0.6)),
                    _ => Some((None, 0.6)),
                },
                HitKind::Place => {
                    let big = gaz.candidates(&key).iter().any(|&(p, alt)| {
                        !alt && matches!(
                            gaz.places[p as usize].kind,
                            PlaceKind::Country | PlaceKind::Admin1 | PlaceKind::Continent
                        )
                    });
                    big.then_some((None, 0.55))
                }
            };
            if let Some((demonym, conf)) = span {
                covered[t0..t1].iter_mut().for_each(|c| *c = true);
                spans.push(Span {
                    t0,
                    t1,
                    label: Label::Loc,
                    conf,
                    demonym,
                    roles: Vec::new(),
                    affiliation: None,
                    person_cue: 0.0,
                });
            }
        }
        // capitalised words before a region word
        for k in r.start + 1..r.end {
            if !REGION_WORDS.contains(&toks[k].text) {
                continue;
            }
            let mut j = k;
            while j > r.start && is_cap(toks[j - 1].text) && !covered[j - 1] && k - j < 3 {
                j -= 1;
            }
            if j < k {
                covered[j..k].iter_mut().for_each(|c| *c = true);
                spans.push(Span {
                    t0: j,
                    t1: k,
                    label: Label::Loc,
                    conf: 0.6,
                    demonym: None,
                    roles: Vec::new(),
                    affiliation: None,
                    person_cue: 0.0,
                });
            }
        }
    }
    // 5. group by name
    let mut groups: Vec<Group> = Vec::new();
    let mut by_key: QuickMap<String, usize> = QuickMap::default();
    let mut by_country: QuickMap<u32, usize> = QuickMap::default();
    spans.sort_by_key(|s| s.t0);
    for s in spans {
        let country = s.demonym.or_else(|| {
            let key = gaz_key(&toks[s.t0..s.t1]);
            gaz.demonym(&key).map(|(c, _)| c).or_else(|| {
                gaz.candidates(&key)
                    .iter()
                    .find(|&&(p, alt)| !alt && gaz.places[p as usize].kind == PlaceKind::Country)
                    .map(|&(p, _)| p)
            })
        });
        let key = key_of(&toks[s.t0..s.t1]);
        let gi = match (country, by_key.get(&key)) {
            (_, Some(&g)) if s.demonym.is_none() => g,
            (Some(c), _) if by_country.contains_key(&c) => by_country[&c],
            _ => {
                groups.push(Group::default());
                groups.len() - 1
            }
        };
        if s.demonym.is_none() {
            by_key.entry(key).or_insert(gi);
        }
        if let Some(c) = country {
            by_country.entry(c).or_insert(gi);
            groups[gi].country = Some(c);
            groups[gi].votes[Label::Loc.index()] += 2.0;
        }
        groups[gi].votes[s.label.index()] += s.conf;
        groups[gi].votes[Label::Per.index()] += s.person_cue;
        groups[gi].spans.push(s);
    }
    // 6. merge partial names into fuller ones: "Kim" → "Kim Jong-un", "KCNA" ← acronym
    let keys: Vec<Vec<String>> = groups
        .iter()
        .map(|g| {
            let s = g
                .spans
                .iter()
                .filter(|s| s.demonym.is_none())
                .max_by_key(|s| s.t1 - s.t0);
            s.map(|s| {
                key_of(&toks[s.t0..s.t1])
                    .split(' ')
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
        })
        .collect();
    // the initials of each group's key ("kcna" of "korean central news agency"), built
    // once per group rather than once per pair compared
    let initials: Vec<String> = keys
        .iter()
        .map(|key| {
            key.iter()
                .filter(|w| !matches!(w.as_str(), "of" | "the" | "and" | "for" | "&"))
                .filter_map(|w| w.chars().next())
                .collect()
        })
        .collect();
    let mut merged_into: Vec<Option<usize>> = vec![None; groups.len()];
    for a in 0..groups.len() {
        if keys[a].is_empty() || groups[a].country.is_some() {
            continue;
        }
        let mut target: Option<usize> = None;
        for b in 0..groups.len() {
            if a == b || keys[b].len() <= keys[a].len() || groups[b].country.is_some() {
                continue;
            }
            let person_b = groups[b].label() == Label::Per;
            let part_of = keys[b]
                .windows(keys[a].len())
                .any(|w| w == keys[a].as_slice());
            let acronym = keys[a].len() == 1 && keys[a][0].len() >= 2 && keys[a][0] == initials[b];
            let ok = (person_b && part_of && groups[a].label() != Label::Loc)
                || (person_b && part_of && keys[a].len() == 1 && groups[a].votes[2] < 1.5)
                || (acronym && groups[b].label() == Label::Org);
            if ok && target.is_none_or(|t| groups[b].spans.len() > groups[t].spans.len()) {
                target = Some(b);
            }
        }
        merged_into[a] = target;
    }
    for a in 0..groups.len() {
        if let Some(mut b) = merged_into[a] {
            while let Some(n) = merged_into[b] {
                b = n;
            }
            let spans = std::mem::take(&mut groups[a].spans);
            let votes = groups[a].votes;
            for (t, v) in votes.iter().enumerate() {
                groups[b].votes[t] += v * 0.5;
            }
            groups[b].spans.extend(spans);
        }
    }
    groups.retain(|g| !g.spans.is_empty());
    // 7. propagate: later unlabelled occurrences of a known name (and of a person's surname)
    let mut forms: QuickMap<&str, Vec<(Vec<&str>, usize)>> = QuickMap::default();
    for (gi, g) in groups.iter().enumerate() {
        for s in g.spans.iter().filter(|s| s.demonym.is_none()) {
            let f: Vec<&str> = toks[s.t0..s.t1].iter().map(|t| t.text).collect();
            if g.label() == Label::Per && f.len() > 1 {
                if let Some(last) = f.last().filter(|w| w.chars().count() > 2 && is_cap(w)) {
                    forms.entry(last).or_default().push((vec![*last], gi));
                }
            }
            if let Some(first) = f.first() {
                forms.entry(first).or_default().push((f.clone(), gi));
            }
        }
    }
    let mut extra: Vec<(usize, Span)> = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        if covered[k] || !is_cap(toks[k].text) {
            k += 1;
            continue;
        }
        let mut best: Option<(usize, usize)> = None;
        if let Some(cands) = forms.get(toks[k].text) {
            for (f, gi) in cands {
                let end = k + f.len();
                if end <= toks.len()
                    && !covered[k..end].iter().any(|&c| c)
                    // Headline and body are one token list; a name never spans both.
                    && toks[k..end].iter().all(|t| t.headline == toks[k].headline)
                    && toks[k..end].iter().zip(f).all(|(t, w)| t.text == *w)
                    && best.is_none_or(|(l, _)| f.len() > l)
                {
                    best = Some((f.len(), *gi));
                }
            }
        }
        match best {
            Some((len, gi)) => {
                // a name continuing into further capitalised words is another name
                if k + len < toks.len() && is_cap(toks[k + len].text) && !covered[k + len] {
                    k += len;
                    continue;
                }
                covered[k..k + len].iter_mut().for_each(|c| *c = true);
                let label = groups[gi].label();
                extra.push((
                    gi,
                    Span {
                        t0: k,
                        t1: k + len,
                        label,
                        conf: 0.5,
                        demonym: None,
                        roles: Vec::new(),
                        affiliation: None,
                        person_cue: 0.0,
                    },
                ));
                k += len;
            }
            None => k += 1,
        }
    }
    for (gi, s) in extra {
        groups[gi].spans.push(s);
    }
    // 8. entities
    groups.sort_by_key(Group::first);
    let body_len = body.len().max(1) as f32;
    let mut entities = Vec::with_capacity(groups.len());
    let mut place_of_entity: Vec<Option<u32>> = Vec::new();
    for g in &mut groups {
        g.spans.sort_by_key(|s| s.t0);
        let label = if g.country.is_some() && g.label() != Label::Per {
            Label::Loc
        } else {
            g.label()
        };
        let named: Vec<&Span> = g.spans.iter().filter(|s| s.demonym.is_none()).collect();
        let name = match (label, named.is_empty(), g.country) {
            (_, true, Some(c)) => gaz.places[c as usize].name.clone(),
            (_, true, None) => continue,
            (Label::Per, false, _) => {
                let best = named
                    .iter()
                    .max_by_key(|s| (s.t1 - s.t0, std::cmp::Reverse(s.t0)));
                best.map(|s| surface(&toks, s, headline.unwrap_or(""), body))
                    .unwrap_or_default()
            }
            _ => {
                let mut counts: QuickMap<String, (usize, usize)> = QuickMap::default();
                for s in &named {
                    let e = counts
                        .entry(surface(&toks, s, headline.unwrap_or(""), body))
                        .or_insert((0, 0));
                    e.0 += 1;
                    e.1 = s.t1 - s.t0;
                }
                counts
                    .into_iter()
                    .max_by(|a, b| {
                        (a.1 .0, a.1 .1, std::cmp::Reverse(&a.0)).cmp(&(
                            b.1 .0,
                            b.1 .1,
                            std::cmp::Reverse(&b.0),
                        ))
                    })
                    .map(|(n, _)| n)
                    .unwrap_or_default()
            }
        };
        let mentions: Vec<Mention> = g
            .spans
            .iter()
            .filter(|s| !toks[s.t0].headline)
            .map(|s| Mention {
                start: toks[s.t0].start,
                end: toks[s.t1 - 1].end,
            })
            .collect();
        let in_headline = g.spans.iter().any(|s| toks[s.t0].headline);
        let count = g.spans.len();
        let first_pos = mentions.first().map_or(1.0, |m| m.start as f32 / body_len);
        let relevance = (if in_headline { 35.0 } else { 0.0 })
            + 35.0 * (1.0 - first_pos)
            + 30.0 * ((count as f32 - 1.0) / 4.0).min(1.0)
            - if named.is_empty() { 20.0 } else { 0.0 };
        let conf = g.spans.iter().map(|s| s.conf).sum::<f32>() / count.max(1) as f32;
        let mut roles: Vec<String> = Vec::new();
        for s in &g.spans {
            for r in &s.roles {
                if !roles.contains(r) {
                    roles.push(r.clone());
                }
            }
        }
        let affiliation = g
            .spans
            .iter()
            .find_map(|s| s.affiliation)
            .map(|c| gaz.places[c as usize].name.clone());
        let kind = match label {
            Label::Per => EntityKind::Person,
            Label::Org => EntityKind::Organisation,
            Label::Loc => EntityKind::Place,
        };
        place_of_entity.push(if kind == EntityKind::Place {
            g.country
        } else {
            None
        });
        entities.push(Entity {
            kind,
            name,
            mentions,
            mention_count: count,
            in_headline,
            named: !named.is_empty(),
            relevance: relevance.clamp(0.0, 100.0).round() as u8,
            confidence: (conf * 100.0).clamp(0.0, 100.0).round() as u8,
            roles,
            affiliation,
            geonames_id: None,
        });
    }
    // 9. place resolution: countries first, then other places with country context
    let context: Vec<&str> = place_of_entity
        .iter()
        .flatten()
        .map(|&c| gaz.places[c as usize].country.as_str())
        .collect();
    let mut places = Vec::new();
    for (e, country) in entities.iter_mut().zip(&place_of_entity) {
        if e.kind != EntityKind::Place {
            continue;
        }
        let chosen = match country {
            Some(c) => Some(*c),
            None => {
                let key = gaz_key(
                    &tokenize(&e.name)
                        .iter()
                        .map(|t| Tok {
                            text: &e.name[t.start..t.end],
                            start: 0,
                            end: 0,
                            headline: false,
                            flags: 0,
                            initial: false,
                        })
                        .collect::<Vec<_>>(),
                );
                let cands = gaz.candidates(&key);
                let any_primary = cands.iter().any(|&(_, alt)| !alt);
                cands
                    .iter()
                    .filter(|&&(_, alt)| !alt || !any_primary)
                    .max_by(|&&(a, _), &&(b, _)| {
                        let score = |p: u32| {
                            let pl = &gaz.places[p as usize];
                            let mut s = ((pl.population + 1) as f64).ln();
                            if context.contains(&pl.country.as_str()) {
                                s += 6.0;
                            }
                            if pl.kind != PlaceKind::City {
                                s += 3.0;
                            }
                            s
                        };
                        score(a).total_cmp(&score(b))
                    })
                    .map(|&(p, _)| p)
            }
        };
        if let Some(p) = chosen {
            let pl = &gaz.places[p as usize];
            e.geonames_id = Some(pl.geonames_id);
            if places
                .iter()
                .any(|x: &PlaceRef| x.geonames_id == pl.geonames_id)
            {
                continue;
            }
            places.push(PlaceRef {
                name: pl.name.clone(),
                geonames_id: pl.geonames_id,
                country: pl.country.clone(),
                admin1: (!pl.admin1.is_empty()).then(|| pl.admin1.clone()),
                lat: (!pl.lat.is_nan()).then_some(pl.lat),
                lon: (!pl.lon.is_nan()).then_some(pl.lon),
                kind: pl.kind.as_str().to_string(),
            });
        }
    }
    entities.sort_by_key(|e| std::cmp::Reverse(e.relevance));
    (entities, places)
}

fn surface(toks: &[Tok<'_>], s: &Span, headline: &str, body: &str) -> String {
    let head = toks[s.t0].headline;
    let text = if head { headline } else { body };
    // Offsets are per part: should a span ever reach across the headline into the body,
    // its surface ends with the headline instead of slicing across two strings.
    let last = toks[s.t0..s.t1]
        .iter()
        .take_while(|t| t.headline == head)
        .last()
        .unwrap_or(&toks[s.t0]);
    let raw = text.get(toks[s.t0].start..last.end).unwrap_or_default();
    raw.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document's sentences as words, as `extract` gives them to the tagger.
    fn sentence_words(doc: &str) -> Vec<Vec<&str>> {
        let toks = tokenize(doc);
        sentences(doc, &toks)
            .into_iter()
            .map(|r| toks[r].iter().map(|t| &doc[t.start..t.end]).collect())
            .collect()
    }

    /// The dev stories and the text of every GUM training document.
    fn documents() -> Vec<String> {
        let data = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");
        let mut docs = Vec::new();
        for (dir, ext) in [("gum-dev", "txt"), ("gum-train", "conllu")] {
            let mut paths: Vec<_> = std::fs::read_dir(format!("{data}/{dir}"))
                .expect("data directory")
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == ext))
                .collect();
            paths.sort();
            for p in paths {
                let text = std::fs::read_to_string(&p).expect("readable");
                docs.push(if ext == "txt" {
                    text
                } else {
                    text.lines()
                        .filter_map(|l| l.strip_prefix("# text = "))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
            }
        }
        docs
    }

    /// The word-score cache is a pure speed-up: tags and margins are those of scoring every
    /// feature in the model's table, with the cache empty, warm, or emptied midway.
    #[test]
    fn cached_word_scores_tag_as_the_full_features_do() {
        let res = super::super::resources();
        let docs = documents();
        let mut buf = String::new();
        let mut buf2 = String::new();
        let uncached = |ctx: &DocContext<'_>, si: usize, buf: &mut String| {
            res.model.tag_with(
                &ctx.hashes[si],
                |i, out, _| ctx.token_features(si, i, buf, out),
                |i| ctx.cannot_begin_name(si, i),
            )
        };
        let mut compared = 0usize;
        for pass in 0..2 {
            for (d, doc) in docs.iter().enumerate() {
                if pass == 1 && d == docs.len() / 2 {
                    forget_word_scores();
                }
                let words = sentence_words(doc);
                let ctx = DocContext::new(&words, &res.gazetteer);
                for (si, sent) in words.iter().enumerate() {
                    let cached = tag_sentence(res, &ctx, si, true, &mut buf);
                    assert_eq!(cached, uncached(&ctx, si, &mut buf2), "{sent:?}");
                    compared += cached.len();
                }
            }
        }
        assert!(compared > 100_000, "{compared} tokens compared");
    }

    /// Skipping the tokens that cannot begin a name changes the tags of at most one
    /// sentence in 100 of the GUM documents (if a retrained model breaks this, narrow
    /// `DocContext::cannot_begin_name`).
    #[test]
    fn skipping_cannot_begin_tokens_keeps_the_tags() {
        let res = super::super::resources();
        let docs = documents();
        assert!(docs.len() > 50, "{} documents", docs.len());
        let (mut tokens, mut skippable, mut named) = (0usize, 0usize, 0usize);
        let (mut sents, mut changed) = (0usize, 0usize);
        let mut buf = String::new();
        for doc in &docs {
            let words = sentence_words(doc);
            let ctx = DocContext::new(&words, &res.gazetteer);
            for (si, sent) in words.iter().enumerate() {
                let full = tag_sentence(res, &ctx, si, false, &mut buf);
                let fast = tag_sentence(res, &ctx, si, true, &mut buf);
                let full_tags: Vec<usize> = full.iter().map(|t| t.tag).collect();
                let fast_tags: Vec<usize> = fast.iter().map(|t| t.tag).collect();
                sents += 1;
                if full_tags != fast_tags {
                    changed += 1;
                    eprintln!("changed: {sent:?}\n  {full_tags:?}\n  {fast_tags:?}");
                }
                tokens += full.len();
                named += full.iter().filter(|t| t.tag != 0).count();
                skippable += (0..sent.len())
                    .filter(|&i| ctx.cannot_begin_name(si, i))
                    .count();
            }
        }
        eprintln!(
            "{changed} of {sents} sentences changed; {skippable} of {tokens} tokens skippable"
        );
        // 30 of 3,966 with the committed model, nearly all symbols and e-mail addresses the
        // full model tagged as names
        assert!(
            changed * 100 <= sents,
            "{changed} of {sents} sentences changed"
        );
        // the point of skipping: most tokens are never scored
        assert!(skippable * 2 > tokens, "{skippable} of {tokens} skippable");
        assert!(named > 1000, "{named} tokens in names");
    }
}
