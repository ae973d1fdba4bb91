#!/usr/bin/env bash
# attack_test.sh: strait on the edge, end to end: what a hostile Internet does to a NAT, and
# that the flows it must carry keep flowing.
#
#   - a spoofed-source SYN flood (hping3 --flood --rand-source, as fast as it goes) against a
#     per-broker port: an established connection keeps exchanging data, and new real clients
#     keep connecting to the flooded port; the same flood against the kernel's conntrack on
#     the same topology is measured beside it (reported, not checked);
#   - ARP poisoning from the external segment (unsolicited replies and gratuitous requests
#     claiming pods' addresses and the gateway's int address): per-pod traffic keeps flowing
#     and the neighbour table keeps the pods' real MACs on the int arm;
#   - out-of-window RST and FIN injected into an established connection (whose mapping has a
#     3 s transitory timeout) leave the session established and the connection alive.
#
# Usage: attack_test.sh [STRAIT_BINARY]   (default build/strait)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root
topo_require python3-scapy hping3:hping3

STRAIT_BIN=${1:-$E2E_ROOT/build/strait}
STRAITCTL=$(dirname "$STRAIT_BIN")/straitctl
NPODS=3
EXT=$TOPO_EXT_ADDR
PY=/usr/bin/python3 # Debian's, which has scapy
FLOOD_S=8
topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)

# The client's namespace stands for the upstream router (ext's default gateway), so that any
# source address is routable, as on the Internet: spoofed SYNs create sessions.
sed -e "s|^cli_socket:.*|cli_socket: $ST/cli.sock|" \
	-e 's|^metrics_listen:.*|metrics_listen: ""|' \
	-e 's|\(addresses: \["198.51.100.1/24"\]\)}|\1, gateway: 198.51.100.2}|' \
	"$E2E_ROOT/config/strait.yaml" >"$ST/strait.yaml"
grep -q 'gateway: 198.51.100.2' "$ST/strait.yaml" || { echo "config: no ext gateway" >&2; exit 1; }
cat >>"$ST/strait.yaml" <<'EOF2'
- {name: fragile, addresses: [198.51.100.1], timeouts: {tcpTransitory: 3},
   ports: [{port: 6380, servicePort: 6379}], backends: [{address: 10.0.0.11}]}
EOF2

ctl_json() { # PYTHON-EXPR COMMAND...: EXPR evaluated on the JSON answer, bound to d
	local expr=$1
	shift
	"$STRAITCTL" -s "$ST/cli.sock" --json "$@" |
		"$PY" -c "import json, sys; d = json.load(sys.stdin); print($expr)" || echo error
}
drop_count() { ctl_json "d['drops'].get('$1', 0)" show stats; } # REASON
tx_packets() { in_client cat /sys/class/net/eth0/statistics/tx_packets; }

