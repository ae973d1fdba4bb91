#!/usr/bin/env bash
# scripts/ha-demo.sh [BUILD_DIR|BINARY] [MODE]: strait's high
# availability with real traffic, measured, and the Linux kernel doing the same job
# (docs/ha.md). Root; builds everything in network namespaces and removes it (every process by its PID, every namespace).
#
# One topology (scripts/ha_bgp_topo.sh): client ── router ── gateways A and B ── pod. Each mode
# runs three failovers of gateway A, each with long-lived flows through the mapping (20 TCP,
# 40 UDP; a message every 50 ms on each TCP flow, every 10 ms on each UDP flow; the pod tells
# each flow the source address it saw) and a
# new connection tried every 100 ms, fault on A 3 s after the flows are up; A is restored
# between runs. Per run: when the traffic was moved (the router dropped A's nexthop, or B took
# the VIP), the TCP and UDP flows that survived with their outage (median and max over the
# surviving flows of each one's longest gap), and the new connections that succeeded during
# the failover and after the move. A table of every run closes the output.
#
# bgp (default): strait on both, active/active, BIRD 2 with BFD (config/ha/) to a BIRD router
#   with ECMP (as tests/e2e/ha_bgp_test.sh), full NAT (each gateway its own SNAT address).
#   Faults: sigkill (kill -9 of strait on A), linkdown (A's ext link down), stop (SIGINT:
#   strait drains for ha.drainSeconds, then stops).
# bgp-sync: bgp with A's flows surviving (scripts/ha_bgp_sync_topo.sh): each gateway's SNAT
#   address is a VRRP address on its int TAP (keepalived, VRRPv3, advert_int HABS_ADVERT,
#   default 0.1 s, track_interface on the ports' kernel interfaces as in vrrp), and `ha.sync`
#   streams each gateway's sessions to the other. Moved: the router dropped A's nexthop and B
#   holds A's SNAT address (the later of the two). The same faults; fails unless every TCP
#   flow and >= 99% of the UDP flows survived each; both gateways restarted between runs.
# vrrp: strait on both, active/standby, stock keepalived (VRRPv3 advert_int $HA_DEMO_ADVERT,
#   default 0.2 s, one sync group for the ext VIP 198.51.100.1 and the int VIP 10.0.0.1) on
#   strait's TAPs; mapping `nat: $HA_DEMO_NAT`: default fullNat with session sync (`ha.sync`
#   to the other gateway: B holds A's sessions, and the SNAT VIP moves with the sync group);
#   preserveSource runs it with pickup instead (the flows continue on B), no sync.
#   Faults: sigkill (kill -9 of strait on A: its TAPs go, keepalived on A falls silent),
#   linkdown, stop (SIGINT of strait); HA_DEMO_FAULTS sets the list (e.g. "sigkill
#   linkdown linkdown"). After each, A (strait, keepalived) is restarted while B runs on, and
#   must take the VIPs back (preempt) within 30 s: the time is printed. Fails unless every TCP
#   flow and >= 99% of the UDP flows survived each fault.
# kernel: no strait: A and B are plain Linux namespaces, nftables DNAT to the pod (and with
#   `nat: $HA_DEMO_KERNEL_NAT`, default fullNat, SNAT to the int VIP) and the same stock
#   keepalived on their interfaces (advert_int $HA_DEMO_KERNEL_ADVERT, default the stock 1 s),
#   no conntrackd. Faults: sigkill (stands for strait's: the
#   host dies; keepalived is frozen with SIGSTOP and everything arriving on A is dropped, so no
#   priority 0 advert, as when strait's TAPs vanish), linkdown, stop (SIGTERM of keepalived:
#   it resigns with a priority 0 advert).
# all: vrrp, kernel, bgp, bgp-sync.
# soak: the bgp topology under the flows for HA_DEMO_SOAK_S s (300) without a fault: counts
#   the changes of the router's route (BFD false alarms; exit 1 if any), and prints the
#   largest gap between two BFD packets per direction on the router's link and A's ext TAP.
# bgp-sync-soak: the same in the bgp-sync topology, counting the SNAT addresses' changes on A
#   and B too (VRRP false failovers).
# vrrp-soak: the vrrp topology under the flows for HA_DEMO_SOAK_S s without a fault: counts
#   the VIP's appearances and removals on B (VRRP false failovers; exit 1 if any).
#
# Environment: HA_DEMO_NAT, HA_DEMO_KERNEL_NAT, HA_DEMO_ADVERT, HA_DEMO_KERNEL_ADVERT (above), HA_DEMO_NTCP and HA_DEMO_NUDP (the
# flows, 20 and 40), HA_DEMO_VRRP_TRACK=0 (vrrp without keepalived's track_interface on the
# ports' kernel interfaces: then a link loss never moves the VIPs, docs/ha.md; bgp-sync too),
# HA_DEMO_SOAK_S, HA_DEMO_BFD="INTERVAL_MS MULTIPLIER" (other BFD timers than config/ha/'s, on
# the three BIRDs), HABS_ADVERT (bgp-sync), HA_DEMO_FAULTS (every mode: the faults to run, all
# three by default).
#
# Exit 0 when in every run the traffic moved to B and every new connection after the move
# succeeded, in bgp every flow pinned to B and every UDP flow survived, and in vrrp and
# bgp-sync every TCP flow and >= 99% of the UDP flows survived.
# shellcheck disable=SC2317 # functions called through trap, wait_until and by name
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${P:=hd$$}"
# shellcheck source-path=SCRIPTDIR source=topo.sh
source "$ROOT/scripts/topo.sh"
# shellcheck source-path=SCRIPTDIR source=ha_bgp_topo.sh
source "$ROOT/scripts/ha_bgp_topo.sh"
# shellcheck source-path=SCRIPTDIR source=ha_bgp_sync_topo.sh
source "$ROOT/scripts/ha_bgp_sync_topo.sh"
# shellcheck source-path=SCRIPTDIR source=ha_kernel_topo.sh
source "$ROOT/scripts/ha_kernel_topo.sh"

