# shellcheck shell=bash
# scripts/ha_bgp_topo.sh: the BGP ECMP topology of strait's high availability (docs/ha.md) in
# network namespaces, for tests/e2e/ha_bgp_test.sh and scripts/ha-demo.sh. Source it after
# scripts/topo.sh (tests/e2e/lib.sh does that); it defines functions and runs nothing.
#
#   ${P}c client 203.0.113.2 ── ${P}r router 203.0.113.1 | 198.51.100.254, BIRD: ECMP + BFD
#                                        │ rx
#                               bx (bridge in ${P}n) ──┬── gx ${P}g gateway A 198.51.100.11
#                                                      └── gx ${P}h gateway B 198.51.100.12
#   ${P}g/${P}h: strait (af_packet on gx/gi, TAP strait-ext), BIRD over the TAP (AS 65001)
#                               bi (bridge in ${P}n) ──┬── gi of A 10.0.0.3, gi of B 10.0.0.4
#                                                      └── ${P}p0 pod 10.0.0.11
#   mappings web 192.0.2.1:8080 → pod:80 (TCP) and echo 192.0.2.1:7777 → pod:7 (UDP), full
#   NAT: each gateway's own int address is its SNAT address, so the pod answers the gateway
#   that carried the flow, and tells it (the TCP server's first line, the UDP echo's prefix).
#
#   hab_topo_up                 namespaces, veths, bridges, addresses, the router's sysctls
#   hab_pod_start               the pod's TCP server on :80 ("PEER\n" then an echo) and UDP
#                               echo on :7 ("PEER " then the datagram)
#   hab_flows_script            the client's long-lived flows (python, stdout), run as
#                               FILE DUR NTCP NUDP [VIP]: prints "ready", runs DUR s or until
#                               FILE.stop exists (ha_flows_stop), then prints per protocol
#                               and source address the pod saw (10.0.0.3 and 10.0.0.4 always,
#                               then any other, then "all" flows)
#                               "PROTO GW SURVIVED TOTAL GAP_MEDIAN_MS GAP_MAX_MS"
#   hab_gw_config OWN_EXT OWN_INT [CLI_SOCKET]  strait's config of a gateway (stdout)
#   hab_gw_config_tail          its workers, sessions and mappings (stdout)
#   hab_gw_start NS PREFIX CONFIG LOG  strait in NS; prints its PID once ready
#   hab_bird_start NS NAME CONF        bird -f in NS (pid recorded)
#   hab_bird_gw_conf OWN_EXT    config/ha/bird-gateway.conf for that gateway (stdout), with
#                               HAB_BFD's timers if set
#   hab_birds_start             BIRD on the router (config/ha/bird-router.conf) and on both
#                               gateways (hab_bird_gw_conf); HAB_BFD="INTERVAL_MS MULTIPLIER"
#                               (optional) overrides the files' BFD timers on all three
#   hab_bfd_timers              the BFD timers in use, "50 ms x 5"
#   hab_two_nexthops, hab_only_b  the router routes 192.0.2.1 via both gateways / B alone
#   hab_conn_once               one connection through the web mapping from the client: prints
#                               the source address the pod saw, fails unless the echo came back
#   hab_new_conns N PEER        N connections one after the other (hab_conn_once): prints how
#                               many succeeded and how many of those the pod saw from PEER
#   hab_withdraw_ms FILE T0_NS POLLED_MS  ms from T0_NS to the router's route via B alone in
#                               FILE (hab_monitor_start's, route), POLLED_MS if it has none
#   hab_bfd_gaps_script         a sniffer (python, stdout), run as FILE IFACE DUR in a
#                               namespace: for DUR s, then prints per direction "bfd SRC>DST
#                               PACKETS LARGEST_GAP_MS HH:MM:SS.mmm" of the BFD control packets
#                               on IFACE (the kernel's timestamps; the time the gap ended)
#   hab_nexthops                the router's nexthops for 192.0.2.1, one per line
#   hab_monitor_start NS OBJECT FILE  `ip -ts monitor OBJECT` (route, address) in NS, to FILE
#   hab_monitor_ms FILE TEXT T0_NS  ms from T0_NS (date +%s%N) to the first event of FILE at or
#                               after it that contains TEXT and is not a deletion (-1 if none):
#                               the kernel's timestamp of the change, not a poll
#   hab_down_extra              stop what topo_down does not know (${P}r, ${P}h, birds)
# The caller sets STRAIT_BIN and ST (the state directory, from _topo_state).

