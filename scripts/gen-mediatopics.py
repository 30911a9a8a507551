#!/usr/bin/env python3
"""Generate data/iptc/mediatopics.tsv, the IPTC Media Topics table the `enrich::topics`
stage embeds: every concept (code, parent, label) and cue terms derived mechanically from
the vocabulary's labels and definitions.

Source: the IPTC Media Topics NewsCodes vocabulary (release 2019-04-06), English labels and
definitions, as reduced in ../shared/data/iptc/mediatopics-en.json. Licence CC BY 4.0,
(c) IPTC, http://cv.iptc.org/newscodes/mediatopic/ — the generated file carries that
attribution in its header and is distributed under the same licence.

usage: python3 scripts/gen-mediatopics.py [JSON=../shared/data/iptc/mediatopics-en.json]
                                          [OUT=data/iptc/mediatopics.tsv]

Rows (tab-separated; `#` lines are comments):

    topic  CODE  PARENT  RETIRED  LABEL
        every concept, parents before children; PARENT is `-` for the 17 top-level topics;
        RETIRED is 1 for concepts IPTC retired (kept so that providers' old codes resolve).
    cue    TERM  TARGET  WEIGHT  ORIGIN  FROM
        a cue term (lower case) for TARGET, a top-level or second-level topic; ORIGIN is
        `label` or `definition`, FROM the code whose label or definition gave the term.
        Deeper concepts roll up: the label of `tennis` (level 3) is a cue of its level-2
        ancestor `competition discipline`, and so of `sport`.

How terms are derived (transparent, no learning):
- label: the whole label without parenthesised qualifiers (`drama (literature)` -> `drama`),
  weight 1.0; when the label is a list (`arts, culture, entertainment and media`,
  `merger or acquisition`, `obstetrics/gynaecology`) each part too, weight 0.8 — but in a
  list mixing one-word and longer parts (`health and beauty product`) the one-word parts
  are modifiers of a shared head noun and are skipped. A final
  plural word is reduced to its singular when the singular is a common English word
  (`elections` -> `election`), because the matcher accepts plural endings itself.
- definition: words of 5+ letters that are not stopwords, not too frequent in English
  (Zipf <= 4.8 in data/words/en-unigrams.tsv) and used in the labels or definitions of only
  one top-level topic's concepts, weight 0.3.
Retired concepts give no cues. Judgement (news cue terms, and terms to drop because they are
ambiguous in news copy) lives in the hand-written data/iptc/news-cues.tsv, not here.
Output is deterministic: re-running the script reproduces the committed file byte for byte.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

LABEL_WEIGHT = 1.0
PART_WEIGHT = 0.8
DEFINITION_WEIGHT = 0.3
MAX_DEFINITION_ZIPF = 400  # x100, as in en-unigrams.tsv

STOPWORDS = set(
    """a about above according across after against all along also although among an and
    another any are around as at be because been before being between both but by can
    could did do does done down during each either else etc even every for from further
    generally had has have having he her here his how however if in including into is it
    its itself just like made make makes many may more most much must no nor not of off
    often on one only or other others otherwise our out over own part particular per
    rather same several she should since so some such than that the their them themselves
    then there these they this those through thus to too under until up upon use used uses
    using usually various very was way ways well were what when where whether which while
    who whom whose why will with within without would""".split()
)

# Words that occur in many definitions as description scaffolding, not as subject matter.
SCAFFOLDING = set(
    """activities activity affairs aspects based category concerning concerns connected
    covering dealing describes description different events forms general groups includes
    individual involved involving issues known matters means number organisations persons
    practice practices process related relating relation relations specific stories subject
    subjects types""".split()
)


def load_zipf():
    zipf = {}
    path = os.path.join(ROOT, "data", "words", "en-unigrams.tsv")
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            word, value = line.rstrip("\n").split("\t")
            zipf[word] = int(value)
    return zipf


def clean_label(label):
    label = re.sub(r"\s*\([^)]*\)", "", label)
    return " ".join(label.lower().replace("\u2019", "'").split())


def singular(term, zipf):
    """`elections` -> `election` when the singular is a common word; else unchanged."""
    words = term.split(" ")
    last = words[-1]
    if len(last) < 5 or not last.endswith("s") or last.endswith(("ss", "us", "is", "ics")):
        return term
    if last.endswith("ies"):
        stem = last[:-3] + "y"
    elif last.endswith(("ses", "xes", "zes", "ches", "shes")):
        stem = last[:-2]
    else:
        stem = last[:-1]
    if zipf.get(stem, 0) >= 300:
        words[-1] = stem
        return " ".join(words)
    return term


def label_terms(label, zipf):
    whole = clean_label(label)
    out = {singular(whole, zipf): LABEL_WEIGHT}
    parts = [p.strip() for p in re.split(r",| and | or |/", whole) if p.strip()]
    if len(parts) > 1:
        # In a mixed list the head noun is shared ("health and beauty product" is about
        # health products, not health): keep only the multi-word parts.
        mixed = any(" " in p for p in parts) and any(" " not in p for p in parts)
        for p in parts:
            if mixed and " " not in p:
                continue
            out.setdefault(singular(p, zipf), PART_WEIGHT)
    return out


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        ROOT, "..", "shared", "data", "iptc", "mediatopics-en.json")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "data", "iptc", "mediatopics.tsv")
    with open(src, encoding="utf-8") as f:
        doc = json.load(f)
    zipf = load_zipf()
    concepts = {}
    for t in doc["topics"]:
        code = t["qcode"].split(":", 1)[1]
        concepts[code] = {
            "code": code,
            "parent": t["broader"][0] if t["broader"] else None,
            "label": " ".join(t["label"].split()),
            "definition": " ".join((t.get("definition") or "").split()),
            "retired": bool(t.get("retired")),
        }

    def chain(code):
        out = [code]
        while concepts[out[-1]]["parent"]:
            out.append(concepts[out[-1]]["parent"])
        return out  # self, parent, ..., top

    def depth(code):
        return len(chain(code)) - 1

    def target(code):
        """The level-1 or level-2 ancestor-or-self that cues roll up to."""
        c = chain(code)
        return c[-2] if len(c) >= 2 else c[-1]

    def live(code):
        return not any(concepts[c]["retired"] for c in chain(code))

    # Parents before children, then by code.
    order = sorted(concepts, key=lambda c: (depth(c), c))

    cues = {}  # (term, target) -> (weight, origin, from)

    def add(term, tgt, weight, origin, frm):
        if len(term) < 2:
            return
        key = (term, tgt)
        old = cues.get(key)
        if old is None or weight > old[0] or (weight == old[0] and (origin, frm) < old[1:]):
            cues[key] = (weight, origin, frm)

    for code in order:
        if not live(code):
            continue
        for term, weight in label_terms(concepts[code]["label"], zipf).items():
            add(term, target(code), weight, "label", code)

    # Definition words specific to one top-level topic.
    word_tops = {}
    word_src = {}
    for code in order:
        if not live(code):
            continue
        c = concepts[code]
        top = chain(code)[-1]
        text = (clean_label(c["label"]) + " " + c["definition"].lower()).replace("\u2019", "'")
        for w in re.findall(r"[a-z]+", text):
            word_tops.setdefault(w, set()).add(top)
        for w in re.findall(r"[a-z]+", c["definition"].lower()):
            word_src.setdefault(w, []).append(code)
    for w in sorted(word_src):
        if len(w) < 5 or w in STOPWORDS or w in SCAFFOLDING or w.endswith(("ly", "ing", "ed")):
            continue
        if len(word_tops[w]) != 1:
            continue
        z = zipf.get(w)
        if z is None or z > MAX_DEFINITION_ZIPF:
            continue
        for code in word_src[w]:
            add(singular(w, zipf), target(code), DEFINITION_WEIGHT, "definition", code)

    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("# copydesk IPTC Media Topics table, generated by scripts/gen-mediatopics.py\n")
        f.write(f"# source: {doc['source']}\n")
        f.write("# licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/); "
                "IPTC Media Topics (c) IPTC - International Press Telecommunications Council, "
                "http://cv.iptc.org/newscodes/mediatopic/ ; cue terms derived from its labels "
                "and definitions\n")
        f.write("# rows: topic CODE PARENT RETIRED LABEL | cue TERM TARGET WEIGHT ORIGIN FROM\n")
        for code in order:
            c = concepts[code]
            f.write(f"topic\t{code}\t{c['parent'] or '-'}\t{int(c['retired'])}\t{c['label']}\n")
        for (term, tgt) in sorted(cues, key=lambda k: (k[1], k[0])):
            weight, origin, frm = cues[(term, tgt)]
            f.write(f"cue\t{term}\t{tgt}\t{weight:.2f}\t{origin}\t{frm}\n")


if __name__ == "__main__":
    main()
