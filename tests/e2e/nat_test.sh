#!/usr/bin/env bash
# nat_test.sh: strait's data plane end to end, in network namespaces, with real clients and
# servers, checked byte for byte and against strait's own counters.
#
#   - the gateway answers ping on both arms;
#   - a 20 MB TCP transfer both ways arrives with the same sha256; UDP echo returns the bytes;
#   - many client connections spread over every backend; per-broker ports reach their pod;
#   - a pod reaches a mapping through its external address (hairpin, full NAT);
#   - a source outside a mapping's allow-list gets nothing;
#   - a UDP session expires after its timeout;
#   - ICMP errors from a pod reach the client translated: the kernel of the client matches
#     them to its socket (port unreachable → ECONNREFUSED; fragmentation needed → path MTU);
#   - crafted malformed packets (scapy) are dropped and counted by reason while good traffic
#     flows, and TTL 1 gets ICMP time exceeded;
#   - two workers carry full-NAT flows both ways (sessions on both, packets handed over).
#
# Usage: nat_test.sh [STRAIT_BINARY]   (default build/strait)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root
topo_require sha256sum:coreutils ping:iputils-ping python3-scapy

STRAIT_BIN=${1:-$E2E_ROOT/build/strait}
NPODS=3
EXT=$TOPO_EXT_ADDR
PY=/usr/bin/python3 # Debian's, which has scapy
topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)

# The default config plus the mappings this test needs, with a per-run CLI socket.
make_config() { # WORKERS
	sed -e "s|^cli_socket:.*|cli_socket: $ST/cli.sock|" -e "s|^workers:.*|workers: $1|" \
		-e 's|^metrics_listen:.*|metrics_listen: ""|' "$E2E_ROOT/config/strait.yaml"
	cat <<'EOF'
- {name: restricted, addresses: [198.51.100.1], allowedSources: [203.0.113.0/24],
   ports: [{port: 8081, servicePort: 80}], backends: [{address: 10.0.0.11}]}
- {name: udp-short, addresses: [198.51.100.1], timeouts: {udp: 2},
   ports: [{port: 7001, servicePort: 7, protocol: udp}], backends: [{address: 10.0.0.11}]}
- {name: closed, addresses: [198.51.100.1],
   ports: [{port: 7002, servicePort: 9999, protocol: udp}], backends: [{address: 10.0.0.11}]}
- {name: pmtu, addresses: [198.51.100.1],
   ports: [{port: 7003, servicePort: 9998, protocol: udp}], backends: [{address: 10.0.0.12}]}
EOF
}
make_config 1 >"$ST/strait.yaml"

# Live counters from the running daemon, through straitctl --json.
STRAITCTL=$(dirname "$STRAIT_BIN")/straitctl
ctl_json() { # PYTHON-EXPR COMMAND...: EXPR evaluated on the JSON answer, bound to d
	local expr=$1
	shift
	"$STRAITCTL" -s "$ST/cli.sock" --json "$@" |
		"$PY" -c "import json, sys; d = json.load(sys.stdin); print($expr)" || echo error
}
drop_count() { ctl_json "d['drops'].get('$1', 0)" show stats; } # REASON
mapping_stat() { # NAME FIELD (created, drops, pkts_o2i, ...)
	ctl_json "next((m['$2'] for m in d['mappings'] if m['mapping'] == '$1'), 0)" show stats
}

strait_start "$STRAIT_BIN" "$ST/strait.yaml"

# --- the gateway itself --------------------------------------------------------------
check_match "client pings the gateway's ext address" '.*3 received.*' \
	"$(in_client ping -c 3 -i 0.2 -W 1 "$EXT" 2>&1 || true)"
check_match "pod-0 pings the gateway's int address" '.*2 received.*' \
	"$(in_pod 0 ping -c 2 -i 0.2 -W 1 "$TOPO_INT_ADDR" 2>&1 || true)"

# --- TCP and UDP through full NAT ----------------------------------------------------
declare -A seen=()
for ((i = 0; i < 30; i++)); do
	body=$(client_curl "http://$EXT:8080/" || true)
	[ -n "$body" ] && seen[$body]=$((${seen[$body]:-0} + 1))
done
check_eq "30 connections from many source ports spread over all $NPODS pods" "$NPODS" \
	"${#seen[@]}"
for ((i = 0; i < NPODS; i++)); do
	check_eq "broker port $((32000 + i)) answered by pod-$i" "pod-$i" \
		"$(client_curl "http://$EXT:$((32000 + i))/" || true)"
done

