#!/usr/bin/env bash
# scripts/ha-demo.sh [BUILD_DIR|BINARY] [bgp|vrrp|all]: strait's high availability with real
# traffic, measured (docs/ha.md). Root; builds everything in network namespaces and removes it.
#
# bgp (default): two strait gateways announce the mapping address with stock BIRD 2 to a
# BIRD router with ECMP and BFD 100 ms x 3 (topology: scripts/ha_bgp_topo.sh, the same as
# tests/e2e/ha_bgp_test.sh). Three runs, each with 20 TCP and 40 UDP long-lived flows (a
# message every 50 ms each) and new connections tried every 100 ms, fault on gateway A at 3 s:
#   sigkill   kill -9 of strait on A
#   linkdown  A's ext link down (ip link set gx down)
#   stop      strait on A stopped gracefully (SIGINT)
# and per run: when the router dropped A's nexthop, the TCP and UDP flows that survived per
# gateway with their outage (median, max), and the new connections that succeeded during the
# failover and after it. A is restored between runs.
# vrrp: runs tests/e2e/ha_vrrp_test.sh (keepalived active/standby) and prints its figures.
#
# Exit 0 when, in every bgp run, every flow pinned to the survivor survived, every UDP flow
# survived, and every new connection after the withdrawal succeeded.
# shellcheck disable=SC2317 # functions called through trap and wait_until
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${P:=hd$$}"
# shellcheck source-path=SCRIPTDIR source=topo.sh
source "$ROOT/scripts/topo.sh"
# shellcheck source-path=SCRIPTDIR source=ha_bgp_topo.sh
source "$ROOT/scripts/ha_bgp_topo.sh"

ARG=${1:-build}
MODE=${2:-bgp}
if [ -f "$ARG" ]; then STRAIT_BIN=$(readlink -f "$ARG"); else STRAIT_BIN=$(readlink -f "$ARG/strait"); fi
[ "$(id -u)" -eq 0 ] || { echo "ha-demo: needs root (network namespaces)" >&2; exit 2; }
[ -x "$STRAIT_BIN" ] || { echo "ha-demo: no strait binary at $STRAIT_BIN" >&2; exit 2; }
ST=$(_topo_state)
FAILED=0

demo_down() {
	hab_down_extra
	topo_down
}

two_nexthops() { [ "$(hab_nexthops | tr '\n' ' ')" = "198.51.100.11 198.51.100.12 " ]; }
only_b() { [ "$(hab_nexthops | tr '\n' ' ')" = "198.51.100.12 " ]; }
wait_until() { # TIMEOUT_S CMD...
	local t=$1 i
	shift
	for ((i = 0; i < t * 10; i++)); do "$@" && return 0; sleep 0.1; done
	return 1
}

# New connections, one every 100 ms for DUR s (1 s timeout): prints "TIME_MS OK|FAIL TOOK_MS"
# per try, TIME_MS from the start.
newconn_script() {
	cat <<'PY'
import socket, sys, time
dur = float(sys.argv[1]); start = time.time()
while time.time() - start < dur:
    t = time.time()
    try:
        s = socket.create_connection(("192.0.2.1", 8080), timeout=1)
        f = s.makefile("rwb"); f.readline(); f.write(b"x\n"); f.flush()
        ok = f.readline() == b"x\n"; s.close()
    except OSError:
        ok = False
    print("%d %s %d" % ((t - start) * 1000, "OK" if ok else "FAIL", (time.time() - t) * 1000),
          flush=True)
    time.sleep(max(0, 0.1 - (time.time() - t)))
PY
}

A_PID=
start_a() { A_PID=$(hab_gw_start "${P}g" "${P}a" "$ST/a.yaml" "$ST/a.log"); }

