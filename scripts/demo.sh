#!/usr/bin/env bash
# demo.sh: strait end to end on one machine, no NIC and no cluster needed (root, Debian 12).
#
#   client ns (198.51.100.2) ── veth ── [st-gx] strait [st-gi] ── bridge ── pod-0..2
#                                       198.51.100.1  10.0.0.1             10.0.0.11..13
#
# Installs what is missing, builds, brings up the topology of scripts/topo.sh with 3 pods,
# starts strait on config/strait.yaml (the embedded default), sends HTTP, per-broker, UDP and
# redis traffic from the client through it, checks every answer, stops strait (which prints
# its counters), tears everything down, and exits non-zero if any step failed.
#
# Usage: scripts/demo.sh [--kernel] [--no-build]
#   --kernel    the Linux kernel (nftables, same mappings) is the gateway instead of strait:
#               no DPDK, no build; checks the topology and the demo itself.
#   --no-build  use the strait already in $BUILD (default build/) as it is.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR source=topo.sh
source scripts/topo.sh

MODE=strait
DO_BUILD=1
for arg in "$@"; do
	case $arg in
	--kernel) MODE=kernel ;;
	--no-build) DO_BUILD=0 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "demo: unknown argument '$arg' (try --help)" >&2
		exit 2
		;;
	esac
done

NPODS=3
EXT=$TOPO_EXT_ADDR
BUILD=${BUILD:-build}
CONFIG=config/strait.yaml
PASSED=0
FAILED=0

heading() { printf '\n=== %s ===\n' "$*"; }

pass() {
	PASSED=$((PASSED + 1))
	echo "  PASS  $*"
}

fail() {
	FAILED=$((FAILED + 1))
	echo "  FAIL  $*"
}

# expect WHAT EXPECTED ACTUAL
expect() {
	if [ "$2" = "$3" ]; then pass "$1: $3"; else fail "$1: expected '$2', got '$3'"; fi
}

# The topology is torn down however the demo ends: success, failure or Ctrl-C.
trap topo_down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates network namespaces)" >&2
	exit 1
fi

heading "Packages"
# Tools are looked for on PATH; libraries (no command) in dpkg.
runtime=(ip:iproute2 ss:iproute2 ethtool:ethtool socat:socat redis-server:redis-server
	redis-cli:redis-tools curl:curl python3:python3 taskset:util-linux sha256sum:coreutils)
if [ "$MODE" = kernel ]; then
	topo_require "${runtime[@]}" nft:nftables
else
	topo_require "${runtime[@]}" libdpdk-dev dpdk meson:meson ninja:ninja-build \
		pkg-config:pkg-config libjansson-dev libyaml-dev libcurl4-openssl-dev \
		libcmocka-dev libmicrohttpd-dev libmnl-dev libjemalloc-dev libyajl-dev python3-scapy
fi
echo "  all present"

if [ "$MODE" = strait ] && [ "$DO_BUILD" -eq 1 ]; then
	heading "Build"
	[ -f "$BUILD/build.ninja" ] || meson setup "$BUILD"
	ninja -C "$BUILD"
fi

heading "Topology: client, gateway ($MODE), switch, $NPODS pods (prefix $P)"
topo_up "$NPODS"
topo_servers_start "$NPODS"
for ((i = 0; i < NPODS; i++)); do
	echo "  pod-$i  $(topo_pod_addr "$i")  http :80, udp echo :7$([ "$i" -eq 0 ] && echo ', redis :6379')"
done
if [ "$MODE" = kernel ]; then
	topo_kernel_nat
	echo "  gateway: Linux kernel, nftables DNAT + masquerade (mappings of $CONFIG)"
else
	strait_start "$BUILD" "$CONFIG"
	echo "  gateway: strait (pid $STRAIT_PID), log $STRAIT_LOG"
fi

heading "HTTP: 6 requests to $EXT:8080 (mapping web, balanced over every pod)"
for ((i = 1; i <= 6; i++)); do
	body=$(client_curl "http://$EXT:8080/" 2>&1 || true)
	if [[ $body =~ ^pod-[0-2]$ ]]; then
		pass "request $i answered by $body"
	else
		fail "request $i: expected pod-0..2, got '$body'"
	fi
done

heading "Port-to-broker: $EXT:32000..$((32000 + NPODS - 1)) (one port per StatefulSet ordinal)"
for ((i = 0; i < NPODS; i++)); do
	expect "port $((32000 + i))" "pod-$i" "$(client_curl "http://$EXT:$((32000 + i))/" 2>&1 || true)"
done

heading "UDP echo: $EXT:7777 (mapping echo)"
msg="strait says hello $$"
expect "echoed bytes" "$msg" "$(printf '%s' "$msg" | client_udp "$EXT" 7777 2>&1 || true)"

heading "redis: redis-cli -h $EXT -p 6379 (mapping redis, pod-0)"
val="demo-$$-$RANDOM"
expect "set demo-key" OK \
	"$(in_client timeout 5 redis-cli -h "$EXT" -p 6379 set demo-key "$val" 2>&1 || true)"
expect "get demo-key" "$val" \
	"$(in_client timeout 5 redis-cli -h "$EXT" -p 6379 get demo-key 2>&1 || true)"

if [ "$MODE" = kernel ]; then
	heading "Gateway counters (nftables)"
	in_gw nft list table ip strait_knat | grep -E 'counter' | sed 's/^[[:space:]]*/  /'
else
	heading "Stop strait: its counters"
	lines=$(wc -l <"$STRAIT_LOG")
	rc=0
	strait_stop || rc=$?
	# What the daemon printed after SIGINT: its final counters.
	tail -n +"$((lines + 1))" "$STRAIT_LOG" | sed 's/^/  | /'
	expect "strait exit status" 0 "$rc"
fi

heading "Teardown"
topo_down
left=$(ip netns list | awk '{print $1}' | grep -E "^${P}(c|g|n|p[0-9]+)\$" || true)
if [ -z "$left" ]; then
	pass "no namespace with prefix $P is left"
else
	fail "namespaces left behind: ${left//$'\n'/ }"
fi

heading "Result"
if [ "$FAILED" -eq 0 ]; then
	echo "demo ($MODE): all $PASSED checks passed"
else
	echo "demo ($MODE): $FAILED of $((PASSED + FAILED)) checks FAILED"
	exit 1
fi
