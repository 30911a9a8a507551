//! Trains copydesk's entity tagger and writes `data/ner/model.bin`.
//!
//! ```text
//! cargo run --release --bin train-ner -- [--gum DIR] [--wikigold FILE] [--out FILE]
//!                                        [--epochs N] [--min-weight W] [--include-news]
//! ```
//!
//! Reads GUM CoNLL-U (entity annotation in MISC `Entity=`; a mention is a *named* entity when
//! its head is a PROPN) and wikigold CoNLL (IOB1), turns both into BIO tags over
//! PER/ORG/LOC/MISC, and trains the averaged perceptron of
//! `copydesk::enrich::entities` with a fixed document order per epoch, so the output is
//! reproducible byte for byte. GUM news documents are skipped unless `--include-news` is
//! given: they are the development set.

use std::path::{Path, PathBuf};

use copydesk::enrich::entities::features::doc_features;
use copydesk::enrich::entities::gazetteer::Gazetteer;
use copydesk::enrich::entities::perceptron::{tag_index, Trainer};

/// One training document: sentences of (words, tag indices).
struct Doc {
    sents: Vec<(Vec<String>, Vec<usize>)>,
}

#[derive(Debug, thiserror::Error)]
enum TrainError {
    #[error("cannot read {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("usage: {0}")]
    Usage(String),
}

const TITLES: &[&str] = &[
    "president",
    "mr",
    "mr.",
    "mrs",
    "mrs.",
    "ms",
    "ms.",
    "dr",
    "dr.",
    "senator",
    "sen.",
    "governor",
    "gov.",
    "mayor",
    "king",
    "queen",
    "prince",
    "princess",
    "pope",
    "general",
    "gen.",
    "captain",
    "judge",
    "justice",
    "secretary",
    "chancellor",
    "minister",
    "prime",
    "professor",
    "prof.",
    "sir",
    "lord",
    "lady",
    "saint",
    "st.",
    "rev.",
    "reverend",
    "chief",
    "colonel",
    "lieutenant",
    "sergeant",
    "emperor",
    "empress",
    "bishop",
    "archbishop",
    "cardinal",
    "dame",
    "sheikh",
];
const CONNECTORS: &[&str] = &[
    "of", "the", "and", "&", "de", "del", "da", "von", "van", "der", "du", "la", "le", "-", "for",
    "on", "y", "di", "al",
];

struct GTok {
    form: String,
    upos: String,
    head: Option<usize>,
    sent: usize,
}

/// Parses a MISC `Entity=` value into openings (id, type) and closings (id).
fn parse_entity(s: &str) -> (Vec<(u32, String)>, Vec<u32>) {
    let b = s.as_bytes();
    let (mut opens, mut closes) = (Vec::new(), Vec::new());
    let mut i = 0;
    let digits = |mut j: usize| {
        let st = j;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        (st, j)
    };
    while i < b.len() {
        if b[i] == b'(' && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
            let (st, j) = digits(i + 1);
            let id: u32 = s[st..j].parse().unwrap_or(0);
            let mut k = j + 1;
            let ts = k;
            while k < b.len() && b[k].is_ascii_alphabetic() {
                k += 1;
            }
            let ty = s[ts.min(b.len())..k.min(b.len())].to_string();
            opens.push((id, ty));
            let mut depth = 0;
            while k < b.len() {
                let c = b[k];
                if c == b'(' {
                    let (_, e) = digits(k + 1);
                    if e > k + 1 && e < b.len() && b[e] == b'-' {
                        break;
                    }
                    depth += 1;
                } else if c == b')' {
                    if depth > 0 {
                        depth -= 1;
                    } else {
                        closes.push(id);
                        k += 1;
                        break;
                    }
                }
                k += 1;
            }
            i = k;
        } else if b[i].is_ascii_digit() {
            let (st, j) = digits(i);
            if j < b.len() && b[j] == b')' {
                closes.push(s[st..j].parse().unwrap_or(0));
                i = j + 1;
            } else {
                i = j;
            }
        } else {
            i += 1;
        }
    }
    (opens, closes)
}

fn read(path: &Path) -> Result<String, TrainError> {
    std::fs::read_to_string(path).map_err(|e| TrainError::Io(path.to_path_buf(), e))
}