# flood_round LABEL: hping3 floods port 32000 for FLOOD_S seconds from random sources while
# a Redis connection established before it PINGs every 20 ms and a real client connects to
# the flooded port every 0.2 s. The generator, the clients and the pods share core 0 (strait's
# worker has core 1): hping3 runs at nice 10 and the PINGer at -10, so that a PONG read late
# because the PINGer was starved is not blamed on the gateway. A PONG counts however late it
# comes before the PINGer's grace ends (10 s past the flood): whether the connection keeps
# its session is the question, and a loaded host can hold a segment behind the flood for
# longer than TCP's first retransmissions. Sets FLOOD_PPS, PING_SENT, PING_OK, NEW_TRIED, NEW_OK.
flood_round() {
	local label=$1 t0 t1 p0 p1 pinger body i
	# shellcheck disable=SC2016 # expanded by the inner sh
	pinger=$(_topo_spawn "pinger-$label" "${P}c" nice -n -10 "$PY" "$E2E_DIR/attack_pinger.py" \
		"$EXT" 6379 $((FLOOD_S + 2)))
	sleep 1
	p0=$(tx_packets)
	t0=$(date +%s.%N)
	_topo_spawn "hping-$label" "${P}c" nice -n 10 timeout "$FLOOD_S" hping3 -q -S -p 32000 --flood \
		--rand-source "$EXT" >/dev/null
	NEW_TRIED=0 NEW_OK=0
	sleep 1 # let the flood fill whatever it fills before the real clients come
	for ((i = 0; i < (FLOOD_S - 2) * 4; i++)); do
		body=$(client_curl --connect-timeout 3 --max-time 4 "http://$EXT:32000/" 2>/dev/null || true)
		NEW_TRIED=$((NEW_TRIED + 1))
		[ "$body" = pod-0 ] && NEW_OK=$((NEW_OK + 1))
		sleep 0.2
	done
	# the pinger waits for a PONG up to 10 s past its end (attack_pinger.py's GRACE_S)
	wait_for $((FLOOD_S + 12)) test -s "$ST/pinger-$label.log" || true
	t1=$(date +%s.%N)
	p1=$(tx_packets)
	FLOOD_PPS=$(awk -v p="$((p1 - p0))" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%d", p / (t1 - t0) }')
	read -r PING_SENT PING_OK <"$ST/pinger-$label.log" || { PING_SENT=0 PING_OK=0; }
	echo "info: $label: flood ~$FLOOD_PPS pps offered (client eth0 tx, $FLOOD_S s);" \
		"established: $PING_OK/$PING_SENT PINGs answered; new clients: $NEW_OK/$NEW_TRIED" \
		"connected ($(lscpu | sed -n 's/^Model name: *//p'))"
}

strait_start "$STRAIT_BIN" "$ST/strait.yaml"
gwmac=$(in_client ip neigh show "$EXT" | awk '{print $5; exit}')
[ -n "$gwmac" ] || { in_client ping -c 1 -W 1 "$EXT" >/dev/null || true; gwmac=$(in_client ip neigh show "$EXT" | awk '{print $5; exit}'); }

# --- ARP poisoning from the external segment ------------------------------------------
# pod-0 is resolved before the attack (its entry must not move); pod-2 is not (the claim
# must not create it); 10.0.0.1 is the gateway's own int address.
check_eq "before: broker-0 answered by pod-0" pod-0 "$(client_curl "http://$EXT:32000/" || true)"
pod0mac=$(in_pod 0 cat /sys/class/net/eth0/address)
pod2mac=$(in_pod 2 cat /sys/class/net/eth0/address)
sent=$(in_client "$PY" "$E2E_DIR/attack_arp_poison.py" eth0 "$gwmac" 20 \
	10.0.0.11 10.0.0.13 10.0.0.1 10.0.0.12)
echo "info: sent $sent poisoning ARP frames"
for i in 0 1 2; do
	check_eq "during ARP poisoning: broker-$i answered by pod-$i" "pod-$i" \
		"$(client_curl "http://$EXT:$((32000 + i))/" || true)"
done
check_eq "neighbour 10.0.0.11 keeps pod-0's MAC on int" "$pod0mac int" \
	"$(ctl_json "' '.join(next(([n['mac'].lower(), n['port']] for n in d if n['address'] == '10.0.0.11'), ['none']))" show neighbors)"
check_eq "neighbour 10.0.0.13 is pod-2's MAC on int" "$pod2mac int" \
	"$(ctl_json "' '.join(next(([n['mac'].lower(), n['port']] for n in d if n['address'] == '10.0.0.13'), ['none']))" show neighbors)"
check_eq "no neighbour learned on ext for the int prefix" 0 \
	"$(ctl_json "sum(1 for n in d if n['port'] == 'ext' and n['address'].startswith('10.0.0.'))" show neighbors)"

# --- out-of-window RST and FIN ------------------------------------------------------------
check_eq "out-of-window RST and FIN: the connection answers before and after 5 s" "ok ok" \
	"$(in_client "$PY" "$E2E_DIR/attack_rst_inject.py" eth0 "$gwmac" "$EXT" 6380 5 || true)"
check_match "out-of-window segments were dropped and counted" '[1-9][0-9]*' \
	"$(drop_count tcp_out_of_window)"

# --- spoofed-source SYN flood ---------------------------------------------------------------
flood_round strait
check_eq "SYN flood: the established connection answered every PING" "$PING_SENT" "$PING_OK"
check_match "SYN flood: the established connection kept talking (>= 20 PINGs)" \
	'[2-9][0-9]|[1-9][0-9]{2,}' "$PING_SENT"
check "SYN flood: >= 80% of new real clients connected ($NEW_OK/$NEW_TRIED)" \
	test $((NEW_OK * 100)) -ge $((NEW_TRIED * 80))
check_match "SYN flood: unestablished sessions were evicted (early drop)" '[1-9][0-9]*' \
	"$(ctl_json "d['sessions']['evicted']" show stats)"
check_eq "after the flood: broker-1 answered by pod-1" pod-1 \
	"$(client_curl "http://$EXT:32001/" || true)"
rc=0
strait_stop || rc=$?
check_eq "strait exits 0 on SIGINT" 0 "$rc"

# The kernel's conntrack on the same topology and the same flood: reported, not checked.
topo_kernel_nat
ip -n "${P}g" route add default via 198.51.100.2
flood_round kernel

e2e_finish
