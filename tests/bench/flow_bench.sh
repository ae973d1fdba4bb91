#!/usr/bin/env bash
# flow_bench.sh: rte_flow steering of the SNAT partitions against the handoff ring (issue 12,
# item 6; dp/flow.c, docs/benchmarks.md "rte_flow steering of the SNAT partitions").
#
# strait with two workers on two net_tap vdevs, DPDK's one vdev with rte_flow: the kernel's
# TC flower classifier under a multiq qdisc puts each frame the kernel sends into a TAP queue,
# and so on a worker. Each TAP is bridged (in strait's namespace) to a veth whose other end is
# the client's or the pod's eth0:
#
#   client 198.51.100.1 ─ veth ─ bridge ─ TAP fx = net_tap0 (ext, 198.51.100.2)
#                                         TAP fi = net_tap1 (int, 10.0.0.2) ─ bridge ─ veth ─ pod 10.0.0.10
#
# The client sends UDP datagrams from FLOWS source ports to one full-NAT mapping (VIP:9000 ->
# pod:9000, a UDP echo), ROUNDS datagrams each, and counts the echoes. A flow's owner is a
# keyed hash of the client's address, so every session is one worker's, and each reply comes
# back to a SNAT port of that worker's partition. Where the int device takes strait's rules
# (`show ports`: `rte_flow: N rules`) a reply's queue is its owner's by rule; where it does
# not, wherever the device puts it, and the other worker hands it over. `show workers` gives
# each worker's int-arm rx (rx_int): the replies the other worker received are the
# misdelivered ones; handoff_packets counts both arms' hand-overs. The run prints, for the
# int port's steering as strait reports it:
#
#   bench case=flow-steer steering=rte_flow|handoff rules=N flows=F datagrams=D echoed=E
#         int_rx=R int_rx_not_owner=M int_misdelivered=M/R handoff_packets=H
#         workers_sessions=S0/S1
#
# What net_tap does (DPDK 22.11, docs/benchmarks.md): it refuses strait's rules whatever the
# kernel has (its TC flower translation takes only exact ports: `tcp dst 1024/0xfc00`, one
# aligned block of a partition, is "item not supported"), so the run measures the fallback.
# There the kernel's TUN driver steers by itself: it sends a flow's frames to the queue that
# last wrote that flow, so a reply goes to the owner that sent the request, and only a
# flow's first request, queued by the kernel's hash, can land on the other worker.
# Per-packet cycles are not given: strait's workers poll, so only instruction counts
# (pipeline_bench) are stable figures on a shared machine; the counts here are exact.
#
# Usage: flow_bench.sh [--flows N] [--rounds N] [STRAIT_BINARY]
# Needs root, iproute2 (ip, bridge), python3, and a kernel with TAP, veth and bridge.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$ROOT/build/strait
FLOWS=512
ROUNDS=20
while [ $# -gt 0 ]; do
	case $1 in
	--flows) FLOWS=$2 && shift ;;
	--rounds) ROUNDS=$2 && shift ;;
	-h | --help)
		sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) BIN=$1 ;;
	esac
	shift
done
[ -d "$BIN" ] && BIN=$BIN/strait
[ -x "$BIN" ] || { echo "flow_bench: no strait binary at $BIN" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "flow_bench: needs root (network namespaces)" >&2; exit 2; }
STRAITCTL=$(dirname "$BIN")/straitctl

P=fb$$
C=${P}c G=${P}g POD=${P}p
ST=$(mktemp -d /tmp/strait-flow.XXXXXX)
PIDS=()
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
	for ns in "$C" "$G" "$POD"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$ST" "/var/run/dpdk/$P"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for ns in "$C" "$G" "$POD"; do
	ip netns add "$ns" && ip -n "$ns" link set lo up || exit 1
done
cat >"$ST/strait.yaml" <<EOF
ports:
  ext: {device: "net_tap0,iface=fx", addresses: ["198.51.100.2/24"]}
  int: {device: "net_tap1,iface=fi", addresses: ["10.0.0.2/24"]}
workers: 2
sessions: {max: 65536}
cli_socket: $ST/cli.sock
metrics_listen: ""
mappings:
- {name: echo, addresses: [198.51.100.2], ports: [{port: 9000, protocol: udp}],
   backends: [{address: 10.0.0.10}]}
EOF
# Three lcores: the control thread's and two workers (on one CPU where there are two).
LC="0@0,1@1,2@1"
[ "$(nproc)" -gt 1 ] || LC="0@0,1@0,2@0"
ip netns exec "$G" "$BIN" --lcores "$LC" --no-pci --no-huge -m 512 --file-prefix "$P" \
	--log-level='*:notice' -- --config "$ST/strait.yaml" >"$ST/strait.log" 2>&1 </dev/null &
PIDS+=($!)
for ((i = 0; i < 300; i++)); do
	grep -qs 'strait: ready' "$ST/strait.log" && break
	kill -0 "${PIDS[0]}" 2>/dev/null || break
	sleep 0.1
done
grep -qs 'strait: ready' "$ST/strait.log" || {
	echo "flow_bench: strait did not start; its log:" >&2
	sed 's/^/  | /' "$ST/strait.log" >&2
	exit 1
}