fn read_gum(path: &Path) -> Result<Doc, TrainError> {
    let text = read(path)?;
    let mut toks: Vec<GTok> = Vec::new();
    let mut sent_starts: Vec<usize> = Vec::new();
    let mut mentions: Vec<(usize, usize, String)> = Vec::new();
    let mut open: Vec<(u32, usize, String)> = Vec::new();
    let mut sent = 0;
    let mut sent_start = 0;
    let mut raw_heads: Vec<(usize, usize)> = Vec::new(); // (token, head id in sentence)
    for line in text.lines() {
        if line.is_empty() {
            if toks.len() > sent_start {
                sent_starts.push(sent_start);
                sent += 1;
                sent_start = toks.len();
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 10 || !f[0].bytes().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let idx = toks.len();
        let head: usize = f[6].parse().unwrap_or(0);
        raw_heads.push((idx, head));
        toks.push(GTok {
            form: f[1].to_string(),
            upos: f[3].to_string(),
            head: None,
            sent,
        });
        for part in f[9].split('|') {
            if let Some(v) = part.strip_prefix("Entity=") {
                let (opens, closes) = parse_entity(v);
                for (id, ty) in opens {
                    open.push((id, idx, ty));
                }
                for id in closes {
                    if let Some(pos) = open.iter().rposition(|o| o.0 == id) {
                        let (_, st, ty) = open.remove(pos);
                        mentions.push((st, idx, ty));
                    }
                }
            }
        }
    }
    if toks.len() > sent_start {
        sent_starts.push(sent_start);
    }
    for (idx, head) in raw_heads {
        if head > 0 {
            let s = sent_starts[toks[idx].sent];
            toks[idx].head = Some(s + head - 1);
        }
    }
    // named spans
    let is_name = |k: usize| toks[k].upos == "PROPN";
    let mut spans: Vec<(usize, usize, &str)> = Vec::new();
    for (st, en, ty) in &mentions {
        let (st, en) = (*st, *en);
        let Some(head) = (st..=en).find(|&k| toks[k].head.is_none_or(|h| h < st || h > en)) else {
            continue;
        };
        if !is_name(head) {
            continue;
        }
        let (mut l, mut r) = (head, head);
        // expand right over names, numbers and connectors followed by a name
        loop {
            let mut j = r + 1;
            let mut skipped = 0;
            while j <= en
                && skipped < 2
                && CONNECTORS.contains(&toks[j].form.to_lowercase().as_str())
            {
                j += 1;
                skipped += 1;
            }
            if j <= en && (is_name(j) || (toks[j].upos == "NUM" && skipped == 0)) {
                r = j;
            } else {
                break;
            }
        }
        loop {
            let mut j = l;
            let mut skipped = 0;
            while j > st
                && skipped < 2
                && CONNECTORS.contains(&toks[j - 1].form.to_lowercase().as_str())
                && j - 1 != l
            {
                j -= 1;
                skipped += 1;
            }
            if j > st && is_name(j - 1) {
                l = j - 1;
            } else {
                break;
            }
        }
        let label = match ty.as_str() {
            "person" => "PER",
            "organization" => "ORG",
            "place" => "LOC",
            _ => "MISC",
        };
        if label == "PER" {
            while l < r && TITLES.contains(&toks[l].form.to_lowercase().as_str()) {
                l += 1;
            }
        }
        while r > l && (toks[r].form == "'s" || toks[r].form == "’s") {
            r -= 1;
        }
        if toks[l].sent != toks[r].sent {
            continue;
        }
        spans.push((l, r, label));
    }
    spans.sort_by_key(|&(l, r, _)| (std::cmp::Reverse(r - l), l));
    let mut tags = vec![0usize; toks.len()];
    let mut used = vec![false; toks.len()];
    for (l, r, label) in spans {
        if used[l..=r].iter().any(|&u| u) {
            continue;
        }
        for k in l..=r {
            used[k] = true;
            let name = if k == l {
                format!("B-{label}")
            } else {
                format!("I-{label}")
            };
            tags[k] = tag_index(&name).unwrap_or(0);
        }
    }
    let mut doc = Doc { sents: Vec::new() };
    for (si, &s) in sent_starts.iter().enumerate() {
        let e = sent_starts.get(si + 1).copied().unwrap_or(toks.len());
        doc.sents.push((
            toks[s..e].iter().map(|t| t.form.clone()).collect(),
            tags[s..e].to_vec(),
        ));
    }
    Ok(doc)
}

fn read_wikigold(path: &Path) -> Result<Vec<Doc>, TrainError> {
    let text = read(path)?;
    let mut docs = Vec::new();
    let mut doc = Doc { sents: Vec::new() };
    let (mut words, mut tags): (Vec<String>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut prev_type = String::new();
    for line in text.lines().chain(std::iter::once("")) {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with("-DOCSTART-") {
            if !words.is_empty() {
                doc.sents
                    .push((std::mem::take(&mut words), std::mem::take(&mut tags)));
            }
            prev_type.clear();
            if line.starts_with("-DOCSTART-") && !doc.sents.is_empty() {
                docs.push(std::mem::replace(&mut doc, Doc { sents: Vec::new() }));
            }
            continue;
        }
        let Some((w, label)) = line.rsplit_once(' ') else {
            continue;
        };
        let tag = if label == "O" {
            prev_type.clear();
            0
        } else {
            let (bi, ty) = label.split_once('-').unwrap_or(("I", label));
            let begin = bi == "B" || ty != prev_type;
            prev_type = ty.to_string();
            tag_index(&format!("{}-{ty}", if begin { "B" } else { "I" })).unwrap_or(0)
        };
        words.push(w.to_string());
        tags.push(tag);
    }
    if !doc.sents.is_empty() {
        docs.push(doc);
    }
    Ok(docs)
}

fn run() -> Result<(), TrainError> {
    let mut gum = PathBuf::from("../shared/data/gum-train");
    let mut wikigold = PathBuf::from("../shared/data/wikigold/wikigold.conll.txt");
    let mut out = PathBuf::from("data/ner/model.bin");
    let mut epochs = 10usize;
    let mut min_weight = 2.0f32;
    let mut include_news = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || {
            args.next()
                .ok_or_else(|| TrainError::Usage(format!("{a} needs a value")))
        };
        match a.as_str() {
            "--gum" => gum = PathBuf::from(val()?),
            "--wikigold" => wikigold = PathBuf::from(val()?),
            "--out" => out = PathBuf::from(val()?),
            "--epochs" => {
                epochs = val()?
                    .parse()
                    .map_err(|_| TrainError::Usage("--epochs N".into()))?
            }
            "--min-weight" => {
                min_weight = val()?
                    .parse()
                    .map_err(|_| TrainError::Usage("--min-weight W".into()))?;
            }
            "--include-news" => include_news = true,
            other => return Err(TrainError::Usage(format!("unknown argument {other}"))),
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&gum)
        .map_err(|e| TrainError::Io(gum.clone(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conllu"))
        .filter(|p| {
            include_news
                || !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("GUM_news_"))
        })
        .collect();
    files.sort();
    let mut docs = Vec::new();
    for f in &files {
        docs.push(read_gum(f)?);
    }
    let n_gum = docs.len();
    docs.extend(read_wikigold(&wikigold)?);
    let tokens: usize = docs.iter().flat_map(|d| &d.sents).map(|s| s.0.len()).sum();
    eprintln!(
        "{n_gum} GUM docs + {} wikigold docs, {tokens} tokens",
        docs.len() - n_gum
    );
    let gaz = Gazetteer::load();
    let feats: Vec<_> = docs
        .iter()
        .map(|d| {
            let sents: Vec<Vec<&str>> = d
                .sents
                .iter()
                .map(|(w, _)| w.iter().map(String::as_str).collect())
                .collect();
            doc_features(&sents, &gaz)
        })
        .collect();
    let mut trainer = Trainer::new();
    let mut order: Vec<usize> = (0..docs.len()).collect();
    let mut seed: u64 = 0x00C0_FFEE;
    for epoch in 0..epochs {
        // deterministic Fisher–Yates shuffle (xorshift)
        for i in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let j = (seed % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let mut right = 0;
        for &d in &order {
            for (s, (_, gold)) in docs[d].sents.iter().enumerate() {
                right += trainer.train_sentence(feats[d].sentence(s), &feats[d].hashes[s], gold);
            }
        }
        eprintln!(
            "epoch {epoch}: token accuracy {:.4}",
            right as f64 / tokens as f64
        );
    }
    let bytes = trainer.finish(min_weight);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|e| TrainError::Io(dir.to_path_buf(), e))?;
    }
    std::fs::write(&out, &bytes).map_err(|e| TrainError::Io(out.clone(), e))?;
    eprintln!("wrote {} ({} bytes)", out.display(), bytes.len());
    Ok(())
}

fn main() {
    if let Err(err) = run() {
        eprintln!("train-ner: {err}");
        std::process::exit(if matches!(err, TrainError::Usage(_)) {
            2
        } else {
            1
        });
    }
}
