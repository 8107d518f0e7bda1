#!/usr/bin/env bash
# Runs the fuzz targets of a fuzz build (-Dfuzz=true) one after another, each for SECONDS on a
# temporary copy of its committed corpus (fuzz/corpus/<target>/), with its dictionary
# (fuzz/dicts/<target>.dict) when it has one. A crash's input is written to
# fuzz/regressions/<target>/: commit it (with the fix), and fuzz_regressions replays it in every
# build. Prints each target's last status line (execs/s, cov, ft, corpus) and exits 1 when any
# target crashed.
#
#   fuzz/run.sh BUILDDIR SECONDS [TARGET...]   (default: every target)
#
# FUZZ_WORK=DIR keeps each target's log and grown corpus in DIR/<target>.log and DIR/<target>/
# instead of a temporary directory removed at the end.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  sed -n '2,13p' "$0" >&2
  exit 2
fi
builddir=$1
seconds=$2
shift 2
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(query_matcher frame_decoder recovery checkpoint_loader esload_line)

work=${FUZZ_WORK:-}
if [ -z "$work" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

crashed=0
for target in "${targets[@]}"; do
  binary="$builddir/fuzz/$target"
  if [ ! -x "$binary" ]; then
    echo "fuzz: $binary is missing (configure with -Dfuzz=true and build)" >&2
    crashed=1
    continue
  fi
  rm -rf "${work:?}/$target"
  cp -r "fuzz/corpus/$target" "$work/$target"
  mkdir -p "fuzz/regressions/$target"
  dict=()
  [ -f "fuzz/dicts/$target.dict" ] && dict=("-dict=fuzz/dicts/$target.dict")
  "$binary" "$work/$target" "${dict[@]}" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 \
    -artifact_prefix="fuzz/regressions/$target/" >"$work/$target.log" 2>&1
  status=$?
  last=$(grep -E '^#[0-9]+' "$work/$target.log" | tail -n 1)
  echo "fuzz: $target: ${last:-no status line} ($(ls "$work/$target" | wc -l) inputs)"
  if [ $status -ne 0 ]; then
    echo "fuzz: $target failed (exit $status); its input is in fuzz/regressions/$target/:" >&2
    grep -E 'ERROR|SUMMARY|#[0-9]+ 0x.* in es::' "$work/$target.log" | head -n 20 >&2
    crashed=1
  fi
done
exit $crashed
