#!/usr/bin/env bash
# e2e_bench.sh: strait against the Linux kernel's nftables NAT, side by side, end to end.
#
# One network-namespace topology (scripts/topo.sh: client ─ gateway ─ bridge ─ pod), one
# generator, one sink. Each run measures both sides in turn on the same topology: (a) strait
# in the gateway namespace on af_packet (or af_xdp) vdevs, (b) the gateway namespace's own
# kernel as an nftables DNAT + masquerade router (topo_kernel_nat) with the same mappings:
#
#   udp64  udpgen (tests/bench/udpgen.c), 64-byte UDP frames from 256 source ports to the
#          VIP, as fast as one core sends them, for DURATION s; delivered = what the pod's
#          nftables sink counted, loss = 1 - delivered / offered (what udpgen sent)
#   udp64@RATE  the same at a fixed rate (default 50000 pps) that both sides should carry:
#          its loss is the "0 loss" figure
#   tcp    iperf3 through a mapping to iperf3 -s in the pod, DURATION s, receiver's rate
#   rtt    sockperf ping-pong (UDP, 64-byte messages) to sockperf sr in the pod: RTT p50, p99
#
# Why udpgen and not trafgen: an skb stays charged to the sending socket until the gateway
# frees it, and trafgen's socket holds only net.core.wmem_default (208 KiB) of them; with the
# kernel gateway working on the other CPU, trafgen waited for it instead of the gateway
# dropping, so it measured its own flow control. Raising that sysctl is machine-wide (it is
# read-only in a network namespace); udpgen takes a large buffer with SO_SNDBUFFORCE and
# bypasses the qdisc, the same program for both sides. dpdk-testpmd txonly would need its own
# EAL and memory beside strait's on a 2-core machine and has the same socket limit on
# af_packet.
#
# CPUs (2 on the machine this was written for): the generator, the clients, the servers and
# the sink on CPU 0 (TOPO_CPU); the gateway gets CPU 1: strait's worker lcore, or for the
# kernel, RPS steers the gateway interfaces' receive processing to CPU 1. Where the delivered
# rate equals the offered rate the run is generator-bound; the summary says which.
#
# Usage: e2e_bench.sh [--quick] [--runs N] [--duration S] [--rate PPS]
#                     [--pmd net_af_packet|net_af_xdp] [STRAIT_BINARY]
# Prints a table per run, the medians and ratios, and one line per result:
#   bench case=e2e-udp64 side=strait sessions=256 pps=... offered_pps=... loss=...
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/topo.sh
source "$ROOT/scripts/topo.sh"

RUNS=3
DUR=10
RATE=50000 # pps of the fixed-rate UDP run: below what both sides forward, loss should be 0
QUICK=0
PMD=net_af_packet
BIN=$ROOT/build/strait
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 RUNS=1 DUR=2 ;;
	--runs) RUNS=$2 && shift ;;
	--duration) DUR=$2 && shift ;;
	--pmd) PMD=$2 && shift ;;
	--rate) RATE=$2 && shift ;;
	-h | --help)
		sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) BIN=$1 ;;
	esac
	shift
done
[ -d "$BIN" ] && BIN=$BIN/strait
[ -x "$BIN" ] || { echo "e2e_bench: no strait binary at $BIN" >&2; exit 2; }
UDPGEN=${UDPGEN:-$(dirname "$BIN")/tests/bench/udpgen}
[ -x "$UDPGEN" ] || { echo "e2e_bench: no udpgen at $UDPGEN (set UDPGEN)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "e2e_bench: needs root (network namespaces)" >&2; exit 2; }

P=sb$$
export P STRAIT_PMD=$PMD
VIP=$TOPO_EXT_ADDR
POD=$(topo_pod_addr 0)
FLOWS=256
ST=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	topo_down
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

topo_require sockperf:sockperf iperf3:iperf3 nft:nftables conntrack:conntrack \
	ethtool:ethtool taskset:util-linux || exit 1
topo_up 1 || exit 1
ST=$(_topo_state)
# The pod: a sink that counts and drops (no ICMP port unreachable back), iperf3, sockperf.
in_pod 0 nft -f - <<EOF || exit 1
table inet sink {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 9 counter drop
	}
}
EOF
_topo_spawn iperf3 "${P}p0" iperf3 -s -p 5201 >/dev/null
_topo_spawn sockperf "${P}p0" sockperf sr -i 0.0.0.0 -p 11111 >/dev/null
for ((i = 0; i < 50; i++)); do
	socks=$(ip netns exec "${P}p0" ss -Hltun 2>/dev/null)
	grep -q ':5201 ' <<<"$socks" && grep -q ':11111 ' <<<"$socks" && break
	sleep 0.1
done

# strait: the mappings of the benchmark, nothing else.
PMD_DEV=${PMD}
cat >"$ST/strait.yaml" <<EOF
ports:
  ext: {device: "${PMD_DEV}0", addresses: ["$VIP/24"]}
  int: {device: "${PMD_DEV}1", addresses: ["$TOPO_INT_ADDR/24"]}