# --- hairpin (RFC 4787 REQ-9, RFC 5382 REQ-8) ------------------------------------------
# A pod connects to the external address (its default route is via the gateway's int
# address): full NAT to the backend, the reply back through strait from the external address.
check_match "hairpin: pod-0 reaches $EXT:8080 through strait" 'pod-[0-2]' \
	"$(in_pod 0 curl -s --max-time 3 "http://$EXT:8080/" 2>&1 || true)"
check_eq "hairpin: pod-0 reaches broker port 32001, answered by pod-1" pod-1 \
	"$(in_pod 0 curl -s --max-time 3 "http://$EXT:32001/" 2>&1 || true)"
check_eq "hairpin: pod-1 reaches its own broker port 32001 (backend = client)" pod-1 \
	"$(in_pod 1 curl -s --max-time 3 "http://$EXT:32001/" 2>&1 || true)"

head -c 1400 /dev/urandom >"$ST/udp.in"
client_udp "$EXT" 7777 <"$ST/udp.in" >"$ST/udp.out" || true
check_eq "udp echo of 1400 random bytes" "$(sha256sum <"$ST/udp.in")" \
	"$(sha256sum <"$ST/udp.out")"

head -c 20M /dev/urandom >"$ST/blob.in"
want=$(sha256sum <"$ST/blob.in" | cut -d' ' -f1)
client_curl --max-time 120 -H 'Expect:' -H 'Content-Type: application/octet-stream' \
	--data-binary @"$ST/blob.in" -D "$ST/blob.hdr" -o "$ST/blob.out" \
	"http://$EXT:8080/upload" || true
check_eq "20 MB upload arrives at the pod intact (sha256)" "$want" \
	"$(tr -d '\r' <"$ST/blob.hdr" | awk -F': ' 'tolower($1) == "x-body-sha256" {print $2}')"
check_eq "20 MB echo arrives back at the client intact (sha256)" "$want" \
	"$(sha256sum <"$ST/blob.out" | cut -d' ' -f1)"

# --- allow-list ----------------------------------------------------------------------
rc=0
client_curl --max-time 2 "http://$EXT:8081/" >/dev/null 2>&1 || rc=$?
check "a client outside allowedSources gets no answer (curl exit $rc)" test "$rc" -ne 0

# --- UDP session expiry (udp-short: 2 s) -----------------------------------------------
udp_from() { # SPORT DPORT PAYLOAD: one datagram from a fixed source port, print the reply
	in_client "$PY" - "$EXT" "$@" <<'EOF'
import socket, sys
host, sport, dport, payload = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", sport))
s.settimeout(2)
s.sendto(payload.encode(), (host, dport))
try:
    print(s.recv(2048).decode())
except socket.timeout:
    print("timeout")
EOF
}
check_eq "udp-short: first datagram echoed" "one" "$(udp_from 40001 7001 one)"
sleep 4.5
check_eq "udp-short: same 5-tuple after the timeout still echoed" "two" \
	"$(udp_from 40001 7001 two)"

# --- ICMP errors from a pod, translated -----------------------------------------------
# pod-0 has nothing on 9999: its kernel answers port unreachable, which reaches the client's
# connected socket only if strait rewrote the quoted header back to the client's 5-tuple.
refused=$(in_client "$PY" - "$EXT" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.connect((sys.argv[1], 7002))
s.settimeout(3)
s.send(b"anyone?")
try:
    s.recv(100)
    print("answer")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
EOF
)
check_eq "port unreachable from pod-0 reaches the client's socket (ECONNREFUSED)" refused \
	"$refused"

# pod-1 plays a router with a 1200-byte link: scapy answers the first datagram to 9998 with
# ICMP fragmentation needed (RFC 1191). The client's kernel lowers its path MTU to the
# gateway only if the translated error quotes the client's own datagram.
in_pod 1 timeout 20 "$PY" - >"$ST/fragneeded.log" 2>&1 <<'EOF' &
import socket, time
from scapy.all import IP, ICMP, UDP, AsyncSniffer, send, conf
conf.verb = 0
# A socket on 9998 so that the pod's kernel does not answer port unreachable as well.
sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sink.bind(("0.0.0.0", 9998))
def answer(p):
    q = bytes(p[IP])[:28]
    send(IP(src=p[IP].dst, dst=p[IP].src) / ICMP(type=3, code=4, nexthopmtu=1200) / q)
    print("sent frag-needed to", p[IP].src, p[UDP].sport, flush=True)
sniffer = AsyncSniffer(iface="eth0", filter="udp dst port 9998", count=1, prn=answer,
                       timeout=15, started_callback=lambda: print("ready", flush=True))