# shellcheck source-path=SCRIPTDIR source=ha_topo.sh
source "$(dirname "${BASH_SOURCE[0]}")/ha_topo.sh"

HAB_VIP=192.0.2.1
HAB_NS_R="${P}r"
HAB_NS_B="${P}h"
HAB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HAB_PIDS=()

hab_down_extra() {
	local pid ns i
	# SIGINT: strait prints its counters into its log; bird leaves on SIGTERM.
	for pid in "${HAB_PIDS[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	for ((i = 0; i < 20; i++)); do
		ns=0
		for pid in "${HAB_PIDS[@]}"; do _topo_alive "$pid" && ns=1; done
		[ $ns -eq 0 ] && break
		sleep 0.1
	done
	for ns in "$HAB_NS_B" "$HAB_NS_R"; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
	done
	for pid in "${HAB_PIDS[@]}"; do
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true # our children: reaped quietly
	done
	for ns in "$HAB_NS_B" "$HAB_NS_R" "${P}k"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "/var/run/dpdk/${P}a" "/var/run/dpdk/${P}b" "/var/run/dpdk/${P}k" 2>/dev/null || true
}

hab_topo_up() {
	local ns
	ha_fabric_up "$HAB_NS_B" "$HAB_NS_R" rx r0 "$HAB_NS_R"
	ip -n "${P}c" link add eth0 type veth peer name c0 netns "$HAB_NS_R"
	for ns in "${P}c:eth0" "$HAB_NS_R:c0"; do
		ip netns exec "${ns%%:*}" ethtool -K "${ns#*:}" tx off tso off gso off >/dev/null
		_topo_ipv6_off "${ns%%:*}" "${ns#*:}"
		ip -n "${ns%%:*}" link set "${ns#*:}" up
	done
	ip -n "${P}c" addr add 203.0.113.2/24 dev eth0
	ip -n "${P}c" route add default via 203.0.113.1
	ip -n "$HAB_NS_R" addr add 203.0.113.1/24 dev c0
	ip -n "$HAB_NS_R" addr add 198.51.100.254/24 dev rx
	# A router: forwarding, and ECMP by the L4 hash (5-tuple), not by addresses alone.
	_topo_sysctl "$HAB_NS_R" net/ipv4/ip_forward=1 net/ipv4/fib_multipath_hash_policy=1
	ip -n "${P}p0" addr add 10.0.0.11/24 dev eth0
}

hab_pod_start() {
	local py
	py=$(_topo_python)
	ip netns exec "${P}p0" "$py" -c '
import socket, threading
def serve(c, a):
    try:
        c.sendall((a[0] + "\n").encode())
        while True:
            d = c.recv(4096)
            if not d: break
            c.sendall(d)
    except OSError: pass
    c.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 80)); s.listen(128)
while True:
    c, a = s.accept(); threading.Thread(target=serve, args=(c, a), daemon=True).start()' \
		>/dev/null 2>&1 &
	echo "$! pod-tcp" >>"$ST/pids"
	HAB_PIDS+=($!)
	ip netns exec "${P}p0" "$py" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 7))
while True:
    d, a = s.recvfrom(2048); s.sendto(a[0].encode() + b" " + d, a)' >/dev/null 2>&1 &
	echo "$! pod-udp" >>"$ST/pids"
	HAB_PIDS+=($!)
}