workers: 1
sessions: {max: 65536}
cli_socket: ""
metrics_listen: ""
mappings:
- {name: sink, addresses: [$VIP], ports: [{port: 9000, servicePort: 9, protocol: udp}],
   backends: [{address: $POD}]}
- {name: iperf, addresses: [$VIP], ports: [{port: 5201, protocol: tcp}], backends: [{address: $POD}]}
- {name: rtt, addresses: [$VIP], ports: [{port: 11111, protocol: udp}], backends: [{address: $POD}]}
EOF

# The kernel: topo_kernel_nat's ruleset (config/strait.yaml's mappings), plus the same three.
kernel_on() {
	topo_kernel_nat >/dev/null 2>&1 || return 1
	in_gw nft -f - <<EOF || return 1
add rule ip strait_knat prerouting ip daddr $VIP udp dport 9000 counter dnat to $POD:9
add rule ip strait_knat prerouting ip daddr $VIP tcp dport 5201 counter dnat to $POD:5201
add rule ip strait_knat prerouting ip daddr $VIP udp dport 11111 counter dnat to $POD:11111
EOF
	# RPS: the gateway's packet processing on CPU 1, as strait's worker is.
	local ifc
	[ "${E2E_KERNEL_RPS:-2}" = 0 ] && return 0
	for ifc in st-gx st-gi; do
		in_gw sh -c "echo ${E2E_KERNEL_RPS:-2} > /sys/class/net/$ifc/queues/rx-0/rps_cpus" ||
			return 1
	done
}
kernel_off() {
	local ifc
	in_gw nft delete table ip strait_knat 2>/dev/null
	for ifc in st-gx st-gi; do
		in_gw ip addr flush dev "$ifc"
		in_gw sh -c "echo 0 > /sys/class/net/$ifc/queues/rx-0/rps_cpus"
	done
	_topo_sysctl "${P}g" net/ipv4/ip_forward=0
	# Conntrack entries of the finished run would be reused by the next one; strait
	# starts each run with an empty table too.
	in_gw conntrack -F >/dev/null 2>&1
}
strait_on() { strait_start "$BIN" "$ST/strait.yaml" >/dev/null; }
strait_off() { strait_stop >/dev/null 2>&1 || true; }

GWMAC=$(in_gw cat /sys/class/net/st-gx/address)
sink_count() {
	in_pod 0 nft list chain inet sink input | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p'
}
# One generator on CPU 0 (in_client pins it). Prints "sent=N seconds=S pps=P".
gen_run() { # SECONDS [RATE_PPS]
	in_client "$UDPGEN" eth0 "$GWMAC" "$TOPO_CLIENT_ADDR" "$VIP" 9000 "$FLOWS" "$@"
}

# E2E_DEBUG=1: where the packets went, hop by hop (cumulative counters).
hops() {
	local st=/sys/class/net
	echo "  hops: client tx $(in_client cat $st/eth0/statistics/tx_packets)" \
		"txdrop $(in_client cat $st/eth0/statistics/tx_dropped);" \
		"gw st-gx rx $(in_gw cat $st/st-gx/statistics/rx_packets)" \
		"rxdrop $(in_gw cat $st/st-gx/statistics/rx_dropped);" \
		"gw st-gi tx $(in_gw cat $st/st-gi/statistics/tx_packets)" \
		"txdrop $(in_gw cat $st/st-gi/statistics/tx_dropped);" \
		"pod rx $(in_pod 0 cat $st/eth0/statistics/rx_packets)" \
		"rxdrop $(in_pod 0 cat $st/eth0/statistics/rx_dropped); sink $(sink_count);" \
		"softnet drops $(while read -r _ d _; do echo $((16#$d)); done </proc/net/softnet_stat |
			awk '{ s += $1 } END { print s }')"
}