# The wiring: each TAP (net_tap made it in $G) into a bridge with a veth to the far side.
# The TAP's kernel address is the port's own MAC, which a bridge would take for its own
# (frames to it delivered locally, not out of the TAP): give the kernel side another.
wire() { # TAP BRIDGE PEER_NS PEER_ADDR
	local tap=$1 br=$2 v=v$1
	ip -n "$G" link set "$tap" down
	ip -n "$G" link set "$tap" address "02:00:00:00:00:$([ "$tap" = fx ] && echo 01 || echo 02)"
	ip -n "$G" link add "$br" type bridge &&
		ip -n "$G" link add "$v" type veth peer name eth0 netns "$3" &&
		ip -n "$G" link set "$tap" master "$br" && ip -n "$G" link set "$v" master "$br" &&
		ip -n "$G" link set "$br" up && ip -n "$G" link set "$v" up &&
		ip -n "$G" link set "$tap" up && ip -n "$3" link set eth0 up &&
		ip -n "$3" addr add "$4" dev eth0
}
wire fx brx "$C" 198.51.100.1/24 || exit 1
wire fi bri "$POD" 10.0.0.10/24 || exit 1
ip -n "$POD" route add default via 10.0.0.2

ctl_json() { # PYTHON-EXPR COMMAND...
	local expr=$1
	shift
	"$STRAITCTL" -s "$ST/cli.sock" --json "$@" |
		python3 -c "import json, sys; d = json.load(sys.stdin); print($expr)"
}

# The pod's UDP echo.
ip netns exec "$POD" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: a round arrives at once
s.bind(("0.0.0.0", 9000))
while True:
    b, a = s.recvfrom(2048)
    s.sendto(b, a)
' &
PIDS+=($!)
sleep 0.5

# The client: FLOWS sockets, ROUNDS datagrams each, one round at a time, echoes counted.
# Prints "sent=N echoed=M".
run_client() {
	ip netns exec "$C" python3 - "$FLOWS" "$ROUNDS" <<'PY'
import select, socket, sys, time
flows, rounds = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(flows):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.51.100.1", 0))
    s.setblocking(False)
    socks.append(s)
sent = echoed = 0
for r in range(rounds):
    for s in socks:
        s.sendto(b"x" * 32, ("198.51.100.2", 9000))
        sent += 1
    want, deadline = len(socks), time.monotonic() + 3.0
    got = 0
    while got < want and time.monotonic() < deadline:
        ready, _, _ = select.select(socks, [], [], 0.2)
        for s in ready:
            while True:
                try:
                    s.recv(2048)
                    got += 1
                except BlockingIOError:
                    break
    echoed += got
print(f"sent={sent} echoed={echoed}")
PY
}

# Neighbours first: strait resolves the client and the pod (a first datagram would wait for
# it), and the client and the pod resolve strait.
ip netns exec "$C" ping -c 2 -i 0.2 -W 1 198.51.100.2 >/dev/null
ip netns exec "$POD" ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null

steer=$(ctl_json "d[1]['steering']" show ports)
echo "flow_bench: int steering: $steer"
# Counters before and after; the owners are the workers that hold sessions after the run.
"$STRAITCTL" -s "$ST/cli.sock" --json show workers >"$ST/before.json"
out=$(run_client)
echo "flow_bench: client: $out"
"$STRAITCTL" -s "$ST/cli.sock" --json show workers >"$ST/after.json"
# "HANDOFF INT_RX INT_RX_NOT_OWNER" over the run
read -r hand rint mis < <(python3 - "$ST/before.json" "$ST/after.json" <<'PY'
import json, sys
b, a = (json.load(open(f)) for f in sys.argv[1:3])
d = lambda k, i: a[i][k] - b[i][k]
n = range(len(a))
print(sum(d("handoff_out", i) for i in n), sum(d("rx_int", i) for i in n),
      sum(d("rx_int", i) for i in n if a[i]["sessions"] == 0))
PY
)
sess=$(ctl_json "'/'.join(str(x['sessions']) for x in d)" show workers)
"$STRAITCTL" -s "$ST/cli.sock" show workers | sed 's/^/  | /'
sent=${out#sent=} sent=${sent%% *}
echoed=${out##*echoed=}
rules=0
kind=handoff
if [[ $steer =~ ^rte_flow:\ ([0-9]+)\ rules ]]; then
	kind=rte_flow rules=${BASH_REMATCH[1]}
fi
echo "bench case=flow-steer steering=$kind rules=$rules flows=$FLOWS datagrams=$sent" \
	"echoed=$echoed int_rx=$rint int_rx_not_owner=$mis" \
	"int_misdelivered=$(awk -v m="$mis" -v r="$rint" 'BEGIN { printf "%.3f", r ? m / r : 0 }')" \
	"handoff_packets=$hand workers_sessions=$sess"
"$STRAITCTL" -s "$ST/cli.sock" show stats | sed -n '/^drops/,/^mappings/p' | sed 's/^/  | /'
# Every echo must come back, whichever way the replies were steered.
[ "$echoed" = "$sent" ] || { echo "flow_bench: $((sent - echoed)) echoes lost" >&2; exit 1; }