sniffer.start()
sniffer.join()
EOF
sniffer=$!
wait_for 15 grep -q ready "$ST/fragneeded.log" || true
pmtu=$(in_client "$PY" - "$EXT" <<'EOF'
import errno, socket, sys, time
IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_MTU = 10, 2, 14
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
s.connect((sys.argv[1], 7003))
s.send(b"x" * 1400)
for _ in range(50):
    time.sleep(0.1)
    try:
        s.send(b"x" * 1400)
    except OSError as e:
        if e.errno == errno.EMSGSIZE:
            break  # the new path MTU is in force
print(s.getsockopt(socket.IPPROTO_IP, IP_MTU))
EOF
)
wait "$sniffer" || true
check_eq "fragmentation needed from a pod sets the client's path MTU to 1200" 1200 "$pmtu"

# --- malformed packets, crafted -------------------------------------------------------
gwmac=$(in_client ip neigh show "$EXT" | awk '{print $5; exit}')
check_match "client learned the gateway's MAC by ARP" '([0-9a-f]{2}:){5}[0-9a-f]{2}' "$gwmac"
ttl_reply=$(in_client "$PY" - "$gwmac" "$EXT" <<'EOF'
import sys
from scapy.all import Ether, IP, ICMP, UDP, Raw, sendp, srp1, conf
conf.verb = 0
mac, gw = sys.argv[1], sys.argv[2]
eth = Ether(dst=mac)
good = IP(src="198.51.100.2", dst=gw) / UDP(sport=41000, dport=7777) / Raw(b"hello")
raw = bytes(eth / good)
frames = [
    raw[:14 + 12],                                            # truncated IPv4 header
    bytes(eth / IP(src="198.51.100.2", dst=gw, ihl=3) / UDP(dport=7777) / Raw(b"x" * 20)),
    bytes(eth / IP(src="198.51.100.2", dst=gw, len=1000) / UDP(dport=7777) / Raw(b"x")),
    bytes(eth / IP(src="198.51.100.2", dst=gw, version=6) / UDP(dport=7777)),
    bytes(eth / IP(src="198.51.100.2", dst=gw, chksum=0x1234) / UDP(dport=7777)),
    bytes(eth / IP(src="198.51.100.2", dst=gw, frag=100, id=4242, proto=17) / Raw(b"y" * 64)),
]
for f in frames:
    sendp(f, iface="eth0")
# TTL 1 towards a mapped port: the gateway answers ICMP time exceeded (type 11).
r = srp1(eth / IP(src="198.51.100.2", dst=gw, ttl=1) / UDP(sport=41001, dport=7777) / Raw(b"t"),
         iface="eth0", timeout=3)
print(r[ICMP].type if r is not None and r.haslayer(ICMP) else "none")
EOF
)
check_eq "TTL 1 is answered with ICMP time exceeded (type 11)" 11 "${ttl_reply##*$'\n'}"
check_eq "good traffic still flows after the malformed packets" pod-1 \
	"$(client_curl "http://$EXT:32001/" || true)"

for reason in truncated bad_ihl bad_total_length bad_version bad_ip_checksum \
	ttl_exceeded not_allowed; do
	check_match "drop counter $reason counted the crafted packet(s)" '[1-9][0-9]*' \
		"$(drop_count "$reason")"
done
check_eq "udp-short: two sessions for one 5-tuple (the first expired)" 2 \
	"$(mapping_stat udp-short created)"
check_eq "restricted: no session was created" 0 "$(mapping_stat restricted created)"
check_match "restricted: its drops were counted" '[1-9][0-9]*' \
	"$(mapping_stat restricted drops)"
rc=0
strait_stop || rc=$?
check_eq "strait exits 0 on SIGINT" 0 "$rc"
sed 's/^/  | /' "$STRAIT_LOG" | tail -n 24

# --- IPv4 fragments, on af_xdp ------------------------------------------------------------
# (af_packet's fanout DEFRAG flag makes the kernel reassemble before strait sees anything.)
sed -e 's/net_af_packet\([01]\)/net_af_xdp\1/' "$ST/strait.yaml" >"$ST/strait-xdp.yaml"
STRAIT_PMD=net_af_xdp strait_start "$STRAIT_BIN" "$ST/strait-xdp.yaml"
# The first frames after the XDP programs are attached can be lost while the veths' queues come
# up (a CI run lost all three fragments of the datagram below, sent at once): wait until a
# small datagram is echoed, then count the fragments' packets from there.
udp_up() { [ "$(printf up | client_udp "$EXT" 7777 1 2>/dev/null)" = up ]; }
check "af_xdp: a small datagram is echoed once the ports are up" wait_for 10 udp_up
echo_i2o0=$(mapping_stat echo pkts_i2o)
# 3000 bytes over 1500-byte links: the client's kernel sends 3 fragments; only the first
# carries ports. The pod's echo comes back fragmented the same way (in2out later fragments).
head -c 3000 /dev/urandom >"$ST/frag.in"
client_udp "$EXT" 7777 <"$ST/frag.in" >"$ST/frag.out" || true
check_eq "af_xdp: a 3000-byte UDP datagram, fragmented both ways, echoed intact" \
	"$(sha256sum <"$ST/frag.in")" "$(sha256sum <"$ST/frag.out")"