# Results of one measurement, in globals.
R_PPS= R_OFFERED= R_LOSS= R_GBPS= R_P50= R_P99=
measure_udp64() { # [RATE_PPS]: as fast as udpgen sends, or at a fixed rate
	local rate=${1:-} d0 d1 out sent secs
	# Warm-up: sessions (conntrack entries) and ARP entries exist before the clock starts.
	gen_run 1 2000 >/dev/null
	sleep 0.5
	d0=$(sink_count)
	out=$(gen_run "$DUR" ${rate:+"$rate"})
	sleep 1 # what is still queued gets delivered
	d1=$(sink_count)
	[ -n "${E2E_DEBUG:-}" ] && echo "  gen: $out" >&2 && hops >&2
	sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$out")
	secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$out")
	read -r R_PPS R_OFFERED R_LOSS < <(awk -v s="${sent:-0}" -v d="$((d1 - d0))" \
		-v t="${secs:-1}" \
		'BEGIN { printf "%.0f %.0f %.4f\n", d / t, s / t, s ? 1 - d / s : 1 }')
}
measure_tcp() {
	local out
	out=$(in_client iperf3 -c "$VIP" -p 5201 -t "$DUR" -J 2>/dev/null)
	R_GBPS=$(python3 -c 'import json,sys
try:
    print("%.3f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception:
    print("0")' <<<"$out")
}
measure_rtt() {
	local out
	out=$(in_client sockperf pp -i "$VIP" -p 11111 -t "$DUR" -m 64 --full-rtt 2>&1 |
		sed 's/\x1b\[[0-9;]*m//g')
	R_P50=$(sed -n 's/.*percentile 50.000 = *\([0-9.]*\).*/\1/p' <<<"$out")
	R_P99=$(sed -n 's/.*percentile 99.000 = *\([0-9.]*\).*/\1/p' <<<"$out")
	R_P50=${R_P50:-0} R_P99=${R_P99:-0}
}

declare -A V # V[side,metric,run]
printf '%-7s %-4s %12s %12s %8s %12s %9s %10s %10s\n' side run "pps" "offered" "loss" \
	"loss@$RATE" "tcp Gb/s" "rtt p50 us" "rtt p99 us"
for ((r = 1; r <= RUNS; r++)); do
	for side in strait kernel; do
		if [ $side = strait ]; then strait_on || { echo "e2e_bench: strait did not start" >&2; exit 1; }
		else kernel_on || { echo "e2e_bench: kernel NAT setup failed" >&2; exit 1; }; fi
		measure_udp64 "$RATE"
		V[$side,rloss,$r]=$R_LOSS V[$side,rpps,$r]=$R_PPS
		measure_udp64
		measure_tcp
		measure_rtt
		if [ $side = strait ]; then
			strait_off
			grep -E '^drops:' "$STRAIT_LOG" | sed 's/^/  strait /' >&2
		else
			kernel_off
		fi
		V[$side,pps,$r]=$R_PPS V[$side,offered,$r]=$R_OFFERED V[$side,loss,$r]=$R_LOSS
		V[$side,gbps,$r]=$R_GBPS V[$side,p50,$r]=$R_P50 V[$side,p99,$r]=$R_P99
		printf '%-7s %-4s %12s %12s %8s %12s %9s %10s %10s\n' $side $r "$R_PPS" \
			"$R_OFFERED" "$R_LOSS" "${V[$side,rloss,$r]}" "$R_GBPS" "$R_P50" "$R_P99"
	done
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A M
for side in strait kernel; do
	for metric in pps offered loss rpps rloss gbps p50 p99; do
		vals=()
		for ((r = 1; r <= RUNS; r++)); do vals+=("${V[$side,$metric,$r]}"); done
		M[$side,$metric]=$(median "${vals[@]}")
	done
done
echo
echo "medians of $RUNS run(s), $DUR s each, $PMD, 64-byte UDP from $FLOWS flows:"
printf '%-7s %12s %12s %8s %12s %9s %10s %10s  %s\n' side pps offered loss "loss@$RATE" \
	"tcp Gb/s" "p50 us" "p99 us" "udp64 bound by"
for side in strait kernel; do
	# Delivered within 5 % of offered: the gateway kept up, the generator was the limit.
	bound=$(awk -v p="${M[$side,pps]}" -v o="${M[$side,offered]}" \
		'BEGIN { print (o > 0 && p >= 0.95 * o) ? "generator" : "gateway" }')
	printf '%-7s %12s %12s %8s %12s %9s %10s %10s  %s\n' $side "${M[$side,pps]}" \
		"${M[$side,offered]}" "${M[$side,loss]}" "${M[$side,rloss]}" "${M[$side,gbps]}" \
		"${M[$side,p50]}" "${M[$side,p99]}" "$bound"
	echo "bench case=e2e-udp64 side=$side sessions=$FLOWS pps=${M[$side,pps]}" \
		"offered_pps=${M[$side,offered]} loss=${M[$side,loss]} bound=$bound runs=$RUNS"
	echo "bench case=e2e-udp64-rate side=$side sessions=$FLOWS pps=${M[$side,rpps]}" \
		"offered_pps=$RATE loss=${M[$side,rloss]} runs=$RUNS"
	echo "bench case=e2e-tcp side=$side sessions=1 gbps=${M[$side,gbps]} runs=$RUNS"
	echo "bench case=e2e-rtt side=$side sessions=1 rtt_p50_us=${M[$side,p50]}" \
		"rtt_p99_us=${M[$side,p99]} runs=$RUNS"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
echo "bench case=e2e-ratio side=strait/kernel pps_ratio=$(ratio "${M[strait,pps]}" "${M[kernel,pps]}")" \
	"tcp_ratio=$(ratio "${M[strait,gbps]}" "${M[kernel,gbps]}")" \
	"rtt_p50_ratio=$(ratio "${M[strait,p50]}" "${M[kernel,p50]}")" \
	"rtt_p99_ratio=$(ratio "${M[strait,p99]}" "${M[kernel,p99]}")"
