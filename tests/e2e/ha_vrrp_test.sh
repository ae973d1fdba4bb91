#!/usr/bin/env bash
# tests/e2e/ha_vrrp_test.sh STRAIT_BINARY: two strait gateways, VRRP active/standby with stock
# keepalived over the kernel TAPs (docs/ha.md), and a failover under load. With HA_VRRP_SYNC=1
# (tests/e2e/ha_sync_test.sh), session sync for full NAT (docs/ha.md, "Session sync").
#
#   ${P}c client 198.51.100.2 ─┐                         ┌─ ${P}p0 pod 10.0.0.11, default via
#                              ├ bx ── ${P}g (A) ── bi ──┤         the int VIP 10.0.0.1
#                              └ bx ── ${P}h (B) ── bi ──┘
#   A: ext 198.51.100.11, int 10.0.0.3 (+ VIPs while master), keepalived priority 150
#   B: ext 198.51.100.12, int 10.0.0.4, keepalived priority 100
#   mapping web 198.51.100.1:8080 → pod:80 (TCP echo), echo :7777 → pod:7 (UDP echo):
#   - without sync: preserveSource, web with pickup: true, so TCP flows continue on the
#     survivor; VRRPv3 0.5 s adverts;
#   - with sync: fullNat (SNAT to the int VIP 10.0.0.1), `ha.sync` on both (UDP 3780 between
#     10.0.0.3 and 10.0.0.4, through the int TAPs); VRRPv3 0.2 s adverts.
#
# Checks: A masters both VIPs and the client's ARP for the mapping address resolves to A
# (the standby serves nothing); traffic works; 10 TCP and 20 UDP flows through A (with sync:
# installed on B, its sync counters); after SIGKILL of strait on A, B's keepalived takes the
# VIPs, B serves them, new connections work; the flows that survived and their outage
# (median, max) are printed: most must survive (with sync: all TCP flows, 19 of 20 UDP
# flows); with sync, strait restarted on A gets B's sessions back (hello, bulk resync). Its
# own small topology (two gateway namespaces): scripts/topo.sh's has one gateway.
# shellcheck disable=SC2317 # functions called through check and wait_for
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/ha_topo.sh
source "$E2E_ROOT/scripts/ha_topo.sh"
e2e_require_root
topo_require keepalived:keepalived socat:socat python3:python3 ethtool:ethtool nft:nftables

STRAIT_BIN=$(readlink -f "${1:-build/strait}")
SYNC=${HA_VRRP_SYNC:-0}
if [ "$SYNC" = 1 ]; then NAT=fullNat ADVERT=0.2; else NAT=preserveSource ADVERT=0.5; fi
NS_B="${P}h"
ST=$(_topo_state)
KA_PIDS=()
B_PID=

