#!/usr/bin/env bash
# test.sh: strait's tests on a fresh Debian 12 machine (as root for the end-to-end suite).
#
# Installs what is missing, builds, and runs `meson test -v`: the cmocka unit tests (suite
# unit) and, as root, the network-namespace tests (suite e2e), one at a time. Ends with one
# line `N passed, N failed` summed over every cmocka case and every e2e check.
#
# Usage: scripts/test.sh [--unit] [--asan]
#   --unit  unit tests only (no root needed)
#   --asan  build in build-asan with -Db_sanitize=address,undefined; unit tests only
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR source=topo.sh
source scripts/topo.sh

BUILD=${BUILD:-build}
SUITES=(--suite unit)
MESON_OPTS=(-Dwerror=true)
for arg in "$@"; do
	case $arg in
	--unit) ;;
	--asan)
		BUILD=build-asan
		MESON_OPTS=(-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false)
		# Undefined behaviour fails the test, as memory errors do (UBSan only prints by
		# default); DPDK's own inline Toeplitz hash reads unaligned words: suppressed.
		export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:suppressions=$ROOT/scripts/ubsan.supp}
		;;
	*)
		echo "test: unknown argument '$arg'" >&2
		exit 2
		;;
	esac
done
if [ "$(id -u)" -eq 0 ] && [[ " $* " != *" --unit "* ]] && [[ " $* " != *" --asan "* ]]; then
	SUITES+=(--suite e2e)
fi

topo_require ip:iproute2 ss:iproute2 ethtool:ethtool socat:socat redis-server:redis-server \
	redis-cli:redis-tools curl:curl taskset:util-linux sha256sum:coreutils nft:nftables ping:iputils-ping \
	libdpdk-dev dpdk meson:meson ninja:ninja-build pkg-config:pkg-config libjansson-dev \
	libyaml-dev libcurl4-openssl-dev libcmocka-dev libmicrohttpd-dev libmnl-dev libjemalloc-dev libyajl-dev python3-scapy \
	openssl:openssl || exit 1

if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" "${MESON_OPTS[@]}" || exit 1
fi
ninja -C "$BUILD" || exit 1

log=$(mktemp /tmp/strait-test.XXXXXX)
# One test at a time: the e2e tests pin strait's worker to core 1 and want the other core.
meson test -C "$BUILD" -v --num-processes 1 --print-errorlogs "${SUITES[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:";
# the e2e tests print "N passed, N failed".
read -r passed failed < <(awk '
	/^\[  PASSED  \] [0-9]+ test\(s\)\./ { p += $4 }
	/^\[  FAILED  \] [0-9]+ test\(s\), listed below:/ { f += $4 }
	/^[0-9]+ passed, [0-9]+ failed/ { p += $1; f += $3 }
	END { print p + 0, f + 0 }' "$log")
rm -f "$log"
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # a test that crashed or timed out before printing its counts
fi
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