# run NAME: one failover with traffic; prints its figures.
run() {
	local name=$1 t0 t1='' wms=-1 i line
	hab_flows_script >"$ST/flows.py"
	newconn_script >"$ST/newconn.py"
	ip netns exec "${P}c" "$PY" "$ST/flows.py" 10 20 40 >"$ST/flows.out" 2>"$ST/flows.err" &
	local flows=$!
	wait_until 10 grep -q ready "$ST/flows.out" || true
	ip netns exec "${P}c" "$PY" "$ST/newconn.py" 8 >"$ST/newconn.out" 2>/dev/null &
	local nc=$!
	sleep 3
	t0=$(date +%s%N)
	case $name in
	sigkill) kill -9 "$A_PID" ;;
	linkdown) ip -n "${P}g" link set gx down ;;
	stop) kill -INT "$A_PID" ;;
	esac
	for ((i = 0; i < 500; i++)); do
		if only_b; then t1=$(date +%s%N); break; fi
		sleep 0.02
	done
	[ -n "$t1" ] && wms=$(((t1 - t0) / 1000000))
	wait "$flows" || true
	wait "$nc" || true
	echo "== $name: the router dropped A's nexthop after $wms ms"
	while read -r line; do
		# shellcheck disable=SC2086 # the fields
		set -- $line
		printf '   %s flows of %s: %s of %s survived, outage median %s ms, max %s ms\n' \
			"$1" "$([ "$2" = 10.0.0.3 ] && echo A || echo B)" "$3" "$4" "$5" "$6"
		if [ "$2" = 10.0.0.4 ] || [ "$1" = udp ]; then [ "$3" = "$4" ] || FAILED=1; fi
	done < <(grep -E '^(tcp|udp) ' "$ST/flows.out")
	# New connections: the tries started in the 2 s after the fault, and those after the
	# withdrawal (+ 200 ms).
	local during_ok=0 during_n=0 after_ok=0 after_n=0 slow=0 ms r took
	while read -r ms r took; do
		# the fault came 3 s after the flows were ready, about when newconn started
		if ((ms >= 3000 && ms < 5000)); then
			during_n=$((during_n + 1))
			[ "$r" = OK ] && during_ok=$((during_ok + 1))
			((took > slow)) && slow=$took
		fi
		if ((wms >= 0 && ms >= 3000 + wms + 200)); then
			after_n=$((after_n + 1))
			[ "$r" = OK ] && after_ok=$((after_ok + 1))
		fi
	done <"$ST/newconn.out"
	echo "   new connections: $during_ok of $during_n in the 2 s after the fault (slowest" \
		"$slow ms; 1 s is a SYN to A retransmitted), $after_ok of $after_n after the withdrawal"
	[ "$after_ok" = "$after_n" ] || FAILED=1
	[ "$wms" -ge 0 ] || FAILED=1
	# Restore A.
	case $name in
	linkdown) ip -n "${P}g" link set gx up ;;
	*) start_a ;;
	esac
	wait_until 30 two_nexthops || { echo "   A was not announced again" >&2; FAILED=1; }
}

bgp_demo() {
	trap demo_down EXIT
	topo_require bird:bird2 python3:python3 ethtool:ethtool nft:nftables
	hab_topo_up
	PY=$(_topo_python)
	hab_pod_start
	hab_gw_config 198.51.100.11 10.0.0.3 >"$ST/a.yaml"
	hab_gw_config 198.51.100.12 10.0.0.4 >"$ST/b.yaml"
	hab_bird_gw_conf 198.51.100.11 >"$ST/bird-a.conf"
	hab_bird_gw_conf 198.51.100.12 >"$ST/bird-b.conf"
	start_a
	hab_gw_start "$HAB_NS_B" "${P}b" "$ST/b.yaml" "$ST/b.log" >/dev/null
	hab_bird_start "$HAB_NS_R" router "$ROOT/config/ha/bird-router.conf"
	hab_bird_start "${P}g" a "$ST/bird-a.conf"
	hab_bird_start "$HAB_NS_B" b "$ST/bird-b.conf"
	wait_until 30 two_nexthops || { echo "ha-demo: the router has no ECMP route" >&2; exit 1; }
	echo "# BGP ECMP active/active, BIRD $(bird --version 2>&1 | awk '{print $NF}'), BFD 100 ms x 3;" \
		"$(lscpu | sed -n 's/^Model name: *//p')"
	echo "# router: $(ip -n "$HAB_NS_R" -4 route show 192.0.2.1/32 | tr -s ' \t\n' ' ')"
	for r in sigkill linkdown stop; do run "$r"; done
	echo "# TCP flows on A die: full NAT, and no session sync yet (docs/ha.md)."
}

case $MODE in
bgp) bgp_demo ;;
vrrp) bash "$ROOT/tests/e2e/ha_vrrp_test.sh" "$STRAIT_BIN" | grep -E '^(#|not ok|[0-9]+ passed)' || FAILED=1 ;;
all)
	bash "$ROOT/tests/e2e/ha_vrrp_test.sh" "$STRAIT_BIN" | grep -E '^(#|not ok|[0-9]+ passed)' || FAILED=1
	bgp_demo
	;;
*) echo "usage: ha-demo.sh [BUILD_DIR|BINARY] [bgp|vrrp|all]" >&2; exit 2 ;;
esac
[ "$FAILED" -eq 0 ] && echo "ha-demo: pass" || echo "ha-demo: FAIL"
exit "$FAILED"
