#!/usr/bin/env bash
# e2e_bench.sh: strait against the Linux kernel's nftables NAT and Linux IPVS, side by side,
# end to end.
#
# One network-namespace topology (scripts/topo.sh: client ─ gateway ─ bridge ─ pod), one
# generator, one sink. Each run measures every side in turn on the same topology: (a) strait
# in the gateway namespace on af_packet (or af_xdp) vdevs, (b) the gateway namespace's own
# kernel as an nftables DNAT + masquerade router (topo_kernel_nat) with the same mappings,
# (c) Linux IPVS (LVS, what DPVS compares itself with) in NAT mode, one virtual service per
# mapping with the pod as its real server (`ipvsadm -m`), and full NAT as kube-proxy's IPVS
# mode does it: net.ipv4.vs.conntrack=1 and an nftables masquerade towards the pods. IPVS
# needs the kernel's ip_vs (CONFIG_IP_VS, built in or as modules) and ipvsadm: where either
# is missing the side is skipped with a `bench case=e2e-ipvs side=ipvs skipped=...` line
# that says which (--no-ipvs skips it always):
#
#   gen    the generator alone, into the idle gateway namespace (no strait, no NAT: the
#          kernel drops the frames after the veth): its own ceiling, every run
#   udp64  64-byte UDP frames to the VIP from 256 flows, as fast as the generator sends them,
#          DURATION s; delivered = what the pod's nftables sink counted, offered = what the
#          client's eth0 sent in the same window, loss = 1 - delivered / offered
#   udp64@RATE  the same from udpgen (tests/bench/udpgen.c) paced at a fixed rate (default
#          50000 pps) that both sides should carry: its loss is the "0 loss" figure
#   tcp    iperf3 through a mapping to iperf3 -s in the pod, DURATION s, receiver's rate
#   rtt    sockperf ping-pong (UDP, 64-byte messages) to sockperf sr in the pod: RTT p50, p99
#   tcp on testpmd-io  dpdk-testpmd --forward-mode=io on the same two vdevs as strait (same
#          PMD, same lcores), the client addressing the pod directly: the ceiling of any DPDK
#          application on these ports (io forwarding rewrites nothing, so the client's and the
#          pod's static neighbour entries carry the final receiver's MAC)
#
# The generator (--gen dpdk, the default where dpdk-testpmd is installed): dpdk-testpmd
# --forward-mode=txonly on its own net_af_xdp vdev over the client's eth0 (its own
# --file-prefix, --no-pci --no-huge), 60-byte frames (64 on the wire), --txonly-multi-flow
# (256 source addresses 198.51.X.2 to one UDP port). Into the idle gateway it offered 1.7x
# what udpgen did from the same CPU, in consecutive windows (910 vs 540 kpps): AF_XDP's
# generic transmit builds an skb per frame as sendmmsg() does, without the socket layer. trafgen
# (netsniff-ng's packaged generator) offered less than udpgen here (464 vs 534 kpps), so it
# is not used. --gen udpgen keeps the old generator for the as-fast-as-possible run too.
#
# udpgen for the paced run (testpmd's txonly has no rate): an skb stays charged to the
# sending socket until the gateway frees it, and trafgen's socket holds only
# net.core.wmem_default (208 KiB) of them; with the kernel gateway working on the other CPU,
# trafgen waited for it instead of the gateway dropping. udpgen takes a large buffer with
# SO_SNDBUFFORCE and bypasses the qdisc, the same program for both sides.
#
# Which side was the bottleneck, on every bench line (bottleneck=): for udp64, "generator"
# when the gateway delivered >= 95 % of what was offered, else the gateway ("strait" or
# "kernel"); offered_vs_ceiling is the share of its idle-gateway ceiling the generator still
# reached (veth delivers a frame on the sender's CPU, so the gateway's receive work in the
# kernel, af_packet's copy or the IP stack, slows the generator down). For tcp: "cpu0" when
# the client's and the pod's CPU (iperf3 and both TCP stacks) was >= 95 % busy, else the
# gateway; strait's worker polls, so its CPU always looks busy.
#
# CPUs (2 on the machine this was written for): the generator, the clients, the servers and
# the sink on CPU 0 (TOPO_CPU); the gateway gets CPU 1: strait's worker lcore, testpmd's
# forwarding lcore, or for the kernel, RPS steers the gateway interfaces' receive processing
# to CPU 1.
#
# Usage: e2e_bench.sh [--quick] [--runs N] [--duration S] [--rate PPS]
#                     [--pmd net_af_xdp|net_af_packet] [--gen dpdk|udpgen] [--no-testpmd]
#                     [--no-ipvs]
#                     [STRAIT_BINARY]
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
# af_xdp by default: strait's TCP on it was 2.4x its af_packet figure and its 64-byte pps
# 1.9x (docs/benchmarks.md, 2026-12-04); af_xdp hands strait frames without af_packet's two
# copies and per-burst sendto() ring walk. --pmd net_af_packet for the old figures.
PMD=net_af_xdp
GEN=udpgen
command -v dpdk-testpmd >/dev/null 2>&1 && GEN=dpdk
TESTPMD=1
IPVS=1
BIN=$ROOT/build/strait
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 RUNS=1 DUR=2 ;;
	--runs) RUNS=$2 && shift ;;
	--duration) DUR=$2 && shift ;;
	--pmd) PMD=$2 && shift ;;
	--rate) RATE=$2 && shift ;;
	--gen) GEN=$2 && shift ;;
	--no-testpmd) TESTPMD=0 ;;
	--no-ipvs) IPVS=0 ;;
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
case $GEN in dpdk | udpgen) ;; *) echo "e2e_bench: --gen dpdk|udpgen" >&2 && exit 2 ;; esac

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
if [ "$GEN" = dpdk ] || [ $TESTPMD -eq 1 ]; then topo_require dpdk-testpmd:dpdk || exit 1; fi
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
# E2E_HOST_RPS=MASK: RPS on the client's and the pod's eth0, so that their TCP stacks take
# what they receive on those CPUs (1 = CPU 0, where iperf3 runs) instead of in whichever
# context delivered the frame (the gateway's CPU: RPS there for the kernel, strait's sendto()).
# Off by default: docs/benchmarks.md, "Where the CPU goes in TCP, and where the end hosts'
# stacks run (stop 33)".
if [ -n "${E2E_HOST_RPS:-}" ]; then
	in_client sh -c "echo $E2E_HOST_RPS > /sys/class/net/eth0/queues/rx-0/rps_cpus" || exit 1
	in_pod 0 sh -c "echo $E2E_HOST_RPS > /sys/class/net/eth0/queues/rx-0/rps_cpus" || exit 1
