#!/usr/bin/env python3
"""Generate data/words/en-unigrams.tsv, the English word table the normalise::repair stage
embeds (split run-together words, flag likely garbles).

Source: PyPI `wordfreq==3.1.1` (code Apache-2.0; word-frequency data CC BY-SA 4.0, built by
Robyn Speer from Wikipedia, OpenSubtitles, Google Books Ngrams, SUBTLEX, NewsCrawl,
Reddit, Twitter and other sources — see the wordfreq README). The generated table is
therefore distributed under CC BY-SA 4.0 with that attribution (header lines say so).

Usage:  python3 scripts/gen-wordlist.py [--top 100000] [--out data/words/en-unigrams.tsv]

Downloads the pinned wheel with `pip download --no-deps` into a temporary directory, reads
`wordfreq/data/large_en.msgpack.gz` (wordfreq's "cBpack" format: a header map, then one
list of words per centibel frequency bucket, most frequent first) with a minimal MessagePack
reader (no extra dependency), keeps plain alphabetic words (letters
only), and writes the `--top` most frequent as `word<TAB>zipf_x100`, where
zipf = log10(frequency per billion words) (wordfreq's Zipf scale: 7+ = "the", 3 = rare).
Output is deterministic: re-running it reproduces the committed file byte for byte.
"""

import argparse
import gzip
import io
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

PACKAGE = "wordfreq"
VERSION = "3.1.1"
MEMBER = "wordfreq/data/large_en.msgpack.gz"


def unpack(buf: bytes):
    """Minimal MessagePack decoder: enough for cBpack (maps, arrays, str, ints, floats)."""
    pos = 0

    def read(n):
        nonlocal pos
        out = buf[pos : pos + n]
        if len(out) != n:
            raise ValueError("truncated msgpack")
        pos += n
        return out

    def obj():
        b = read(1)[0]
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 0x100
        if 0x80 <= b <= 0x8F:
            return {obj(): obj() for _ in range(b & 0x0F)}
        if 0x90 <= b <= 0x9F:
            return [obj() for _ in range(b & 0x0F)]
        if 0xA0 <= b <= 0xBF:
            return read(b & 0x1F).decode("utf-8")
        simple = {0xC0: None, 0xC2: False, 0xC3: True}
        if b in simple:
            return simple[b]
        if b in (0xD9, 0xDA, 0xDB):
            n = {0xD9: 1, 0xDA: 2, 0xDB: 4}[b]
            return read(int.from_bytes(read(n), "big")).decode("utf-8")
        if b in (0xDC, 0xDD):
            n = 2 if b == 0xDC else 4
            return [obj() for _ in range(int.from_bytes(read(n), "big"))]
        if b in (0xDE, 0xDF):
            n = 2 if b == 0xDE else 4
            return {obj(): obj() for _ in range(int.from_bytes(read(n), "big"))}
        if b in (0xCC, 0xCD, 0xCE, 0xCF):
            n = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}[b]
            return int.from_bytes(read(n), "big")
        if b in (0xD0, 0xD1, 0xD2, 0xD3):
            n = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}[b]
            return int.from_bytes(read(n), "big", signed=True)
        if b == 0xCA:
            return struct.unpack(">f", read(4))[0]
        if b == 0xCB:
            return struct.unpack(">d", read(8))[0]
        raise ValueError(f"unsupported msgpack type byte 0x{b:02x} at {pos - 1}")

    value = obj()
    return value


def is_word(w: str) -> bool:
    # Letters only: the repair stage tokenises at apostrophes and hyphens, so "kesha's" or
    # "co-op" entries would only take room from real words.
    return w.isalpha()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--top", type=int, default=100_000)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "data", "words", "en-unigrams.tsv"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             f"{PACKAGE}=={VERSION}", "-d", tmp],
            check=True,
        )
        wheel = next(os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".whl"))
        with zipfile.ZipFile(wheel) as z:
            packed = gzip.decompress(z.read(MEMBER))

    data = unpack(packed)
    header, buckets = data[0], data[1:]
    if not (isinstance(header, dict) and header.get("format") == "cB"):
        raise SystemExit(f"unexpected cBpack header: {header!r}")

    rows = []
    seen = set()
    for index, words in enumerate(buckets):
        # Bucket i holds words of frequency 10^(-i/100); Zipf = log10(freq * 1e9) = 9 - i/100.
        zipf_x100 = 900 - index
        for w in sorted(words):
            if not is_word(w) or w in seen:
                continue
            seen.add(w)
            rows.append((w, zipf_x100))
            if len(rows) >= args.top:
                break
        if len(rows) >= args.top:
            break

    out = os.path.abspath(args.out)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with io.open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(f"# source: PyPI {PACKAGE}=={VERSION}, {MEMBER}; generated by scripts/gen-wordlist.py --top {args.top}\n")
        f.write("# licence: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); wordfreq data (c) Robyn Speer and contributors,\n")
        f.write("#   from Wikipedia, OpenSubtitles, Google Books Ngrams, SUBTLEX, NewsCrawl, Reddit, Twitter and others (see wordfreq README)\n")
        f.write("# columns: word (lower case) <TAB> zipf_x100 (100 * log10 of frequency per billion words), most frequent first\n")
        for w, z in rows:
            f.write(f"{w}\t{z}\n")
    print(f"wrote {len(rows)} words to {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
