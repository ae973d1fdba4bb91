#!/usr/bin/env bash
# edge_test.sh: strait at the edge of what packets may look like, end to end.
#
#   (d) ICMP errors both ways about a known UDP and a known TCP session: crafted by scapy in
#       the pod (about the packet it received from the SNAT address) and in the client
#       (about the packet it received from the external address), captured on the other
#       side and checked byte for byte (edge_icmp.py): outer addresses, type, code, next-hop
#       MTU, outer IP and ICMP checksums, the quoted header translated back to the
#       receiver's own packet with a valid header checksum and a consistent L4 checksum.
#       Variants: port unreachable, frag needed, time exceeded, from a router on the path,
#       a UDP checksum of 0, quoted headers with IP options (IHL 6 and 15), 8-byte quotes
#       (translated), 4-byte quotes, an ICMP error quoting an ICMP error and a quote of a
#       tuple without session (dropped and counted, nothing answered), and frag needed with
#       MTU 68, which must arrive raised to the 576 floor.
#   (e) IPv4 fragment torture on af_xdp (af_packet has the kernel reassemble first), from
#       the client with scapy (edge_frag.py): fragments out of order, duplicated,
#       overlapping, a tiny first fragment (RFC 1858), and two clients sending different
#       datagrams with the same IP id at once through full NAT; echoes compared by sha256.
#   After each part: good traffic still flows and strait exits 0.
#
# The ext arm names the client's namespace as its gateway (the upstream router), as on the
# Internet: an ICMP error may come from a router's address, not only from the client.
#
# Usage: edge_test.sh [STRAIT_BINARY]   (default build/strait)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root
topo_require python3-scapy

STRAIT_BIN=${1:-$E2E_ROOT/build/strait}
STRAITCTL=$(dirname "$STRAIT_BIN")/straitctl
NPODS=2
EXT=$TOPO_EXT_ADDR
PY=/usr/bin/python3 # Debian's, which has scapy
topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)

sed -e "s|^cli_socket:.*|cli_socket: $ST/cli.sock|" \
	-e 's|^metrics_listen:.*|metrics_listen: ""|' \
	-e 's|\(addresses: \["198.51.100.1/24"\]\)}|\1, gateway: 198.51.100.2}|' \
	"$E2E_ROOT/config/strait.yaml" >"$ST/strait.yaml"
grep -q 'gateway: 198.51.100.2' "$ST/strait.yaml" || { echo "config: no ext gateway" >&2; exit 1; }
cat >>"$ST/strait.yaml" <<'EOF'
- {name: edge-udp, addresses: [198.51.100.1],
   ports: [{port: 7010, servicePort: 7, protocol: udp}], backends: [{address: 10.0.0.11}]}
- {name: edge-tcp, addresses: [198.51.100.1],
   ports: [{port: 8010, servicePort: 80}], backends: [{address: 10.0.0.11}]}
- {name: edge-frag, addresses: [198.51.100.1],
   ports: [{port: 7020, servicePort: 7, protocol: udp}], backends: [{address: 10.0.0.11}]}
EOF

ctl_json() { # PYTHON-EXPR COMMAND...: EXPR evaluated on the JSON answer, bound to d
	local expr=$1
	shift
	"$STRAITCTL" -s "$ST/cli.sock" --json "$@" |
		"$PY" -c "import json, sys; d = json.load(sys.stdin); print($expr)" || echo error
}

# report FILE: a checker's lines "NAME<TAB>EXPECTED<TAB>ACTUAL" become checks; "info:" lines
# and anything else (a traceback) are printed.
report() {
	local line name exp act
	while IFS= read -r line; do
		if [[ $line == *$'\t'*$'\t'* ]]; then
			IFS=$'\t' read -r name exp act <<<"$line"
			check_eq "$name" "$exp" "$act"
		elif [[ $line == info:* ]]; then
			echo "$line"
		else
			echo "  | $line"
		fi
	done <"$1"
}

strait_start "$STRAIT_BIN" "$ST/strait.yaml"

# --- (d) ICMP errors, both directions -------------------------------------------------------
# A UDP session (client 198.51.100.2:40100 -> edge-udp) and a TCP connection held open
# (edge-tcp): the sessions the errors are about.
udp_echo=$(in_client timeout 10 "$PY" - "$EXT" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.2", 40100))
s.settimeout(3)
s.sendto(b"edge-probe", (sys.argv[1], 7010))
try:
    print(s.recv(100).decode())
except socket.timeout:
    print("timeout")
EOF
)
check_eq "udp session: echo through edge-udp" edge-probe "$udp_echo"
holder=$(_topo_spawn tcp-hold "${P}c" timeout 90 "$PY" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 8010), timeout=3)
print("connected", flush=True)
time.sleep(80)' "$EXT")
wait_for 10 grep -q connected "$ST/tcp-hold.log" || true
session_row() { # MAPPING: its first session as a JSON object
	ctl_json "__import__('json').dumps(d['sessions'][0]) if d['sessions'] else '{}'" \
		show sessions mapping "$1"
}
printf '{"udp": %s, "tcp": %s}\n' "$(session_row edge-udp)" "$(session_row edge-tcp)" \
	>"$ST/sessions.json"