fi
_topo_spawn sockperf "${P}p0" sockperf sr -i 0.0.0.0 -p 11111 >/dev/null
for ((i = 0; i < 50; i++)); do
	socks=$(ip netns exec "${P}p0" ss -Hltun 2>/dev/null)
	grep -q ':5201 ' <<<"$socks" && grep -q ':11111 ' <<<"$socks" && break
	sleep 0.1
done

# strait: the mappings of the benchmark, nothing else. The ext subnet is a /16 so that the
# DPDK generator's sources (198.51.X.2) are on-link: strait drops (no_route) what it could
# not answer, and there is no router on the client's side.
PMD_DEV=${PMD}
cat >"$ST/strait.yaml" <<EOF
ports:
  ext: {device: "${PMD_DEV}0", addresses: ["$VIP/16"]}
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

# RPS for the kernel-side gateways (nftables, IPVS): the gateway's packet processing on CPU 1,
# as strait's worker is (E2E_KERNEL_RPS: the CPU mask, 0 = leave RPS off).
gw_rps_on() {
	local ifc
	[ "${E2E_KERNEL_RPS:-2}" = 0 ] && return 0
	for ifc in st-gx st-gi; do
		in_gw sh -c "echo ${E2E_KERNEL_RPS:-2} > /sys/class/net/$ifc/queues/rx-0/rps_cpus" ||
			return 1
	done
}