in_client "$PY" - "$gwmac" "$EXT" <<'EOF'
import sys
from scapy.all import Ether, IP, Raw, sendp, conf
conf.verb = 0
# a later fragment of a datagram whose first fragment never came
sendp(Ether(dst=sys.argv[1]) / IP(src="198.51.100.2", dst=sys.argv[2], frag=100, id=4243,
                                  proto=17) / Raw(b"y" * 64), iface="eth0")
EOF
check_eq "af_xdp: good traffic after the lone fragment" pod-2 \
	"$(client_curl "http://$EXT:32002/" || true)"
# Held for its first fragment (500 ms), then dropped: the housekeeping pass counts it.
lone_dropped() { [ "$(drop_count frag_hold_timeout)" -ge 1 ] 2>/dev/null; }
check "af_xdp: the lone later fragment, held for its first one, is counted as frag_hold_timeout" \
	wait_for 5 lone_dropped
check_match "af_xdp: echo mapping carried the fragments (>= 3 packets each way)" \
	'([3-9]|[1-9][0-9]+)' "$(($(mapping_stat echo pkts_i2o) - echo_i2o0))"
rc=0
strait_stop || rc=$?
check_eq "strait (af_xdp) exits 0" 0 "$rc"

# --- two workers ------------------------------------------------------------------------
# 24 client addresses: a flow's owner is a keyed hash of the client address (a secret drawn
# at start), so both workers own sessions but for about 2 secrets in 2^24, and af_packet's
# fanout delivers some packets to the other worker's queue.
make_config 2 >"$ST/strait2.yaml"
for ((c = 3; c <= 25; c++)); do in_client ip addr add "198.51.100.$c/24" dev eth0; done
STRAIT_LCORES="--lcores 0@0,1@1,2@1" STRAIT_VDEV_OPTS=",qpairs=2" \
	strait_start "$STRAIT_BIN" "$ST/strait2.yaml"
ok=0 missed=""
for ((c = 2; c <= 25; c++)); do
	for port in 8080 $((32000 + c % 3)); do
		b=$(client_curl --interface "198.51.100.$c" "http://$EXT:$port/" 2>&1 || true)
		if [[ $b == pod-[0-2] ]]; then ok=$((ok + 1)); else missed+=" .$c:$port (${b:0:60})"; fi
	done
done
if [ -n "$missed" ]; then
	echo "info: two workers: not answered:$missed"
	"$STRAITCTL" -s "$ST/cli.sock" show stats | sed -n '/^drops/,/^mappings/p' | sed 's/^/  | /'
fi
check_eq "two workers: 48 connections from 24 clients all answered" 48 "$ok"
client_curl --max-time 120 --interface 198.51.100.7 -H 'Expect:' \
	-H 'Content-Type: application/octet-stream' --data-binary @"$ST/blob.in" \
	-o "$ST/blob2.out" "http://$EXT:8080/upload" || true
check_eq "two workers: 20 MB echo intact" "$want" "$(sha256sum <"$ST/blob2.out" | cut -d' ' -f1)"
"$STRAITCTL" -s "$ST/cli.sock" show workers | sed 's/^/  | /'
for w in 0 1; do
	check_match "worker $w owns sessions" '[1-9][0-9]*' \
		"$(ctl_json "d[$w]['sessions']" show workers)"
done
check_match "packets were handed between workers" '[1-9][0-9]*' \
	"$(ctl_json "sum(x['handoff_out'] for x in d)" show workers)"
# af_packet has no rte_flow: the int port falls back to the handoff ring and says why.
check_eq "two workers: int steering is the handoff ring, rte_flow refused" \
	"device, handoff ring (rte_flow refused: tcp dst 1024/0xfc00 -> queue 0: Function not implemented)" \
	"$(ctl_json "d[1]['steering']" show ports)"
check_eq "two workers: ext steering" "device, handoff ring" "$(ctl_json "d[0]['steering']" show ports)"
rc=0
strait_stop || rc=$?
check_eq "strait (2 workers) exits 0" 0 "$rc"

e2e_finish