hab_flows_script() {
	cat <<'PY'
import os, socket, sys, time, select, statistics
DUR, NT, NU = float(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
STOP = sys.argv[0] + ".stop"
if os.path.exists(STOP): os.remove(STOP)  # an earlier run's
VIP = sys.argv[4] if len(sys.argv) > 4 else "192.0.2.1"
fl = []
for i in range(NT):
    s = socket.create_connection((VIP, 8080), timeout=3)
    f = s.makefile("rb"); gw = f.readline().decode().strip()
    s.setblocking(False)
    fl.append({"p": "tcp", "s": s, "gw": gw})
for i in range(NU):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.connect((VIP, 7777)); s.settimeout(1)
    gw = "?"
    for _ in range(3):
        try:
            s.send(b"hello"); gw = s.recv(2048).split(b" ", 1)[0].decode(); break
        except OSError: pass
    s.setblocking(False)
    fl.append({"p": "udp", "s": s, "gw": gw})
for f in fl: f.update(last=time.time(), gap=0.0, dead=False)
print("ready", flush=True)
# A message every 50 ms on each TCP flow, every 10 ms (100 datagrams/s) on each UDP flow: a
# flow's outage is measured to within its interval.
IV = {"tcp": 0.05, "udp": 0.01}
start = time.time(); nxt = {"tcp": start, "udp": start}
while time.time() - start < DUR and not os.path.exists(STOP):
    now = time.time()
    for p in IV:
        if now < nxt[p]: continue
        nxt[p] += IV[p]
        for f in fl:
            if f["dead"] or f["p"] != p: continue
            try: f["s"].send(b"m\n")
            except (BlockingIOError, ConnectionRefusedError): pass
            except OSError: f["dead"] = True
    r, _, _ = select.select([f["s"] for f in fl if not f["dead"]], [], [],
                            max(0.0, min(nxt.values()) - time.time()))
    now = time.time()
    for f in fl:
        if f["s"] not in r: continue
        try: d = f["s"].recv(65536)
        except (BlockingIOError, ConnectionRefusedError): continue
        except OSError: f["dead"] = True; continue
        if f["p"] == "tcp" and not d: f["dead"] = True; continue
        f["gap"] = max(f["gap"], now - f["last"]); f["last"] = now
end = time.time()
gws = ["10.0.0.3", "10.0.0.4"] + sorted({f["gw"] for f in fl} - {"10.0.0.3", "10.0.0.4"})
for p in ("tcp", "udp"):
    for gw in gws + ["all"]:
        mine = [f for f in fl if f["p"] == p and gw in (f["gw"], "all")]
        alive = [f for f in mine if not f["dead"] and end - f["last"] < 1.0]
        gaps = sorted(f["gap"] * 1000 for f in alive)
        print("%s %s %d %d %d %d" % (p, gw, len(alive), len(mine),
              statistics.median(gaps) if gaps else -1, max(gaps) if gaps else -1))
PY
}

hab_gw_config() {
	cat <<EOF
ports:
  ext: {device: net_af_packet0, addresses: [$1/24], gateway: 198.51.100.254,
        kernel: {tap: strait-ext}}
  int: {device: net_af_packet1, addresses: [$2/24]}
ha: {mode: bgp}
cli_socket: ${3:-""}
EOF
	hab_gw_config_tail
}

hab_gw_config_tail() {
	cat <<EOF
workers: 1
sessions: {max: 65536}
mappings:
- {name: web, addresses: [$HAB_VIP], ports: [{port: 8080, servicePort: 80}],
   backends: [{address: 10.0.0.11}], nat: fullNat}
- {name: echo, addresses: [$HAB_VIP], ports: [{port: 7777, servicePort: 7, protocol: udp}],
   backends: [{address: 10.0.0.11}], nat: fullNat}
EOF
}

hab_gw_start() {
	local pid
	pid=$(ha_gw_start "$@") || return 1
	HAB_PIDS+=("$pid")
	echo "$pid"
}

# The BIRD config FILE with HAB_BFD's timers, if set (stdout).
_hab_bfd_sed() {
	local iv=${HAB_BFD:-} mult=${HAB_BFD:-}
	if [ -z "$iv" ]; then cat "$1"; return; fi
	iv=${iv%% *} mult=${mult##* }
	sed -E -e "s/(min (rx|tx) interval) [0-9]+ ms/\1 $iv ms/g" \
		-e "s/multiplier [0-9]+/multiplier $mult/g" "$1"
}

hab_bird_gw_conf() {
	_hab_bfd_sed "$HAB_ROOT/config/ha/bird-gateway.conf" | sed "s/198\.51\.100\.11/$1/g"
}

hab_bfd_timers() {
	_hab_bfd_sed "$HAB_ROOT/config/ha/bird-router.conf" |
		awk '/min tx interval/ && !i {i = $4} /multiplier/ && !m {m = $2 + 0}
			END {print i " ms x " m}'
}

hab_birds_start() {
	_hab_bfd_sed "$HAB_ROOT/config/ha/bird-router.conf" >"$ST/bird-router.conf"
	hab_bird_gw_conf 198.51.100.11 >"$ST/bird-a.conf"
	hab_bird_gw_conf 198.51.100.12 >"$ST/bird-b.conf"
	hab_bird_start "$HAB_NS_R" router "$ST/bird-router.conf"
	hab_bird_start "${P}g" a "$ST/bird-a.conf"
	hab_bird_start "$HAB_NS_B" b "$ST/bird-b.conf"
}

hab_two_nexthops() { [ "$(hab_nexthops | tr '\n' ' ')" = "198.51.100.11 198.51.100.12 " ]; }
hab_only_b() { [ "$(hab_nexthops | tr '\n' ' ')" = "198.51.100.12 " ]; }

hab_conn_once() {
	timeout 3 ip netns exec "${P}c" "$(_topo_python)" -c '
import socket, sys
s = socket.create_connection(("192.0.2.1", 8080), timeout=2)
f = s.makefile("rwb")
peer = f.readline().decode().strip()
f.write(b"ping\n"); f.flush()
assert f.readline() == b"ping\n"
print(peer)' 2>/dev/null
}

hab_new_conns() {
	local ok=0 at=0 i peer
	for ((i = 0; i < $1; i++)); do
		if peer=$(hab_conn_once); then
			ok=$((ok + 1))
			[ "$peer" = "$2" ] && at=$((at + 1))
		fi
	done
	echo "$ok $at"
}

hab_withdraw_ms() {
	local ms
	ms=$(hab_monitor_ms "$1" "] $HAB_VIP via 198.51.100.12 " "$2")
	[ "$ms" -ge 0 ] || ms=$3
	echo "$ms"
}

hab_bfd_gaps_script() {
	cat <<'PY'
import socket, struct, sys, time
IFACE, DUR = sys.argv[1], float(sys.argv[2])
# ETH_P_ALL: the packets the interface sends too, not only those it receives.
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
s.bind((IFACE, 3))
s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS: the kernel's receive time
s.settimeout(0.5)
last, gap, n = {}, {}, {}
end = time.time() + DUR
while time.time() < end:
    try:
        d, anc, _, addr = s.recvmsg(256, 64)
    except socket.timeout:
        continue
    if addr[1] != 0x0800 or len(d) < 28 or d[9] != 17:
        continue
    ihl = (d[0] & 15) * 4
    if struct.unpack("!H", d[ihl + 2:ihl + 4])[0] != 3784:
        continue
    ts = None
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == 35:
            sec, nsec = struct.unpack("qq", data[:16]); ts = sec + nsec / 1e9
    if ts is None:
        ts = time.time()
    k = socket.inet_ntoa(d[12:16]) + ">" + socket.inet_ntoa(d[16:20])
    if k in last and ts - last[k] > gap.get(k, (0, 0))[0]:
        gap[k] = (ts - last[k], ts)
    last[k] = ts
    n[k] = n.get(k, 0) + 1
for k in sorted(n):
    g, at = gap.get(k, (0, 0))
    print("bfd %s %d %d %s" % (k, n[k], g * 1000,
          time.strftime("%H:%M:%S", time.localtime(at)) + ".%03d" % (at % 1 * 1000)), flush=True)
PY
}

hab_bird_start() {
	local ns=$1 name=$2 conf=$3
	ip netns exec "$ns" bird -f -c "$conf" -s "$ST/bird-$name.ctl" -P "$ST/bird-$name.pid" \
		>"$ST/bird-$name.log" 2>&1 </dev/null &
	HAB_PIDS+=($!)
}

hab_monitor_start() {
	ip -n "$1" -ts monitor "$2" >"$3" 2>/dev/null </dev/null &
	HAB_PIDS+=($!)
}

hab_monitor_ms() {
	local t0=$3 ts ns
	while read -r ts; do
		ts=${ts#[}
		ns=$(date -d "${ts%]}" +%s%N) || continue
		if ((ns >= t0)); then
			echo $(((ns - t0) / 1000000))
			return 0
		fi
	done < <(grep -F -- "$2" "$1" | grep -v '] Deleted' | awk '{print $1}')
	echo -1
}

hab_nexthops() {
	ip -n "$HAB_NS_R" -4 route show "$HAB_VIP/32" 2>/dev/null |
		grep -oE 'via 198\.51\.100\.[0-9]+' | awk '{print $2}' | sort
}