# The kernel: topo_kernel_nat's ruleset (config/strait.yaml's mappings), plus the same three.
kernel_on() {
	topo_kernel_nat >/dev/null 2>&1 || return 1
	in_gw nft -f - <<EOF || return 1
add rule ip strait_knat prerouting ip daddr $VIP udp dport 9000 counter dnat to $POD:9
add rule ip strait_knat prerouting ip daddr $VIP tcp dport 5201 counter dnat to $POD:5201
add rule ip strait_knat prerouting ip daddr $VIP udp dport 11111 counter dnat to $POD:11111
EOF
	# The DPDK generator's sources (198.51.X.2) are not all on st-gx's subnet and the
	# gateway has no route back to them: reverse-path filtering would drop them. strait
	# does not filter by source either.
	_topo_sysctl "${P}g" net/ipv4/conf/all/rp_filter=0 net/ipv4/conf/st-gx/rp_filter=0 ||
		return 1
	gw_rps_on
}
kernel_off() {
	local ifc
	in_gw nft delete table ip strait_knat 2>/dev/null
	for ifc in st-gx st-gi; do
		in_gw ip addr flush dev "$ifc"
		in_gw sh -c "echo 0 > /sys/class/net/$ifc/queues/rx-0/rps_cpus"
	done
	_topo_sysctl "${P}g" net/ipv4/ip_forward=0 net/ipv4/conf/all/rp_filter="$RPF_ALL" \
		net/ipv4/conf/st-gx/rp_filter="$RPF_GX"
	# Conntrack entries of the finished run would be reused by the next one; strait
	# starts each run with an empty table too.
	in_gw conntrack -F >/dev/null 2>&1
}
# IPVS: the same three mappings as virtual services in NAT (masquerading) mode, round robin
# over the one pod. IPVS takes a packet at LOCAL_IN, so the VIP is one of the gateway's own
# addresses (on st-gx, as the kernel side has it). Full NAT as kube-proxy's IPVS mode does
# it: IPVS keeps conntrack entries for its connections (net.ipv4.vs.conntrack=1) and
# nftables masquerades what leaves towards the pods, so the pod answers the gateway. Same
# forwarding, rp_filter and RPS settings as the kernel side.
IPVS_SKIP=
ipvs_probe() { # sets IPVS_SKIP to why the side cannot run here, or leaves it empty
	if [ $IPVS -eq 0 ]; then
		IPVS_SKIP=--no-ipvs
	elif ! command -v ipvsadm >/dev/null 2>&1; then
		IPVS_SKIP=no-ipvsadm # Debian: apt-get install ipvsadm
	elif ! in_gw ipvsadm -Ln >/dev/null 2>&1; then
		# ipvsadm loads ip_vs itself where it is a module; here it is neither.
		IPVS_SKIP=no-ip_vs-in-kernel-$(uname -r)
	fi
}
ipvs_on() {
	in_gw ip addr add "$TOPO_EXT_ADDR/24" dev st-gx || return 1
	in_gw ip addr add "$TOPO_INT_ADDR/24" dev st-gi || return 1
	_topo_sysctl "${P}g" net/ipv4/ip_forward=1 net/ipv4/vs/conntrack=1 \
		net/ipv4/conf/all/rp_filter=0 net/ipv4/conf/st-gx/rp_filter=0 || return 1
	in_gw ipvsadm -C || return 1
	in_gw ipvsadm -A -u "$VIP:9000" -s rr || return 1
	in_gw ipvsadm -a -u "$VIP:9000" -r "$POD:9" -m || return 1
	in_gw ipvsadm -A -t "$VIP:5201" -s rr || return 1
	in_gw ipvsadm -a -t "$VIP:5201" -r "$POD:5201" -m || return 1
	in_gw ipvsadm -A -u "$VIP:11111" -s rr || return 1
	in_gw ipvsadm -a -u "$VIP:11111" -r "$POD:11111" -m || return 1
	in_gw nft -f - <<EOF || return 1
table ip strait_ipvs {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "st-gi" counter masquerade
	}
}
EOF
	gw_rps_on
}
ipvs_off() {
	in_gw ipvsadm -C 2>/dev/null
	in_gw nft delete table ip strait_ipvs 2>/dev/null
	_topo_sysctl "${P}g" net/ipv4/vs/conntrack=0 2>/dev/null
	kernel_off
}
RPF_ALL=$(in_gw cat /proc/sys/net/ipv4/conf/all/rp_filter)
RPF_GX=$(in_gw cat /proc/sys/net/ipv4/conf/st-gx/rp_filter)
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

