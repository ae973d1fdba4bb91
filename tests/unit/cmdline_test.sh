#!/usr/bin/env bash
# cmdline_test.sh: what a package user meets first. `strait --help` and `--version` answer
# without initialising EAL (no hugepages, no lcores: they work as any user on any machine),
# and straitctl's do the same. Ends with `N passed, N failed`.
# Usage: cmdline_test.sh STRAIT STRAITCTL VERSION MALLOC
#   MALLOC: the malloc the build linked, as --version names it ("jemalloc 5.3.0_0" or "libc")
set -uo pipefail
STRAIT=$1 STRAITCTL=$2 VERSION=$3 MALLOC=$4
passed=0 failed=0
check() { # NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
		echo "ok - $1"
	else
		failed=$((failed + 1))
		echo "not ok - $1 (expected '$2', got '$3')"
	fi
}
out=$("$STRAIT" --help 2>&1)
check "strait --help exits 0" 0 $?
check "strait --help names --config" yes "$(grep -q -- '--config FILE' <<<"$out" && echo yes)"
check "strait --help gives the exit codes" yes "$(grep -q '^Exit status: 0 clean stop' <<<"$out" && echo yes)"
check "strait --help does not start EAL" no "$(grep -q '^EAL:' <<<"$out" && echo yes || echo no)"
out=$("$STRAIT" --version 2>&1)
check "strait --version exits 0" 0 $?
check "strait --version prints the version and DPDK's" yes \
	"$([[ $out =~ ^strait\ $VERSION\ \(DPDK\ [0-9]+\.[0-9]+ ]] && echo yes)"
check "strait --version names the malloc it links" "malloc $MALLOC)" "${out##*, }"
# jemalloc's options are strait's own (cp/malloc_conf.c), read from the binary: jemalloc says
# which it set when asked to confirm them.
if [[ $MALLOC == jemalloc* ]]; then
	out=$(MALLOC_CONF=confirm_conf:true "$STRAIT" --version 2>&1)
	check "jemalloc takes strait's tcache_max" yes \
		"$(grep -q '^<jemalloc>: -- Set conf value: tcache_max:1048576$' <<<"$out" && echo yes)"
	check "jemalloc takes strait's dirty_decay_ms" yes \
		"$(grep -q '^<jemalloc>: -- Set conf value: dirty_decay_ms:60000$' <<<"$out" && echo yes)"
fi
out=$("$STRAIT" --no-pci --no-huge -- -V 2>&1)
check "strait EAL-ARGS -- -V answers before EAL" "$("$STRAIT" --version)" "$out"
out=$("$STRAITCTL" --version 2>&1)
check "straitctl --version" "straitctl $VERSION" "$out"
"$STRAITCTL" --bogus >/dev/null 2>&1
check "straitctl with an unknown option exits 2" 2 $?
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
