#!/usr/bin/env bash
# lint.sh: the checks that read the code without running it, as CI runs them.
#
#   format  every tracked .c and .h is as .clang-format (the kernel's style at 100 columns)
#           says: `clang-format --dry-run -Werror`; fix with `clang-format -i FILE`.
#   analyze clang's static analyzer (scan-build, Debian's clang-tools) over a whole build of
#           the daemon, straitctl and the benchmarks: any finding fails, and is printed with
#           its file, line and checker. The report is in build-scan/report. The cmocka unit
#           tests are built but not analyzed: cmocka's failure paths are not declared
#           noreturn, so every "assert, then use" reads to the analyzer as a NULL use.
#   circles no call circle between .c files and no include circle (scripts/circles.py over
#           the analyzer's build: nm for the calls, the #include lines for the includes).
#
# Usage: scripts/lint.sh [--format] [--analyze] [--circles]   (all when none is given)
# Installs what is missing (clang, clang-format, clang-tools) with apt-get. Ends with the
# line `N passed, N failed`; exits 1 if a check failed.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR source=topo.sh
source scripts/topo.sh

FORMAT=0 ANALYZE=0 CIRCLES=0
for arg in "$@"; do
	case $arg in
	--format) FORMAT=1 ;;
	--analyze) ANALYZE=1 ;;
	--circles) CIRCLES=1 ;;
	*)
		echo "lint: unknown argument '$arg'" >&2
		exit 2
		;;
	esac
done
[ $FORMAT -eq 0 ] && [ $ANALYZE -eq 0 ] && [ $CIRCLES -eq 0 ] && FORMAT=1 ANALYZE=1 CIRCLES=1

topo_require clang-format:clang-format clang:clang scan-build:clang-tools libdpdk-dev \
	meson:meson ninja:ninja-build pkg-config:pkg-config libjansson-dev libyaml-dev \
	libcurl4-openssl-dev libcmocka-dev libmicrohttpd-dev libmnl-dev libjemalloc-dev libyajl-dev || exit 1

passed=0 failed=0
ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
}

if [ $FORMAT -eq 1 ]; then
	mapfile -t files < <(git ls-files '*.c' '*.h')
	out=$(clang-format --dry-run -Werror "${files[@]}" 2>&1)
	if [ -z "$out" ]; then
		ok "format: ${#files[@]} files as .clang-format says"
	else
		echo "$out" | head -n 60
		not_ok "format: $(grep -c 'error:' <<<"$out") lines differ from .clang-format" \
			"(clang-format -i FILE)"
	fi
fi

if [ $ANALYZE -eq 1 ]; then
	# A build of its own: scan-build puts its compiler wrapper in CC at setup time.
	rm -rf build-scan
	log=$(mktemp /tmp/strait-scan.XXXXXX)
	if scan-build meson setup build-scan -Dwerror=false >"$log" 2>&1 &&
		scan-build -o build-scan/report ninja -C build-scan >>"$log" 2>&1; then
		# FILE CHECKER of every finding, less those scripts/scan-build.allow accepts.
		findings=$(sed -n 's|^\.\./\([^:]*\):[0-9]*:[0-9]*: warning: .*\[\([a-zA-Z.]*\)\]$|\1 \2|p' \
			"$log" | grep -v '^tests/unit/' | sort -u)
		allowed=$(grep -v '^#' scripts/scan-build.allow | awk 'NF { print $1, $2 }' | sort -u)
		new=$(comm -23 <(echo "$findings") <(echo "$allowed") | sed '/^$/d')
		if [ -z "$new" ]; then
			ok "analyze: scan-build, $(grep -c 'Compiling C object' "$log") files, no finding beyond scripts/scan-build.allow"
		else
			while read -r f c; do
				grep -E "^\.\./$f:[0-9]+:[0-9]+: warning: .*\[$c\]$" "$log" | sort -u
			done <<<"$new"
			not_ok "analyze: scan-build findings above (report in build-scan/report)"
		fi
	else
		tail -n 20 "$log"
		not_ok "analyze: the scan-build build failed"
	fi
	rm -f "$log"
fi

if [ $CIRCLES -eq 1 ]; then
	b=build-scan
	[ -d "$b" ] || b=${BUILD:-build}
	if out=$(python3 scripts/circles.py . "$b" 2>&1); then
		ok "circles: none ($(tr '\n' ';' <<<"$out" | sed 's/;$//'))"
	else
		echo "$out"
		not_ok "circles: see above (scripts/circles.py . $b)"
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
