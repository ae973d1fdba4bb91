#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run the libFuzzer targets of tests/fuzz, each over a copy of its seed corpus
# (tests/fuzz/corpus/<target>), for a bounded time or number of runs; the repository's corpus
# is never written. Builds build-fuzz with clang first when it is missing.
#
#   scripts/fuzz.sh [--seconds N] [--runs N] [--build DIR] [--keep DIR [--resume]] [TARGET...]
#
#   --seconds N  per target (-max_total_time), default 10
#   --runs N     per target (-runs), instead of or as well as the time bound
#   --build DIR  the build directory, default build-fuzz
#   --keep DIR   keep each target's grown corpus and log under DIR (default: a temp dir,
#                removed at the end)
#   --resume     start from the corpus kept under --keep DIR by an earlier run (and the
#                seeds), so that long campaigns add up run by run
#   TARGET       e.g. nat_fuzz; default every target
#
# Prints per target "fuzz <target>: N execs, cov C, ft F, ok|FAILED" (a failure is followed
# by libFuzzer's last lines and the path of the crashing input, kept under --keep or
# $TMPDIR), then "N passed, N failed". Exit status 1 when a target crashed, leaked, timed
# out (a unit over 120 s: -timeout) or broke an invariant. Runs niced: the machine is shared.
#
# ASan keeps freed memory in a 16 MB quarantine here (its default, 256 MB, makes every
# allocation touch fresh pages: libyaml's 16 KB parser buffers then cost 3/4 of a run) and
# records 8 frames per allocation; a use after free within the last 16 MB freed is still
# caught, which covers the lifetime of one input. Set ASAN_OPTIONS to choose otherwise.
set -u

cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
seconds=10
runs=
build="build-fuzz"
keep=
resume=0
targets=

while [ $# -gt 0 ]; do
	case "$1" in
	--seconds) seconds=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--keep) keep=$2; shift 2 ;;
	--resume) resume=1; shift ;;
	-h|--help) sed -n '3,26p' "$0"; exit 0 ;;
	-*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
	*) targets="$targets $1"; shift ;;
	esac
done

[ $resume -eq 0 ] || [ -n "$keep" ] || { echo "fuzz.sh: --resume needs --keep DIR" >&2; exit 2; }
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16:malloc_context_size=8}"

all="parse_fuzz config_fuzz mapping_fuzz k8s_yaml_fuzz watch_fuzz list_fuzz json_decode_fuzz kubeconfig_fuzz portmap_fuzz cli_fuzz nat_fuzz sync_fuzz"
[ -n "$targets" ] || targets=$all

if [ ! -f "$build/build.ninja" ]; then
	CC=clang CXX=clang++ nice -n 19 meson setup "$build" -Dfuzz=true -Dwerror=true >/dev/null ||
		{ echo "fuzz.sh: meson setup $build failed" >&2; exit 2; }
elif ! grep -q 'tests/fuzz/nat_fuzz:' "$build/build.ninja"; then
	nice -n 19 meson configure "$build" -Dfuzz=true >/dev/null ||
		{ echo "fuzz.sh: meson configure $build -Dfuzz=true failed" >&2; exit 2; }
fi
ninja_targets=
for t in $targets; do ninja_targets="$ninja_targets tests/fuzz/$t"; done
# shellcheck disable=SC2086
nice -n 19 ninja -C "$build" -j1 $ninja_targets >/dev/null ||
	{ echo "fuzz.sh: building the fuzz targets failed (ninja -C $build$ninja_targets)" >&2; exit 2; }

if [ -n "$keep" ]; then
	work=$keep
	mkdir -p "$work"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/strait-fuzz.XXXXXX")
fi
passed=0
failed=0
for t in $targets; do
	corpus=$work/$t/corpus
	log=$work/$t/log
	[ $resume -eq 1 ] || rm -rf "$corpus"
	mkdir -p "$corpus" "$work/$t/artifacts"
	cp "$root/tests/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null
	set -- -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=120 -print_final_stats=1 \
		-artifact_prefix="$work/$t/artifacts/"
	[ -n "$runs" ] && set -- "$@" -runs="$runs"
	# The targets find tests/data through their build's absolute paths: run from anywhere.
	(cd "$work/$t" && nice -n 19 "$root/$build/tests/fuzz/$t" "$@" "$corpus" >"$log" 2>&1)
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
	cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	if [ $rc -eq 0 ]; then
		echo "fuzz $t: ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, ok"
		passed=$((passed + 1))
	else
		echo "fuzz $t: ${execs:-?} execs, cov ${cov:-?}, ft ${ft:-?}, FAILED (exit $rc)"
		grep -E 'ERROR|SUMMARY|invariant|runtime error|leak|nat_fuzz:|cli_fuzz:' "$log" | head -n 20 | sed 's/^/  /'
		for a in "$work/$t/artifacts/"*; do
			[ -f "$a" ] && echo "  crashing input: $a (reproduce: $build/tests/fuzz/$t $a)"
		done
		echo "  log: $log"
		keep=${keep:-$work} # keep what shows the failure
		failed=$((failed + 1))
	fi
done
[ -z "$keep" ] && rm -rf "$work"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
