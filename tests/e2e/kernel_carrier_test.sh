#!/usr/bin/env bash
# kernel_carrier_test.sh: a kernel TAP's carrier follows its port's link (cp/kernel_port.c,
# docs/ha.md "VRRP"), so that keepalived on the TAP sees a link loss as a FAULT.
#
# net_af_packet (the other tests' ports) reports its link up whatever its interface does;
# net_tap reports its own kernel interface's state (up and running), so here the ports are
# net_tap vdevs in one namespace and "the link goes down" is `ip link set dtx down`.
#
# Usage: kernel_carrier_test.sh STRAIT_BINARY
# shellcheck disable=SC2317 # functions called through check and wait_for
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root
STRAIT_BIN=${1:?usage: $0 STRAIT_BINARY}
_topo_check_prefix
ST=$(_topo_state)
NS=${P}g # a topology name: topo_down (the EXIT trap) stops what runs in it and deletes it
mkdir -p "$ST"
ip netns add "$NS"
ip -n "$NS" link set lo up
cat >"$ST/strait.yaml" <<EOC
ports:
  ext: {device: net_tap0, addresses: [198.51.100.2/24], kernel: {tap: strait-ext}}
  int: {device: net_tap1, addresses: [10.0.0.2/24], kernel: {tap: strait-int}}
workers: 1
sessions: {max: 65536}
EOC
STRAIT_LOG=$ST/strait.log
ip netns exec "$NS" setsid "$STRAIT_BIN" -l 0,1 --no-pci --no-huge -m 256 --file-prefix "$P" \
	--vdev "net_tap0,iface=dtx" --vdev "net_tap1,iface=dti" -- --config "$ST/strait.yaml" \
	>"$STRAIT_LOG" 2>&1 </dev/null &
echo "$! strait" >>"$ST/pids"
check "strait starts with net_tap ports and kernel TAPs" \
	wait_for 20 grep -qsF 'strait: ready' "$STRAIT_LOG"

carrier() { ip netns exec "$NS" cat "/sys/class/net/$1/carrier" 2>/dev/null || echo "?"; }
carrier_is() { [ "$(carrier "$1")" = "$2" ]; }

check_eq "ext TAP has carrier while the port's link is up" 1 "$(carrier strait-ext)"
ip -n "$NS" link set dtx down
check "ext TAP loses its carrier within 2 s of the port's link going down" \
	wait_for 2 carrier_is strait-ext 0
check_match "ip link shows the ext TAP NO-CARRIER" '.*NO-CARRIER.*' \
	"$(ip -n "$NS" -o link show strait-ext)"
check_eq "int TAP keeps its carrier (its port's link is up)" 1 "$(carrier strait-int)"
ip -n "$NS" link set dtx up
check "ext TAP has its carrier back within 2 s of the link coming back" \
	wait_for 2 carrier_is strait-ext 1
check_eq "carrier on logged twice (at start, when the link came back)" 2 \
	"$(grep -c 'kernel port ext: port link up, TAP carrier on' "$STRAIT_LOG")"
check_eq "carrier off logged once" 1 \
	"$(grep -c 'kernel port ext: port link down, TAP carrier off' "$STRAIT_LOG")"

e2e_finish