now_s() { date +%s.%N; }
tx_count() { in_client cat /sys/class/net/eth0/statistics/tx_packets; }
# The DPDK generator for DUR seconds (see the header); sets W_OFFERED and W_DELIVERED (pps,
# in one window that starts once it sends). Its log: $ST/dpdkgen.log.
W_OFFERED= W_DELIVERED=
dgen_window() {
	local pid i c0 c1 s0 s1 t0 t1
	c0=$(tx_count)
	pid=$(_topo_spawn dpdkgen "${P}c" dpdk-testpmd --lcores "0@${TOPO_CPU:-0},1@${TOPO_CPU:-0}" \
		--no-pci --no-huge -m 256 --file-prefix "${P}gen" --vdev "net_af_xdp_gen,iface=eth0" \
		--log-level='*:error' -- --forward-mode=txonly --txpkts=60 --burst=64 --txd=2048 \
		--total-num-mbufs=16384 --eth-peer="0,$GWMAC" --tx-ip="$TOPO_CLIENT_ADDR,$VIP" \
		--tx-udp=1024,9000 --txonly-multi-flow --auto-start --stats-period=3600)
	for ((i = 0; i < 100; i++)); do
		sleep 0.1
		[ "$(tx_count)" -gt $((c0 + 10000)) ] && break
		_topo_alive "$pid" || break
	done
	sleep 0.5 # ramp: sessions and conntrack entries for the 256 sources
	t0=$(now_s) c0=$(tx_count) s0=$(sink_count)
	sleep "$DUR"
	t1=$(now_s) c1=$(tx_count) s1=$(sink_count)
	kill -INT "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do _topo_alive "$pid" || break; sleep 0.1; done
	_topo_alive "$pid" && kill -KILL "$pid" 2>/dev/null
	read -r W_OFFERED W_DELIVERED < <(awk -v a="$t0" -v b="$t1" -v c="$((c1 - c0))" \
		-v d="$((s1 - s0))" 'BEGIN { t = b - a; if (t <= 0) t = 1; printf "%.0f %.0f\n", c / t, d / t }')
	sleep 0.5
}