ARG=${1:-build}
MODE=${2:-bgp}
# The mapping's NAT mode in strait's VRRP mode (fullNat: with session sync), and keepalived's
# advert_int there and in the kernel baseline.
: "${HA_DEMO_NAT:=fullNat}"
: "${HA_DEMO_ADVERT:=0.2}"
: "${HA_DEMO_KERNEL_ADVERT:=1}"
: "${HA_DEMO_KERNEL_NAT:=fullNat}"
: "${HA_DEMO_NTCP:=20}"
: "${HA_DEMO_NUDP:=40}"
if [ -f "$ARG" ]; then STRAIT_BIN=$(readlink -f "$ARG"); else STRAIT_BIN=$(readlink -f "$ARG/strait" || true); fi
[ -x "$STRAIT_BIN" ] || {
	echo "ha-demo: no strait binary at \"$ARG\" (give a build directory or the binary first: ha-demo.sh build $ARG)" >&2
	exit 2
}
[ "$(id -u)" -eq 0 ] || { echo "ha-demo: needs root (network namespaces)" >&2; exit 2; }
case $MODE in
kernel) ;;
*) [ -x "$STRAIT_BIN" ] || { echo "ha-demo: no strait binary at $STRAIT_BIN" >&2; exit 2; } ;;
esac
ST=$(_topo_state)
FAILED=0
SUMMARY=()
# The source addresses the pod sees from A and B (per-gateway rows of the flows; bgp modes).
SEEN_A=- SEEN_B=-
CPU=$(lscpu | sed -n 's/^Model name: *//p')

demo_down() {
	local n
	for n in "${!HAK_KA_PID[@]}"; do hak_ka_kill "$n"; done
	HAK_KA_PID=()
	for n in "${!HABS_KA_PID[@]}"; do habs_ka_stop "$n"; done
	hab_down_extra
	topo_down
	HAB_PIDS=()
}
trap demo_down EXIT

wait_until() { # TIMEOUT_S CMD...: bounded by the clock, whatever CMD takes
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do "$@" && return 0; sleep 0.1; done
	return 1
}

# New connections to VIP:8080, one every 100 ms for DUR s (1 s timeout): prints "start
# EPOCH_MS", then "TIME_MS OK|FAIL TOOK_MS" per try, TIME_MS from the start.
newconn_script() {
	cat <<'PY'
import socket, sys, time
dur, vip = float(sys.argv[1]), sys.argv[2]; start = time.time()
print("start %d" % (start * 1000), flush=True)
while time.time() - start < dur:
    t = time.time()
    try:
        s = socket.create_connection((vip, 8080), timeout=1)
        f = s.makefile("rwb"); f.readline(); f.write(b"x\n"); f.flush()
        ok = f.readline() == b"x\n"; s.close()
    except OSError:
        ok = False
    print("%d %s %d" % ((t - start) * 1000, "OK" if ok else "FAIL", (time.time() - t) * 1000),
          flush=True)
    time.sleep(max(0, 0.1 - (time.time() - t)))
PY
}

conn_ok() { # one connection through the mapping
	timeout 3 ip netns exec "${P}c" "$PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 8080), timeout=2)
f = s.makefile("rwb"); f.readline(); f.write(b"ping\n"); f.flush()
assert f.readline() == b"ping\n"' "$VIP" >/dev/null 2>&1
}

# A mode (a later one too, e.g. session sync with HA_DEMO_NAT=fullNat) sets MODE_NOW, LABEL,
# VIP, DUR (the flows' seconds), DURING_MS (the "during the failover" window), MOVED_WHAT
# and MON_TEXT (the line of $ST/moved.mon, from hab_monitor_start, that marks the move),
# defines fault_MODE FAULT, moved_MODE (polled) and restore_MODE FAULT, and calls run FAULT
# per fault; the flows (HA_DEMO_NTCP, HA_DEMO_NUDP) and the figures are run's.