# topo_down knows ${P}c/g/n/pN: gateway B's namespace and keepalived are this test's to stop.
eval "$(declare -f topo_down | sed '1s/topo_down/_topo_down_orig/')"
topo_down() {
	local pid
	if [ -n "$B_PID" ] && kill -INT "$B_PID" 2>/dev/null; then # its counters, in its log
		for _ in 1 2 3 4 5 6 7 8 9 10; do _topo_alive "$B_PID" || break; sleep 0.3; done
	fi
	for pid in $(ip netns pids "$NS_B" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	for pid in "${KA_PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
	ip netns del "$NS_B" 2>/dev/null || true
	rm -rf "/var/run/dpdk/${P}b" 2>/dev/null || true
	_topo_down_orig
}

ha_topo_up() {
	ha_fabric_up "$NS_B" "${P}c" eth0 c0
	ip -n "${P}c" addr add 198.51.100.2/24 dev eth0
	ip -n "${P}p0" addr add 10.0.0.11/24 dev eth0
	ip -n "${P}p0" route add default via 10.0.0.1
}

# gw_config OWN_EXT OWN_INT PEER_INT SOCKET: a gateway's config.
gw_config() {
	local ha="{mode: vrrp}" pickup=", pickup: true"
	[ "$SYNC" = 1 ] && ha="{mode: vrrp, sync: {peers: [$3], port: 3780}}" pickup=""
	cat <<EOF
ports:
  ext: {device: net_af_packet0, addresses: [$1/24], kernel: {tap: strait-ext}}
  int: {device: net_af_packet1, addresses: [$2/24, 10.0.0.1/24], snat: {addresses: [10.0.0.1]},
        kernel: {tap: strait-int}}
ha: $ha
workers: 1
sessions: {max: 65536}
cli_socket: $4
mappings:
- {name: web, addresses: [198.51.100.1], ports: [{port: 8080, servicePort: 80}],
   backends: [{address: 10.0.0.11}], nat: $NAT$pickup}
- {name: echo, addresses: [198.51.100.1], ports: [{port: 7777, servicePort: 7, protocol: udp}],
   backends: [{address: 10.0.0.11}], nat: $NAT}
EOF
}

# ka_config PRIORITY: keepalived's, both VIPs in one sync group; VRRPv3, $ADVERT s adverts.
ka_config() { HA_KA_GARP="1 2" ha_ka_config "$1" "$ADVERT" strait-ext strait-int; }

ka_start() {
	local ns=$1 name=$2
	ka_config "$3" >"$ST/ka-$name.conf"
	ip netns exec "$ns" keepalived --dont-fork --log-console --log-detail --vrrp --no-syslog \
		--use-file "$ST/ka-$name.conf" --pid "$ST/ka-$name.pid" \
		--vrrp_pid "$ST/ka-$name-vrrp.pid" >"$ST/ka-$name.log" 2>&1 </dev/null &
	KA_PIDS+=($!)
}

holds_vips() { # NS: the TAPs of NS hold both VIPs
	ip -n "$1" -4 addr show dev strait-ext 2>/dev/null | grep -qF 198.51.100.1/32 &&
		ip -n "$1" -4 addr show dev strait-int 2>/dev/null | grep -qF 10.0.0.1/24
}

client_mac() { # the MAC the client has for the mapping address
	ip -n "${P}c" neigh show 198.51.100.1 |
		awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'
}
not_holds_vips() { ! holds_vips "$1"; }
no_ping() { ! ip netns exec "${P}c" ping -c1 -W1 198.51.100.1 >/dev/null 2>&1; }

# B holds A's 30 flows (the TCP ones established: a refresh each) and A heard B's acks.
b_has_flows() {
	[ "$(ha_sync_stat "$ST/b.sock" installed)" -ge 30 ] &&
		[ "$(ha_sync_stat "$ST/b.sock" updated)" -ge 10 ] &&
		[ "$(ha_sync_stat "$ST/a.sock" rx_acks)" -ge 1 ]
}

echo_once() { # one TCP round trip through the mapping
	[ "$(echo "hi $1" | timeout 3 ip netns exec "${P}c" socat -t1 - TCP:198.51.100.1:8080,connect-timeout=1 2>/dev/null)" = "hi $1" ]
}

ha_topo_up
# Beside two CPU-bound processes (E2E_CPU_LOAD, 0 for none): the failover must hold on a loaded
# host too (docs/ha.md, the kernel path thread's priority).
e2e_cpu_load "${E2E_CPU_LOAD:-2}" 240
PY=$(_topo_python)
# The pod: TCP echo on 80, UDP echo on 7.
ip netns exec "${P}p0" socat TCP-LISTEN:80,fork,reuseaddr EXEC:cat >/dev/null 2>&1 &
echo "$! pod-tcp" >>"$ST/pids"
ip netns exec "${P}p0" "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 7))
while True:
    d, a = s.recvfrom(2048); s.sendto(d, a)' >/dev/null 2>&1 &
echo "$! pod-udp" >>"$ST/pids"

gw_config 198.51.100.11 10.0.0.3 10.0.0.4 "$ST/a.sock" >"$ST/a.yaml"
gw_config 198.51.100.12 10.0.0.4 10.0.0.3 "$ST/b.sock" >"$ST/b.yaml"
STRAITCTL=$(dirname "$STRAIT_BIN")/straitctl
# shellcheck disable=SC2034 # lib.sh's checks print the tail of the gateway's log
STRAIT_LOG=$ST/a.log
A_PID=$(ha_gw_start "${P}g" "${P}a" "$ST/a.yaml" "$ST/a.log")
B_PID=$(ha_gw_start "$NS_B" "${P}b" "$ST/b.yaml" "$ST/b.log")
check "the TAPs exist with the gateways' own addresses" \
	bash -c "ip -n ${P}g -4 addr show dev strait-ext | grep -qF 198.51.100.11/24 &&
		ip -n $NS_B -4 addr show dev strait-int | grep -qF 10.0.0.4/24"
check "standby before keepalived: nothing answers for the mapping address" no_ping

ka_start "${P}g" a 150
ka_start "$NS_B" b 100
check "A becomes master (its TAPs hold both VIPs)" wait_for 20 holds_vips "${P}g"
check "B stays backup" not_holds_vips "$NS_B"
check "a connection through A works" wait_for 10 echo_once before
A_MAC=$(ip -n "${P}g" link show gx | awk '/link\/ether/ {print $2}')
check_eq "the client's ARP for the mapping address is A's" "$A_MAC" "$(client_mac)"

# Long-lived flows: 10 TCP connections and 20 UDP flows, a message every 50 ms each; strait on
# A is killed once B holds them all (without sync, 4 s in), and the flows end 5 s after the
# kill (ha_flows_stop; at most 60 s).
cat >"$ST/flows.py" <<'EOF'
import os, socket, sys, time, select, statistics
DUR, NT, NU = float(sys.argv[1]), 10, 20
STOP = sys.argv[0] + ".stop"
if os.path.exists(STOP): os.remove(STOP)  # an earlier run's
tcp, udp = [], []
for i in range(NT):
    s = socket.create_connection(("198.51.100.1", 8080), timeout=3); s.setblocking(False)
    tcp.append({"s": s, "last": time.time(), "gap": 0.0, "dead": False, "buf": b""})
for i in range(NU):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.setblocking(False)
    s.connect(("198.51.100.1", 7777))
    udp.append({"s": s, "last": time.time(), "gap": 0.0, "dead": False})
start = time.time(); nxt = start
while time.time() - start < DUR and not os.path.exists(STOP):
    now = time.time()
    if now >= nxt:
        nxt += 0.05
        for f in tcp + udp:
            if f["dead"]: continue
            try: f["s"].send(b"m\n")
            except (BlockingIOError, ConnectionRefusedError): pass
            except OSError: f["dead"] = True
    r, _, _ = select.select([f["s"] for f in tcp + udp if not f["dead"]], [], [], 0.01)
    now = time.time()
    for f in tcp + udp:
        if f["s"] not in r: continue
        try: d = f["s"].recv(65536)
        except (BlockingIOError, ConnectionRefusedError): continue
        except OSError: f["dead"] = True; continue
        if f in tcp and not d: f["dead"] = True; continue
        f["gap"] = max(f["gap"], now - f["last"]); f["last"] = now
end = time.time()
def report(name, fl):
    alive = [f for f in fl if not f["dead"] and end - f["last"] < 1.0]
    gaps = sorted(f["gap"] * 1000 for f in alive)
    print("%s %d %d %d %d" % (name, len(alive), len(fl), statistics.median(gaps) if gaps else -1,
                              max(gaps) if gaps else -1))
report("tcp", tcp); report("udp", udp)
EOF
ip netns exec "${P}c" "$PY" "$ST/flows.py" 60 >"$ST/flows.out" 2>"$ST/flows.err" &
FLOWS=$!
if [ "$SYNC" = 1 ]; then
	check "B holds A's sessions (sync installed and refreshed them)" wait_for 10 b_has_flows
	echo "# before the kill: A sent $(ha_sync_stat "$ST/a.sock" tx_records) records in" \
		"$(ha_sync_stat "$ST/a.sock" tx_datagrams) datagrams; B installed" \
		"$(ha_sync_stat "$ST/b.sock" installed), refreshed $(ha_sync_stat "$ST/b.sock" updated)," \
		"conflicts $(ha_sync_stat "$ST/b.sock" install_conflict)," \
		"bad $(ha_sync_stat "$ST/b.sock" rx_bad)"
else
	sleep 4
fi
T0=$(date +%s%N)
kill -9 "$A_PID"
check "B becomes master after A's strait dies" wait_for 15 holds_vips "$NS_B"
# shellcheck disable=SC2034 # the same, now the survivor's
STRAIT_LOG=$ST/b.log
check "a new connection through B works" wait_for 10 echo_once after
B_MAC=$(ip -n "$NS_B" link show gx | awk '/link\/ether/ {print $2}')
check_eq "the client's ARP for the mapping address moved to B" "$B_MAC" "$(client_mac)"
ha_flows_stop "$ST/flows.py" "$T0" 5
wait "$FLOWS" || true
cat "$ST/flows.err" >&2 || true
read -r _ TCP_OK TCP_N TCP_MED TCP_MAX < <(grep '^tcp' "$ST/flows.out" || echo "tcp 0 0 -1 -1")
read -r _ UDP_OK UDP_N UDP_MED UDP_MAX < <(grep '^udp' "$ST/flows.out" || echo "udp 0 0 -1 -1")
if [ "$SYNC" = 1 ]; then
	echo "# failover with session sync, full NAT (SIGKILL of strait on the master, VRRPv3 $ADVERT s):"
else
	echo "# failover (SIGKILL of strait on the master, keepalived VRRPv3 advert $ADVERT s):"
fi
echo "#   TCP flows survived $TCP_OK/$TCP_N, outage median $TCP_MED ms, max $TCP_MAX ms"
echo "#   UDP flows survived $UDP_OK/$UDP_N, outage median $UDP_MED ms, max $UDP_MAX ms"
if [ "$SYNC" != 1 ]; then
	check "most TCP flows survive (pickup on B)" test "$((TCP_OK * 2))" -gt "$TCP_N"
	check "most UDP flows survive" test "$((UDP_OK * 2))" -gt "$UDP_N"
	e2e_finish
	exit
fi
check_eq "every TCP flow survives (synced sessions on B)" "10/10" "$TCP_OK/$TCP_N"
check "at least 19 of 20 UDP flows survive" test "$UDP_OK" -ge 19
check "no sync datagram was malformed" test "$(ha_sync_stat "$ST/b.sock" rx_bad)" -eq 0

# strait restarted on A: its hello makes B dump its sessions (the flows it took over, closing
# or idle now but still in its table), which A installs: a bulk resync.
a_has_bulk() { [ "$(ha_sync_stat "$ST/a.sock" installed)" -ge 30 ]; }
B_BULKS=$(ha_sync_stat "$ST/b.sock" bulk_resyncs)
A_PID=$(ha_gw_start "${P}g" "${P}a" "$ST/a.yaml" "$ST/a2.log")
check "restarted A gets B's sessions by a bulk resync" wait_for 15 a_has_bulk
check "B counted the bulk resync" test "$(ha_sync_stat "$ST/b.sock" bulk_resyncs)" -gt "$B_BULKS"
echo "# after A's restart: B sent its table (bulk resyncs $B_BULKS -> $(ha_sync_stat "$ST/b.sock" bulk_resyncs)); A installed $(ha_sync_stat "$ST/a.sock" installed)"
e2e_finish
