#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ (git-ignored working corpora) from the synthetic fixtures in
# tests/fixtures/, and — when ../shared/data is beside the repository — from the openly
# licensed IPTC examples there. Safe to re-run: it only adds files.
set -euo pipefail
cd "$(dirname "$0")"
fixtures=../tests/fixtures
shared=../../shared/data
seed() { # target, source files...
  local target=$1; shift
  mkdir -p "corpus/$target"
  for f in "$@"; do [ -f "$f" ] && cp -n "$f" "corpus/$target/" || true; done
}
seed decode_ninjs "$fixtures"/ninjs/* "$shared"/ninjs/examples_3.1/*.json "$shared"/ninjs/test_suite_3.0/*/*.json
seed decode_nitf "$fixtures"/nitf/* "$shared"/nitf/*.xml
seed decode_newsml "$fixtures"/newsml/* "$shared"/newsml-g2/*.xml
seed decode_anpa "$fixtures"/anpa/*
seed decode_iptc7901 "$fixtures"/iptc7901/*
seed decode_plain "$fixtures"/charset/*
mkdir -p corpus/decode_json
printf '{"id":"a","headline":"H","body":"p1\\n\\np2","urgency":3}' > corpus/decode_json/envelope.json
seed decode_any "$fixtures"/*/*
seed pipeline_process "$fixtures"/*/*
echo "seeded: $(find corpus -type f | wc -l) files in $(ls corpus | wc -l) corpora"