# run FAULT: one failover with traffic; prints its figures and adds a row to SUMMARY.
run() {
	local fault=$1 t0 t1='' wms=-1 i line nc_start off
	local -A fig=()
	hab_flows_script >"$ST/flows.py"
	newconn_script >"$ST/newconn.py"
	ip netns exec "${P}c" "$PY" "$ST/flows.py" "$DUR" "$HA_DEMO_NTCP" "$HA_DEMO_NUDP" "$VIP" \
		>"$ST/flows.out" 2>"$ST/flows.err" &
	local flows=$!
	wait_until 10 grep -q ready "$ST/flows.out" || true
	ip netns exec "${P}c" "$PY" "$ST/newconn.py" "$((DUR - 2))" "$VIP" >"$ST/newconn.out" 2>/dev/null &
	local nc=$!
	sleep 3
	t0=$(date +%s%N)
	"fault_$MODE_NOW" "$fault"
	for ((i = 0; i < 500; i++)); do # up to about 10 s, every 20 ms
		if "moved_$MODE_NOW"; then t1=$(date +%s%N); break; fi
		sleep 0.02
	done
	[ -n "$t1" ] && wms=$(((t1 - t0) / 1000000))
	wait "$flows" || true
	wait "$nc" || true
	# The kernel's timestamp of the change (ip monitor) rather than the poll's, if it has one.
	local kms polled=$wms
	kms=$(hab_monitor_ms "$ST/moved.mon" "$MON_TEXT" "$t0")
	if [ -n "${MON2_TEXT:-}" ]; then # a second change that the move needs: the later counts
		local k2
		k2=$(hab_monitor_ms "$ST/moved2.mon" "$MON2_TEXT" "$t0")
		echo "   ($MON_WHAT after $kms ms, $MON2_WHAT after $k2 ms)"
		if [ "$kms" -ge 0 ] && [ "$k2" -gt "$kms" ]; then kms=$k2; fi
		[ "$k2" -ge 0 ] || kms=-1
	fi
	[ "$kms" -ge 0 ] && [ "$wms" -ge 0 ] && wms=$kms
	echo "== $LABEL $fault: $MOVED_WHAT after $wms ms (ip monitor; polled every 20 ms: $polled ms)"
	while read -r line; do
		# shellcheck disable=SC2086 # the fields
		set -- $line
		fig[$1 $2]="$3/$4 $5/$6"
		case $2 in
		"$SEEN_A") who="on A" ;;
		"$SEEN_B") who="on B" ;;
		all) who="in all" ;;
		*) continue ;;
		esac
		printf '   %s flows %s: %s of %s survived, outage median %s ms, max %s ms\n' \
			"$1" "$who" "$3" "$4" "$5" "$6"
		if [ "$MODE_NOW" = bgp ]; then
			if [ "$2" = 10.0.0.4 ] || [ "$1 $2" = "udp all" ]; then [ "$3" = "$4" ] || FAILED=1; fi
		fi
		# strait's VRRP, and BGP with session sync: every TCP flow and >= 99% of the UDP
		# flows survive (issue 11).
		if [ "$MODE_NOW" = vrrp ] || [ "$MODE_NOW" = bgpsync ] && [ "$2" = all ]; then
			if [ "$1" = tcp ]; then [ "$3" = "$4" ] || FAILED=1; fi
			if [ "$1" = udp ]; then (($3 * 100 >= $4 * 99)) || FAILED=1; fi
		fi
	done < <(grep -E '^(tcp|udp) ' "$ST/flows.out")
	# New connections: the tries started in the DURING_MS after the fault, and those started
	# after the move (+ 200 ms).
	local during_ok=0 during_n=0 after_ok=0 after_n=0 slow=0 ms r took
	read -r _ nc_start < <(head -1 "$ST/newconn.out") || nc_start=$((t0 / 1000000))
	off=$((t0 / 1000000 - nc_start))
	while read -r ms r took; do
		[ "$ms" = start ] && continue
		if ((ms >= off && ms < off + DURING_MS)); then
			during_n=$((during_n + 1))
			[ "$r" = OK ] && during_ok=$((during_ok + 1))
			((took > slow)) && slow=$took
		fi
		if ((wms >= 0 && ms >= off + wms + 200)); then
			after_n=$((after_n + 1))
			[ "$r" = OK ] && after_ok=$((after_ok + 1))
		fi
	done <"$ST/newconn.out"
	echo "   new connections: $during_ok of $during_n in the $((DURING_MS / 1000)) s after the" \
		"fault (slowest $slow ms), $after_ok of $after_n after the move"
	[ "$after_ok" = "$after_n" ] || FAILED=1
	[ "$wms" -ge 0 ] || FAILED=1
	SUMMARY+=("| $LABEL | $fault | $wms ms | ${fig[tcp all]:-?} | ${fig[udp all]:-?} | $during_ok/$during_n | $after_ok/$after_n |")
	"restore_$MODE_NOW" "$fault"
}