sessions=$("$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
for p in ("udp", "tcp"):
    print(p, *(d[p].get(k, "?") for k in ("client", "external", "snat", "backend")))' \
	"$ST/sessions.json" | tr '\n' ' ')
want="udp 198.51.100.2:40100 $EXT:7010 10.0.0.1:[0-9]+ 10.0.0.11:7 "
want+="tcp 198.51.100.2:[0-9]+ $EXT:8010 10.0.0.1:[0-9]+ 10.0.0.11:80 "
check_match "sessions of edge-udp and edge-tcp found (client, external, snat, backend)" \
	"$want" "$sessions"

# Both receivers capture at once; each stops at its direction's last case (or 30 s).
sn_c=$(_topo_spawn sniff-client "${P}c" timeout 40 "$PY" "$E2E_DIR/edge_icmp.py" sniff eth0 \
	"$ST/i2e.pcap" 30 0x11ff)
sn_p=$(_topo_spawn sniff-pod "${P}p0" timeout 40 "$PY" "$E2E_DIR/edge_icmp.py" sniff eth0 \
	"$ST/e2i.pcap" 30 0x22ff)
wait_for 20 grep -q ready "$ST/sniff-client.log" || true
wait_for 20 grep -q ready "$ST/sniff-pod.log" || true
podgw=$(in_pod 0 ip neigh show "$TOPO_INT_ADDR" | awk '{print $5; exit}')
gwmac=$(in_client ip neigh show "$EXT" | awk '{print $5; exit}')
check_match "the pod and the client know the gateway's MACs" \
	'([0-9a-f]{2}:){5}[0-9a-f]{2} ([0-9a-f]{2}:){5}[0-9a-f]{2}' "$podgw $gwmac"
in_pod 0 timeout 90 "$PY" "$E2E_DIR/edge_icmp.py" send i2e eth0 "$podgw" "$ST/sessions.json" \
	"$STRAITCTL" "$ST/cli.sock" "$ST/i2e.json" || echo "edge_icmp.py send i2e failed" >&2
in_client timeout 90 "$PY" "$E2E_DIR/edge_icmp.py" send e2i eth0 "$gwmac" "$ST/sessions.json" \
	"$STRAITCTL" "$ST/cli.sock" "$ST/e2i.json" || echo "edge_icmp.py send e2i failed" >&2
# shellcheck disable=SC2317 # called through wait_for
sniffers_done() { ! _topo_alive "$sn_c" && ! _topo_alive "$sn_p"; }
wait_for 35 sniffers_done || true
for dir in i2e e2i; do
	rc=0
	"$PY" "$E2E_DIR/edge_icmp.py" check "$dir" "$ST/$dir.pcap" "$ST/sessions.json" \
		"$ST/$dir.json" >"$ST/$dir.report" || rc=$?
	check_eq "$dir: the checker ran (edge_icmp.py check)" 0 "$rc"
	report "$ST/$dir.report"
done

check_eq "after the ICMP errors: broker-1 answered by pod-1" pod-1 \
	"$(client_curl "http://$EXT:32001/" || true)"
_topo_stop_pids "$holder"
rc=0
strait_stop || rc=$?
check_eq "strait exits 0 on SIGINT" 0 "$rc"
# The frag-needed errors set path MTUs in the client and the pod: part (e) starts clean.
for ns in "${P}c" "${P}p0" "${P}p1"; do ip -n "$ns" route flush cache || true; done

# --- (e) fragments, on af_xdp ---------------------------------------------------------------
sed -e 's/net_af_packet\([01]\)/net_af_xdp\1/' "$ST/strait.yaml" >"$ST/strait-xdp.yaml"
in_client ip addr add 198.51.100.3/24 dev eth0
STRAIT_PMD=net_af_xdp strait_start "$STRAIT_BIN" "$ST/strait-xdp.yaml"
in_client ping -c 1 -W 2 "$EXT" >/dev/null 2>&1 || true
gwmac=$(in_client ip neigh show "$EXT" | awk '{print $5; exit}')
# EDGE_POD_PCAP=FILE: what pod-0 received from strait during the fragment cases (debugging).
if [ -n "${EDGE_POD_PCAP:-}" ]; then
	sn_f=$(_topo_spawn sniff-frag "${P}p0" timeout 60 "$PY" "$E2E_DIR/edge_icmp.py" sniff eth0 \
		"$EDGE_POD_PCAP" 50 0 "udp or (ip[6:2] & 0x1fff != 0)")
	wait_for 20 grep -q ready "$ST/sniff-frag.log" || true
fi
rc=0
in_client timeout 120 "$PY" "$E2E_DIR/edge_frag.py" eth0 "$gwmac" "$EXT" 7020 32000 \
	"$STRAITCTL" "$ST/cli.sock" 198.51.100.2 198.51.100.3 >"$ST/frag.report" || rc=$?
check_eq "af_xdp: the fragment cases ran (edge_frag.py)" 0 "$rc"
[ -z "${EDGE_POD_PCAP:-}" ] || _topo_stop_pids "$sn_f"
report "$ST/frag.report"
check_eq "af_xdp: after the fragments, broker-0 answered by pod-0" pod-0 \
	"$(client_curl "http://$EXT:32000/" || true)"
rc=0
strait_stop || rc=$?
check_eq "strait (af_xdp) exits 0" 0 "$rc"

echo "info: edge_test body ran ${SECONDS}s"
e2e_finish
