#!/usr/bin/env bash
# Regenerates the committed seed corpus fuzz/corpus/<target>/ with fuzz/make_corpus.cc, built in
# BUILDDIR (any configured build; default build).
#
#   fuzz/make_corpus.sh [BUILDDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-build}
ninja -C "$builddir" -j1 fuzz/make_corpus
targets=(query_matcher frame_decoder recovery checkpoint_loader esload_line)
rm -rf fuzz/corpus
for target in "${targets[@]}"; do mkdir -p "fuzz/corpus/$target"; done
"$builddir/fuzz/make_corpus" fuzz/corpus
for target in "${targets[@]}"; do
  echo "fuzz/corpus/$target: $(ls "fuzz/corpus/$target" | wc -l) inputs"
done