# dpdk-testpmd io-forwarding on strait's two vdevs (same PMD, options and lcores); the
# client talks to the pod directly. testpmd_on / testpmd_off.
TP_PID=
CMAC=$(in_client cat /sys/class/net/eth0/address)
PMAC=$(in_pod 0 cat /sys/class/net/eth0/address)
testpmd_on() {
	local opts=$STRAIT_VDEV_OPTS i
	[ "$PMD" = net_af_packet ] && [[ $opts != *framecnt=* ]] &&
		opts=",framecnt=$STRAIT_AFP_FRAMES$opts"
	in_client ip route replace 10.0.0.0/24 via "$VIP" || return 1
	in_client ip neigh replace "$VIP" lladdr "$PMAC" dev eth0 nud permanent || return 1
	in_pod 0 ip neigh replace "$TOPO_INT_ADDR" lladdr "$CMAC" dev eth0 nud permanent || return 1
	# shellcheck disable=SC2086 # STRAIT_LCORES is a word list
	ip netns exec "${P}g" setsid dpdk-testpmd $STRAIT_LCORES --no-pci --no-huge -m 512 \
		--file-prefix "${P}tp" --vdev "${PMD}0,iface=st-gx$opts" \
		--vdev "${PMD}1,iface=st-gi$opts" --log-level='*:error' -- --forward-mode=io \
		--auto-start --total-num-mbufs=16384 --stats-period=3600 >"$ST/testpmd.log" 2>&1 \
		</dev/null &
	TP_PID=$!
	echo "$TP_PID testpmd" >>"$ST/pids"
	for ((i = 0; i < 100; i++)); do
		grep -q 'Port 1: ' "$ST/testpmd.log" && return 0
		_topo_alive "$TP_PID" || break
		sleep 0.1
	done
	sed 's/^/  testpmd| /' "$ST/testpmd.log" >&2
	return 1
}
testpmd_off() {
	local i
	[ -n "$TP_PID" ] && kill -INT "$TP_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do _topo_alive "$TP_PID" || break; sleep 0.1; done
	_topo_alive "$TP_PID" && kill -KILL "$TP_PID" 2>/dev/null
	TP_PID=
	in_client ip route del 10.0.0.0/24 via "$VIP" 2>/dev/null
	in_client ip neigh del "$VIP" dev eth0 2>/dev/null
	in_pod 0 ip neigh del "$TOPO_INT_ADDR" dev eth0 2>/dev/null
	return 0
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
	if [ -z "$rate" ] && [ "$GEN" = dpdk ]; then
		dgen_window
		R_PPS=$W_DELIVERED R_OFFERED=$W_OFFERED
		[ -n "${E2E_DEBUG:-}" ] && hops >&2
		R_LOSS=$(awk -v o="$W_OFFERED" -v d="$W_DELIVERED" \
			'BEGIN { l = o > 0 ? 1 - d / o : 1; printf "%.4f", (l < 0 ? 0 : l) }')
		return
	fi
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
cpu_ticks() { awk '/^cpu[01] / { printf "%s %s ", $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }
R_CPU0= R_CPU1=
measure_tcp() { # [TARGET]: the VIP through a mapping, or the pod directly (testpmd)
	local out a b
	a=$(cpu_ticks)
	out=$(in_client iperf3 -c "${1:-$VIP}" -p 5201 -t "$DUR" -J 2>/dev/null)
	b=$(cpu_ticks)
	read -r R_CPU0 R_CPU1 < <(awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y)
		for (c = 0; c < 2; c++) { u = y[2 * c + 1] - x[2 * c + 1]; i = y[2 * c + 2] - x[2 * c + 2]
			printf "%d ", (u + i) ? 100 * u / (u + i) : 0 } print "" }')
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
SIDES=(strait kernel)
ipvs_probe
if [ -z "$IPVS_SKIP" ]; then
	SIDES+=(ipvs)
else
	echo "e2e_bench: IPVS side skipped: $IPVS_SKIP" >&2
fi
[ $TESTPMD -eq 1 ] && SIDES+=(testpmd-io)
printf '%-10s %-4s %12s %12s %8s %12s %9s %10s %10s\n' side run "pps" "offered" "loss" \
	"loss@$RATE" "tcp Gb/s" "rtt p50 us" "rtt p99 us"
for ((r = 1; r <= RUNS; r++)); do
	if [ "$GEN" = dpdk ]; then
		# The generator alone: the gateway namespace idle (no strait, no addresses).
		dgen_window
		V[gen,pps,$r]=$W_OFFERED
		printf '%-10s %-4s %12s %12s\n' generator $r "-" "$W_OFFERED"
	fi
	for side in "${SIDES[@]}"; do
		case $side in
		strait) strait_on || { echo "e2e_bench: strait did not start" >&2; exit 1; } ;;
		kernel) kernel_on || { echo "e2e_bench: kernel NAT setup failed" >&2; exit 1; } ;;
		ipvs) ipvs_on || { echo "e2e_bench: IPVS setup failed" >&2; exit 1; } ;;
		testpmd-io)
			testpmd_on || { echo "e2e_bench: testpmd did not start" >&2; exit 1; }
			measure_tcp "$POD"
			testpmd_off
			V[$side,gbps,$r]=$R_GBPS V[$side,cpu0,$r]=$R_CPU0 V[$side,cpu1,$r]=$R_CPU1
			printf '%-10s %-4s %12s %12s %8s %12s %9s\n' "$side" "$r" - - - - "$R_GBPS"
			continue
			;;
		esac
		measure_udp64 "$RATE"
		V[$side,rloss,$r]=$R_LOSS V[$side,rpps,$r]=$R_PPS
		measure_udp64
		V[$side,pps,$r]=$R_PPS V[$side,offered,$r]=$R_OFFERED V[$side,loss,$r]=$R_LOSS
		V[$side,gen,$r]=$GEN V[$side,dpps,$r]=$R_PPS V[$side,upps,$r]=0
		if [ "$GEN" = dpdk ]; then
			# udpgen too: AF_XDP's generic transmit waits for its frames to be freed, and
			# a gateway that queues them (the kernel, with RPS) holds the DPDK generator
			# back below what udpgen's 64 MiB socket buffer offers. The side's figure is
			# whichever generator made it deliver more.
			GEN=udpgen measure_udp64
			V[$side,upps,$r]=$R_PPS
			if [ "$R_PPS" -gt "${V[$side,pps,$r]}" ]; then
				V[$side,pps,$r]=$R_PPS V[$side,offered,$r]=$R_OFFERED
				V[$side,loss,$r]=$R_LOSS V[$side,gen,$r]=udpgen
			fi
		fi
		measure_tcp
		V[$side,gbps,$r]=$R_GBPS V[$side,cpu0,$r]=$R_CPU0 V[$side,cpu1,$r]=$R_CPU1
		measure_rtt
		V[$side,p50,$r]=$R_P50 V[$side,p99,$r]=$R_P99
		case $side in
		strait)
			strait_off
			grep -E '^drops:' "$STRAIT_LOG" | sed 's/^/  strait /' >&2
			;;
		ipvs) ipvs_off ;;
		*) kernel_off ;;
		esac
		printf '%-10s %-4s %12s %12s %8s %12s %9s %10s %10s\n' "$side" "$r" "${V[$side,pps,$r]}" \
			"${V[$side,offered,$r]}" "${V[$side,loss,$r]}" "${V[$side,rloss,$r]}" \
			"${V[$side,gbps,$r]}" "$R_P50" "$R_P99"
	done
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A M
for side in "${SIDES[@]}" gen; do
	for metric in pps offered loss rpps rloss gbps p50 p99 cpu0 cpu1 dpps upps; do
		vals=()
		for ((r = 1; r <= RUNS; r++)); do vals+=("${V[$side,$metric,$r]:-0}"); done
		M[$side,$metric]=$(median "${vals[@]}")
	done
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "inf" }'; }
GENNAME=udpgen
[ "$GEN" = dpdk ] && GENNAME=testpmd-txonly-af_xdp
echo
echo "medians of $RUNS run(s), $DUR s each, $PMD, 64-byte UDP from $FLOWS flows ($GENNAME):"
[ "$GEN" = dpdk ] && echo "generator alone (idle gateway): ${M[gen,pps]} pps"
printf '%-10s %12s %12s %8s %12s %9s %10s %10s  %s\n' side pps offered loss "loss@$RATE" \
	"tcp Gb/s" "p50 us" "p99 us" "udp64 bottleneck"