summary() {
	echo "# every run ($CPU): moved = the router dropped A's nexthop (bgp) or B held the VIP"
	echo "# (vrrp, kernel); flows: survived/total, then outage median/max ms over the survivors"
	echo "| mode | fault | moved after | TCP flows | UDP flows | new conns during | after |"
	echo "| --- | --- | --- | --- | --- | --- | --- |"
	printf '%s\n' "${SUMMARY[@]}" | sed -E 's#\| ([0-9]+/[0-9]+) (-?[0-9]+)/(-?[0-9]+) #| \1, \2 / \3 ms #g'
}

# --- bgp: strait active/active behind a BIRD router with ECMP and BFD ---
moved_bgp() { hab_only_b; }
A_PID=
start_a() { A_PID=$(hab_gw_start "${P}g" "${P}a" "$ST/a.yaml" "$ST/a.log"); }
B_PID=
start_b() { B_PID=$(hab_gw_start "$HAB_NS_B" "${P}b" "$ST/b.yaml" "$ST/b.log"); }
fault_bgp() {
	case $1 in
	sigkill) kill -9 "$A_PID" ;;
	linkdown) ip -n "${P}g" link set gx down ;;
	stop) kill -INT "$A_PID" ;;
	esac
}
restore_bgp() {
	case $1 in
	linkdown) ip -n "${P}g" link set gx up ;;
	stop) wait_until 10 bash -c "! kill -0 $A_PID 2>/dev/null" || true; start_a ;;
	*) start_a ;;
	esac
	wait_until 30 hab_two_nexthops || { echo "   A was not announced again" >&2; FAILED=1; }
}

# HA_DEMO_BFD="INTERVAL_MS MULTIPLIER": other BFD timers than config/ha/'s, on all three BIRDs.
HAB_BFD=${HA_DEMO_BFD:-}

# BIRD on the router and both gateways, strait on both (configs in $ST/a.yaml and $ST/b.yaml,
# written by the caller); waits for both nexthops.
bgp_common_up() {
	start_a
	start_b
	hab_birds_start
	wait_until 30 hab_two_nexthops || { echo "ha-demo: the router has no ECMP route" >&2; exit 1; }
	MON_TEXT="] $HAB_VIP via 198.51.100.12 "
	hab_monitor_start "$HAB_NS_R" route "$ST/moved.mon"
	BFD_MS=$(hab_bfd_timers)
}

bgp_up() {
	MODE_NOW=bgp LABEL="ECMP strait" VIP=192.0.2.1 DUR=10 DURING_MS=2000
	SEEN_A=10.0.0.3 SEEN_B=10.0.0.4
	MOVED_WHAT="the router dropped A's nexthop"
	topo_require bird:bird2 python3:python3 ethtool:ethtool nft:nftables
	hab_topo_up
	PY=$(_topo_python)
	hab_pod_start
	hab_gw_config 198.51.100.11 10.0.0.3 >"$ST/a.yaml"
	hab_gw_config 198.51.100.12 10.0.0.4 >"$ST/b.yaml"
	bgp_common_up
	echo "# BGP ECMP active/active, BIRD $(bird --version 2>&1 | awk '{print $NF}')," \
		"BFD $BFD_MS, full NAT; $CPU"
	echo "# router: $(ip -n "$HAB_NS_R" -4 route show 192.0.2.1/32 | tr -s ' \t\n' ' ')"
}

route_changes() { # changes of the router's route to the mapping address since bgp_up
	grep -c -F "$HAB_VIP" "$ST/moved.mon" || true
}

bgp_demo() {
	bgp_up
	for r in ${HA_DEMO_FAULTS:-sigkill linkdown stop}; do run "$r"; done
	echo "# TCP flows on A die: full NAT, A's SNAT address does not move (bgp-sync: they survive)."
	demo_down
}

# The BFD packets' largest gaps, per direction, on the router's link and on A's ext TAP (the
# kernel's timestamps): how near a soak came to a false alarm, and where a stall was (A's BIRD
# sending late shows on the TAP too; strait or the router late, on the router's link only).
# Beside them, the host's own stalls: processes in no namespace that sleep 1 ms at a time, and
# their longest oversleep (the machine not running them: a stall that no BFD timer shorter
# than it can tell from a death), with its time: one free to run anywhere, and one pinned to
# each CPU at SCHED_FIFO priority (it preempts strait's polling lcores, so only a CPU that
# is not running at all, the hypervisor's or an interrupt storm's, can make it oversleep).
stall_probe_script() {
	cat <<'PY'
import os, sys, time
end = time.monotonic() + float(sys.argv[1]); worst = 0.0; at = 0.0; n = 0
label = "any"
if len(sys.argv) > 2:
    os.sched_setaffinity(0, {int(sys.argv[2])})
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))
    label = "cpu%s-fifo" % sys.argv[2]
while time.monotonic() < end:
    t = time.monotonic(); time.sleep(0.001); d = time.monotonic() - t - 0.001
    if d > worst:
        worst, at = d, time.time()
    n += d >= 0.1
print("stall %s %d %d %s" % (label, worst * 1000, n,
      time.strftime("%H:%M:%S", time.localtime(at)) + ".%03d" % (at % 1 * 1000)), flush=True)