if [ "$GEN" = dpdk ]; then
	echo "bench case=e2e-gen side=generator gen=$GENNAME sessions=$FLOWS pps=${M[gen,pps]}" \
		"bottleneck=generator runs=$RUNS"
fi
for side in "${SIDES[@]}"; do
	# TCP: cpu0 (iperf3 client and server, both TCP stacks) saturated, else the gateway.
	tbott=$(awk -v c="${M[$side,cpu0]}" -v s="$side" 'BEGIN { print (c >= 95 ? "cpu0" : s) }')
	if [ "$side" = testpmd-io ]; then
		printf '%-10s %12s %12s %8s %12s %9s\n' "$side" - - - - "${M[$side,gbps]}"
		echo "bench case=e2e-tcp side=$side fwd=io pmd=$PMD sessions=1 gbps=${M[$side,gbps]}" \
			"cpu0_busy=${M[$side,cpu0]} cpu1_busy=${M[$side,cpu1]} bottleneck=$tbott runs=$RUNS"
		continue
	fi
	# The generator was the limit only if the gateway delivered >= 95 % of what it offered
	# and it offered >= 90 % of its idle-gateway ceiling; below that, the gateway held it
	# back (its receive work on the generator's CPU, or AF_XDP's completions waiting).
	# The generator that made this side deliver more, in most runs:
	g=$(for ((r = 1; r <= RUNS; r++)); do echo "${V[$side,gen,$r]}"; done | sort | uniq -c |
		sort -rn | awk 'NR == 1 { print $2 }')
	bott=$(awk -v p="${M[$side,pps]}" -v o="${M[$side,offered]}" -v s="$side" \
		-v c="${M[gen,pps]}" -v g="$g" 'BEGIN { gen = o > 0 && p >= 0.95 * o
		if (g == "dpdk" && o < 0.9 * c) gen = 0; print (gen ? "generator" : s) }')
	printf '%-10s %12s %12s %8s %12s %9s %10s %10s  %s\n' "$side" "${M[$side,pps]}" \
		"${M[$side,offered]}" "${M[$side,loss]}" "${M[$side,rloss]}" "${M[$side,gbps]}" \
		"${M[$side,p50]}" "${M[$side,p99]}" "$bott"
	ceil=
	[ "$GEN" = dpdk ] && ceil="pps_dpdkgen=${M[$side,dpps]} pps_udpgen=${M[$side,upps]}
		gen_ceiling_pps=${M[gen,pps]} offered_vs_ceiling=$(ratio "${M[$side,offered]}" \
		"${M[gen,pps]}")"
	[ "$g" = dpdk ] && g=$GENNAME
	# shellcheck disable=SC2086 # ceil is a list of key=value words
	echo "bench case=e2e-udp64 side=$side gen=$g sessions=$FLOWS pps=${M[$side,pps]}" \
		"offered_pps=${M[$side,offered]} loss=${M[$side,loss]}" $ceil "bottleneck=$bott runs=$RUNS"
	rbott=$(awk -v l="${M[$side,rloss]}" -v s="$side" 'BEGIN { print (l <= 0.001 ? "none" : s) }')
	echo "bench case=e2e-udp64-rate side=$side gen=udpgen sessions=$FLOWS pps=${M[$side,rpps]}" \
		"offered_pps=$RATE loss=${M[$side,rloss]} bottleneck=$rbott runs=$RUNS"
	echo "bench case=e2e-tcp side=$side pmd=$PMD sessions=1 gbps=${M[$side,gbps]}" \
		"cpu0_busy=${M[$side,cpu0]} cpu1_busy=${M[$side,cpu1]} bottleneck=$tbott runs=$RUNS"
	echo "bench case=e2e-rtt side=$side sessions=1 rtt_p50_us=${M[$side,p50]}" \
		"rtt_p99_us=${M[$side,p99]} bottleneck=latency runs=$RUNS"
done
[ -n "$IPVS_SKIP" ] && echo "bench case=e2e-ipvs side=ipvs skipped=$IPVS_SKIP runs=0"
tp=
[ $TESTPMD -eq 1 ] && tp="tcp_ratio_testpmd=$(ratio "${M[strait,gbps]}" "${M[testpmd-io,gbps]}")"
echo "bench case=e2e-ratio side=strait/kernel pps_ratio=$(ratio "${M[strait,pps]}" "${M[kernel,pps]}")" \
	"tcp_ratio=$(ratio "${M[strait,gbps]}" "${M[kernel,gbps]}") $tp" \
	"rtt_p50_ratio=$(ratio "${M[strait,p50]}" "${M[kernel,p50]}")" \
	"rtt_p99_ratio=$(ratio "${M[strait,p99]}" "${M[kernel,p99]}")"
if [ -z "$IPVS_SKIP" ]; then
	echo "bench case=e2e-ratio side=strait/ipvs" \
		"pps_ratio=$(ratio "${M[strait,pps]}" "${M[ipvs,pps]}")" \
		"tcp_ratio=$(ratio "${M[strait,gbps]}" "${M[ipvs,gbps]}")" \
		"rtt_p50_ratio=$(ratio "${M[strait,p50]}" "${M[ipvs,p50]}")" \
		"rtt_p99_ratio=$(ratio "${M[strait,p99]}" "${M[ipvs,p99]}")"
fi