PY
}
bfd_gaps_start() { # DUR_S
	local cpu
	stall_probe_script >"$ST/stall.py"
	BFDGAPS=()
	"$PY" "$ST/stall.py" "$1" >"$ST/stall.out" 2>&1 &
	BFDGAPS+=($!)
	for cpu in $(seq 0 $(($(nproc) - 1))); do
		"$PY" "$ST/stall.py" "$1" "$cpu" >"$ST/stall-$cpu.out" 2>&1 &
		BFDGAPS+=($!)
	done
	hab_bfd_gaps_script >"$ST/bfdgaps.py"
	ip netns exec "$HAB_NS_R" "$PY" "$ST/bfdgaps.py" rx "$1" >"$ST/bfdgaps-r.out" 2>&1 &
	BFDGAPS+=($!)
	ip netns exec "${P}g" "$PY" "$ST/bfdgaps.py" strait-ext "$1" >"$ST/bfdgaps-a.out" 2>&1 &
	BFDGAPS+=($!)
	HAB_PIDS+=("${BFDGAPS[@]}")
}
bfd_gaps_print() {
	local pid
	for pid in "${BFDGAPS[@]}"; do wait "$pid" 2>/dev/null || true; done
	awk '{printf "#   BFD %s on the router'"'"'s link: %s packets, largest gap %s ms (ended %s)\n", $2, $3, $4, $5}' \
		"$ST/bfdgaps-r.out"
	awk '{printf "#   BFD %s on A'"'"'s ext TAP: %s packets, largest gap %s ms (ended %s)\n", $2, $3, $4, $5}' \
		"$ST/bfdgaps-a.out"
	cat "$ST/stall.out" "$ST"/stall-[0-9]*.out |
		awk '{printf "#   host, %s: a 1 ms sleep overslept by %s ms at most (at %s), %s times by 100 ms or more\n", $2, $3, $5, $4}'
	# strait's own control loops (the kernel path, ARP, ICMP): iterations of 100 ms or more
	grep -h 'control loop: one iteration' "$ST"/*.log 2>/dev/null | sed 's/^/#   /' || true
}

# soak: the bgp topology with the flows running and no fault for HA_DEMO_SOAK_S s (300): do
# BFD ever take a gateway's nexthop away?
soak_demo() {
	local s=${HA_DEMO_SOAK_S:-300}
	bgp_up
	hab_flows_script >"$ST/flows.py"
	bfd_gaps_start "$s"
	ip netns exec "${P}c" "$PY" "$ST/flows.py" "$s" "$HA_DEMO_NTCP" "$HA_DEMO_NUDP" "$VIP" \
		>"$ST/flows.out" 2>"$ST/flows.err" || true
	local n
	n=$(route_changes)
	echo "# soak $s s, BFD $BFD_MS, $HA_DEMO_NTCP TCP and $HA_DEMO_NUDP UDP flows:" \
		"$n changes of the router's route to $HAB_VIP (a BFD false alarm makes two)"
	grep -E '^(tcp|udp) all ' "$ST/flows.out" | sed 's/^/#   /'
	bfd_gaps_print
	[ "$n" = 0 ] || FAILED=1
	demo_down
}

# --- bgp-sync: bgp with each gateway's SNAT address on VRRP (int) and session sync ---
moved_bgpsync() { hab_only_b && habs_holds "$HAB_NS_B" "$HABS_VIP_A"; }
fault_bgpsync() { fault_bgp "$@"; }
# keepalived's instances go down with a port's kernel interface (track_interface): A's ext
# link down moves A's SNAT address too (as in vrrp mode; HA_DEMO_VRRP_TRACK=0: not).
BGPSYNC_TRACK=(gx gi)
[ "${HA_DEMO_VRRP_TRACK:-1}" = 0 ] && BGPSYNC_TRACK=()
bgpsync_ka_start() {
	habs_ka_start "${P}g" a "$HABS_VIP_A" 61 "$HABS_VIP_B" 62 "${BGPSYNC_TRACK[@]}"
	habs_ka_start "$HAB_NS_B" b "$HABS_VIP_B" 62 "$HABS_VIP_A" 61 "${BGPSYNC_TRACK[@]}"
}
bgpsync_ready() { hab_two_nexthops && habs_own_vips_only && conn_ok; }
bgpsync_not_ready() { # what bgpsync_ready misses (stderr)
	local what=''
	hab_two_nexthops || what+=" the router's nexthops: $(hab_nexthops | tr '\n' ' ')"
	habs_own_vips_only || what+="; int addresses on A: $(ip -n "${P}g" -4 -br addr show dev \
		strait-int 2>/dev/null | cut -c17-), on B: $(ip -n "$HAB_NS_B" -4 -br addr show dev \
		strait-int 2>/dev/null | cut -c17-)"
	conn_ok || what+="; no connection through the mapping"
	echo "   the pair did not come back:$what" >&2
}
# B's counters, then a fresh pair: both gateways and their keepalived restarted (as vrrp does
# with sync: B's backups of A's dead sessions would hold the SNAT ports the new A hands out).
restore_bgpsync() {
	b_counters
	[ "$1" = linkdown ] && ip -n "${P}g" link set gx up
	habs_ka_stop a
	habs_ka_stop b
	[ "$1" = stop ] && { wait_until 10 bash -c "! kill -0 $A_PID 2>/dev/null" || true; }
	kill -9 "$A_PID" "$B_PID" 2>/dev/null || true
	wait_until 10 bash -c "! kill -0 $A_PID 2>/dev/null && ! kill -0 $B_PID 2>/dev/null" || true
	start_a
	start_b
	bgpsync_ka_start
	wait_until 30 bgpsync_ready || { bgpsync_not_ready; FAILED=1; }
}

bgpsync_up() {
	MODE_NOW=bgpsync LABEL="ECMP strait, sync" VIP=192.0.2.1 DUR=12 DURING_MS=2000
	SEEN_A=$HABS_VIP_A SEEN_B=$HABS_VIP_B
	MOVED_WHAT="the router dropped A's nexthop and B held A's SNAT address"
	topo_require bird:bird2 keepalived:keepalived python3:python3 ethtool:ethtool nft:nftables
	hab_topo_up
	PY=$(_topo_python)
	hab_pod_start
	habs_gw_config 198.51.100.11 10.0.0.3 "$HABS_VIP_A" "$HABS_VIP_B" 10.0.0.4 \
		"$ST/gw-10.0.0.3.sock" >"$ST/a.yaml"
	habs_gw_config 198.51.100.12 10.0.0.4 "$HABS_VIP_B" "$HABS_VIP_A" 10.0.0.3 \
		"$ST/gw-10.0.0.4.sock" >"$ST/b.yaml"
	bgp_common_up
	bgpsync_ka_start
	wait_until 30 bgpsync_ready || { echo "ha-demo: the pair is not ready" >&2; exit 1; }
	# The move is two changes, the route's on the router and A's SNAT address on B: the later.
	MON_WHAT="A's nexthop dropped" MON2_WHAT="A's SNAT address on B"
	MON2_TEXT="inet $HABS_VIP_A/24"
	hab_monitor_start "$HAB_NS_B" address "$ST/moved2.mon"
	echo "# BGP ECMP active/active with session sync, BIRD $(bird --version 2>&1 | awk '{print $NF}')," \
		"BFD $BFD_MS; SNAT addresses on VRRP: keepalived" \
		"$(keepalived --version 2>&1 | awk 'NR==1 {print $2}') (VRRPv3, advert_int $HABS_ADVERT);" \
		"full NAT; $CPU"
}

bgpsync_demo() {
	bgpsync_up
	for r in ${HA_DEMO_FAULTS:-sigkill linkdown stop}; do run "$r"; done
	demo_down
}

# bgp-sync-soak: the bgp-sync topology with the flows running and no fault for HA_DEMO_SOAK_S s
# (300): does BFD take a nexthop away, or VRRP move a SNAT address?
bgpsync_soak_demo() {
	local s=${HA_DEMO_SOAK_S:-300} n v
	bgpsync_up
	hab_monitor_start "${P}g" address "$ST/vip-a.mon"
	hab_flows_script >"$ST/flows.py"
	bfd_gaps_start "$s"
	ip netns exec "${P}c" "$PY" "$ST/flows.py" "$s" "$HA_DEMO_NTCP" "$HA_DEMO_NUDP" "$VIP" \
		>"$ST/flows.out" 2>"$ST/flows.err" || true
	n=$(route_changes)
	v=$(cat "$ST/vip-a.mon" "$ST/moved2.mon" | grep -c -E "inet ($HABS_VIP_A|$HABS_VIP_B)/" || true)
	echo "# bgp-sync soak $s s, BFD $BFD_MS, advert_int $HABS_ADVERT, $HA_DEMO_NTCP TCP and" \
		"$HA_DEMO_NUDP UDP flows: $n changes of the router's route (a BFD false alarm makes" \
		"two), $v changes of the SNAT addresses on A and B (a VRRP false failover makes two)"
	grep -E '^(tcp|udp) all ' "$ST/flows.out" | sed 's/^/#   /'
	bfd_gaps_print
	[ "$n" = 0 ] && [ "$v" = 0 ] || FAILED=1
	demo_down
}

# --- vrrp and kernel: active/standby with stock keepalived ---
a_master() { # A holds the VIP, B not, and the router reaches the mapping
	hak_holds_vip "${P}g" "$EXT_IF" && ! hak_holds_vip "$HAB_NS_B" "$EXT_IF" && conn_ok
}
moved_vrrp() { hak_holds_vip "$HAB_NS_B" strait-ext; }
moved_kernel() { hak_holds_vip "$HAB_NS_B" gx; }
fault_vrrp() {
	case $1 in
	sigkill) kill -9 "$A_PID" ;;
	linkdown) ip -n "${P}g" link set gx down ;;
	stop) kill -INT "$A_PID" ;;
	esac
}
# A gateway's stats (JSON) by its int address (strait's vrrp).
gw_stats() { "$(dirname "$STRAIT_BIN")/straitctl" -s "$ST/gw-$1.sock" -j show stats 2>/dev/null; }
# B's session sync counters and its drops by reason (non-zero), after a run (strait's vrrp).
b_counters() {
	gw_stats 10.0.0.4 |
		"$PY" -c '
import json, sys
d = json.load(sys.stdin)
s = {k: v for k, v in d.get("sync", {}).items() if v}
dr = d.get("drops", {})
dr = {k: v for k, v in (dr.items() if isinstance(dr, dict) else []) if v}
print("   B: sync", " ".join("%s=%s" % kv for kv in sorted(s.items())))
print("   B: drops", " ".join("%s=%s" % kv for kv in sorted(dr.items())) or "none")' || true
}
# Who holds what when A did not take the VIPs back (strait's vrrp): each gateway's TAP
# addresses and its keepalived's last transitions, the router's and the pod's neighbours.
vrrp_state() {
	local n ns pid
	for n in a b; do
		ns=${P}g pid=$A_PID
		[ "$n" = b ] && ns=$HAB_NS_B pid=$B_PID
		_topo_alive "$pid" || echo "   $n: strait ($pid) is not running"
		echo "   $n:" "$(ip -n "$ns" -4 -br addr show dev strait-ext 2>/dev/null)" \
			"$(ip -n "$ns" -4 -br addr show dev strait-int 2>/dev/null)"
		grep -E 'Entering|higher prio|priority 0|FAULT|error' "$ST/ka-$n.log" | tail -6 | sed 's/^/     /'
	done
	echo "   router: $(ip -n "$HAB_NS_R" neigh show "$HAK_VIP")," \
		"pod: $(ip -n "${P}p0" neigh show "$HAK_INT_VIP")"
}
restore_vrrp() {
	local t
	b_counters
	[ "$1" = linkdown ] && ip -n "${P}g" link set gx up
	hak_ka_stop a
	if [ "$1" != linkdown ]; then
		wait_until 10 bash -c "! kill -0 $A_PID 2>/dev/null" || true
		# With session sync, B keeps backup copies of the sessions that A held when it died
		# and had not deleted, with A's SNAT ports; the restarted A gives the same ports to
		# the next run's flows, whose records replace those stale backups on B (`replaced`,
		# docs/ha.md). B runs on, as a real standby would: only A is restarted.
		start_a
	fi
	t=$(date +%s%N)
	hak_ka_start "${P}g" a 150 strait-ext strait-int "${VRRP_TRACK[@]}"
	if wait_until 30 a_master; then
		echo "   A master again $((($(date +%s%N) - t) / 1000000)) ms after its keepalived started"
	else
		echo "   A did not become master again within 30 s" >&2
		vrrp_state >&2
		FAILED=1
	fi
	# With sync, B's sessions reach the restarted A by a bulk resync; the next run's flows
	# start on A and are synced to B as they come.
}
fault_kernel() {
	case $1 in
	sigkill) hak_ka_freeze a; hak_crash "${P}g" ;;
	linkdown) ip -n "${P}g" link set gx down ;;
	stop) kill -TERM "${HAK_KA_PID[a]}" ;;
	esac
}
restore_kernel() {
	case $1 in
	sigkill)
		hak_ka_kill a
		hak_uncrash "${P}g"
		# a frozen keepalived leaves its VIPs behind
		ip -n "${P}g" addr del "$HAK_VIP/32" dev gx 2>/dev/null || true
		ip -n "${P}g" addr del "$HAK_INT_VIP/24" dev gi 2>/dev/null || true
		;;
	linkdown)
		# The link's loss took the static default route with it, as on any Linux host
		# (ifupdown or NetworkManager put it back).
		ip -n "${P}g" link set gx up
		ip -n "${P}g" route replace default via 198.51.100.254
		hak_ka_stop a
		;;
	stop) hak_ka_stop a ;;
	esac
	hak_ka_start "${P}g" a 150 gx gi
	wait_until 30 a_master || { echo "   A did not become master again" >&2; FAILED=1; }
}

vrrp_common_up() {
	topo_require keepalived:keepalived python3:python3 ethtool:ethtool nft:nftables
	hab_topo_up
	PY=$(_topo_python)
	hab_pod_start
	ip -n "${P}p0" route add default via "$HAK_INT_VIP"
	VIP=$HAK_VIP DUR=16 DURING_MS=6000 MOVED_WHAT="B held the VIP"
	MON_TEXT="inet $HAK_VIP/32"
}

# strait does not pass a port's link state to its TAP (and net_af_packet reports its link up
# whatever the interface's): keepalived on the master would not see its ext link go, and the
# sync group would not move (the backup still hears the master on int). keepalived's
# track_interface on the ports' kernel interfaces stands in (net_af_packet only: a port bound
# to vfio-pci has none); HA_DEMO_VRRP_TRACK=0 runs without it.
VRRP_TRACK=(gx gi)
[ "${HA_DEMO_VRRP_TRACK:-1}" = 0 ] && VRRP_TRACK=()
vrrp_up() {
	local peer_a='' peer_b='' sync='no session sync'
	MODE_NOW=vrrp LABEL="VRRP strait" EXT_IF=strait-ext HAK_ADVERT=$HA_DEMO_ADVERT
	vrrp_common_up
	if [ "$HA_DEMO_NAT" = fullNat ]; then
		peer_a=10.0.0.4 peer_b=10.0.0.3 sync="session sync (ha.sync)"
	fi
	hak_vrrp_gw_config 198.51.100.11 10.0.0.3 "$HA_DEMO_NAT" $peer_a >"$ST/a.yaml"
	hak_vrrp_gw_config 198.51.100.12 10.0.0.4 "$HA_DEMO_NAT" $peer_b >"$ST/b.yaml"
	start_a
	start_b
	hak_ka_start "${P}g" a 150 strait-ext strait-int "${VRRP_TRACK[@]}"
	hak_ka_start "$HAB_NS_B" b 100 strait-ext strait-int "${VRRP_TRACK[@]}"
	wait_until 30 a_master || { echo "ha-demo: A is not master" >&2; exit 1; }
	hab_monitor_start "$HAB_NS_B" address "$ST/moved.mon"
	echo "# VRRP active/standby, strait + keepalived $(keepalived --version 2>&1 | awk 'NR==1 {print $2}')" \
		"(advert_int $HAK_ADVERT, one sync group), nat: $HA_DEMO_NAT, $sync; $CPU"
}

vrrp_demo() {
	vrrp_up
	for r in ${HA_DEMO_FAULTS:-sigkill linkdown stop}; do run "$r"; done
	demo_down
}

# vrrp-soak: the vrrp topology with the flows running and no fault for HA_DEMO_SOAK_S s
# (300): does B ever take the VIP (a VRRP false failover)?
vrrp_soak_demo() {
	local s=${HA_DEMO_SOAK_S:-300} n
	vrrp_up
	hab_flows_script >"$ST/flows.py"
	ip netns exec "${P}c" "$PY" "$ST/flows.py" "$s" "$HA_DEMO_NTCP" "$HA_DEMO_NUDP" "$VIP" \
		>"$ST/flows.out" 2>"$ST/flows.err" || true
	n=$(grep -c -F "$HAK_VIP/32" "$ST/moved.mon" || true)
	echo "# vrrp soak $s s, advert_int $HAK_ADVERT, $HA_DEMO_NTCP TCP and $HA_DEMO_NUDP UDP" \
		"flows: $n changes of the VIP on B (a false failover makes two)"
	grep -E '^(tcp|udp) all ' "$ST/flows.out" | sed 's/^/#   /'
	[ "$n" = 0 ] || FAILED=1
	demo_down
}

kernel_demo() {
	MODE_NOW=kernel LABEL="VRRP kernel" EXT_IF=gx HAK_ADVERT=$HA_DEMO_KERNEL_ADVERT
	vrrp_common_up
	hak_kernel_gw_up "${P}g" 198.51.100.11 10.0.0.3 "$HA_DEMO_KERNEL_NAT"
	hak_kernel_gw_up "$HAB_NS_B" 198.51.100.12 10.0.0.4 "$HA_DEMO_KERNEL_NAT"
	hak_ka_start "${P}g" a 150 gx gi
	hak_ka_start "$HAB_NS_B" b 100 gx gi
	wait_until 30 a_master || { echo "ha-demo: A is not master" >&2; exit 1; }
	hab_monitor_start "$HAB_NS_B" address "$ST/moved.mon"
	echo "# VRRP active/standby, Linux $(uname -r) nftables NAT (nat: $HA_DEMO_KERNEL_NAT) +" \
		"keepalived $(keepalived --version 2>&1 | awk 'NR==1 {print $2}') (advert_int $HAK_ADVERT, one" \
		"sync group), no conntrackd; $CPU"
	for r in ${HA_DEMO_FAULTS:-sigkill linkdown stop}; do run "$r"; done
	demo_down
}

case $MODE in
bgp) bgp_demo ;;
vrrp) vrrp_demo ;;
kernel) kernel_demo ;;
bgp-sync) bgpsync_demo ;;
soak) soak_demo ;;
vrrp-soak) vrrp_soak_demo ;;
bgp-sync-soak) bgpsync_soak_demo ;;
all) vrrp_demo; kernel_demo; bgp_demo; bgpsync_demo ;;
*) echo "usage: ha-demo.sh [BUILD_DIR|BINARY] [bgp|bgp-sync|vrrp|kernel|all|soak|vrrp-soak|bgp-sync-soak]" >&2; exit 2 ;;
esac
[ ${#SUMMARY[@]} -eq 0 ] || summary
[ "$FAILED" -eq 0 ] && echo "ha-demo: pass" || echo "ha-demo: FAIL"
exit "$FAILED"
