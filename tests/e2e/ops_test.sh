#!/usr/bin/env bash
# ops_test.sh: strait's management interfaces while traffic flows through it.
#
# strait runs in the netns topology of scripts/topo.sh on its own copy of config/strait.yaml,
# whose cli_socket is in this run's state directory (concurrent runs never share one). Then:
# straitctl lists the flows the client sent (by their source ports), clears one mapping's
# sessions, adds a mapping that then carries traffic and deletes it (then it is refused);
# dpdk-telemetry.py gives the same counts as straitctl; /metrics is valid exposition format
# and a mapping's strait_packets_total grows by exactly the packets sent; `quit` stops the
# daemon with status 0.
#
# Usage: ops_test.sh [STRAIT_BINARY]   (straitctl is taken from the same directory)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root
STRAIT_BIN=${1:-$E2E_ROOT/build/strait}
STRAITCTL=$(dirname "$STRAIT_BIN")/straitctl
[ -x "$STRAITCTL" ] || { echo "no straitctl beside $STRAIT_BIN" >&2; exit 1; }
# dpdk-telemetry.py ships in dpdk-dev; the reference exposition parser in
# python3-prometheus-client (prom_check.py also runs its own strict parser).
topo_require curl:curl python3:python3 dpdk-telemetry.py:dpdk-dev python3-prometheus-client

NPODS=3
EXT=$TOPO_EXT_ADDR
topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)
SOCK=$ST/run/cli.sock
METRICS=127.0.0.1:9469 # inside the gateway's namespace: no clash between runs
sed -e "s|^cli_socket:.*|cli_socket: $SOCK|" -e "s|^metrics_listen:.*|metrics_listen: $METRICS|" \
	"$E2E_ROOT/config/strait.yaml" >"$ST/strait.yaml"
strait_start "$STRAIT_BIN" "$ST/strait.yaml"
PY=$(_topo_python)

ctl() { "$STRAITCTL" -s "$SOCK" "$@"; }
# json EXPR: evaluate EXPR with d = the JSON document on stdin.
json() { "$PY" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
# udp_from SPORT DPORT: one datagram from the client's port SPORT; prints the reply.
udp_from() {
	in_client "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(2)
s.sendto(b"ping-" + sys.argv[1].encode(), (sys.argv[3], int(sys.argv[2])))
print(s.recv(2048).decode())' "$1" "$2" "$EXT"
}
scrape() { in_gw curl -q -sS --noproxy '*' --max-time 5 "http://$METRICS/metrics" >"$1"; }
prom() { "$PY" "$E2E_DIR/prom_check.py" "$@"; }
telemetry() { echo "$1" | in_gw dpdk-telemetry.py -f "$P"; }

# --- the CLI socket ---------------------------------------------------------------------
check "cli socket is a socket of mode 0600" test "$(stat -c %F:%a "$SOCK")" = "socket:600"
out=$(ctl show mappings)
check_match "show mappings lists the config's mappings" \
	'name +namespace +source.*'$'\n''web +- +config +198\.51\.100\.1 +8080/tcp->80 .*' "$out"

before=$(ctl --json show mappings)
rc=0
out=$(ctl show sessions limit x 2>&1) || rc=$?
check_eq "a bad command fails" 1 "$rc"
check_eq "a bad command prints its usage" \
	"error: unexpected \"x\""$'\n'"usage: show sessions [mapping NAME] [limit N]" "$out"
rc=0
out=$(ctl add mapping '{name: bad, addresses: [198.51.100.1], ports: [{port: 99999}]}' 2>&1) ||
	rc=$?
check_eq "a bad mapping is refused" \
	"1 error: <cli>:1: ports[0].port: 99999 is out of range 1-65535" "$rc $out"
check_eq "bad commands leave the mappings unchanged" "$before" "$(ctl --json show mappings)"
rc=0
ctl -s "$ST/nothing.sock" show stats >/dev/null 2>&1 || rc=$?
check_eq "straitctl without a daemon exits 3" 3 "$rc"

# --- sessions of the flows sent ----------------------------------------------------------
for port in 40001 40002 40003; do
	check_eq "udp from :$port echoed through mapping echo" "ping-$port" \
		"$(udp_from "$port" 7777 || true)"
done
check_eq "tcp from :41001 to broker-0" pod-0 \
	"$(client_curl --local-port 41001 "http://$EXT:32000/" || true)"
out=$(ctl show sessions --json)
check_eq "show sessions --json lists the client ports sent from" "40001 40002 40003 41001" \
	"$(json '" ".join(sorted(s["client"].split(":")[1] for s in d["sessions"]))' <<<"$out")"
check_eq "sessions belong to their mappings" "broker-0 echo echo echo" \
	"$(json '" ".join(sorted(s["mapping"] for s in d["sessions"]))' <<<"$out")"
check_eq "show sessions mapping echo: its 3 sessions" 3 \
	"$(ctl --json show sessions mapping echo | json 'd["total"]')"

check_eq "clear sessions mapping echo" "cleared 3 sessions of mapping echo" \
	"$(ctl clear sessions mapping echo)"
check_eq "echo has no session left" 0 "$(ctl --json show sessions mapping echo | json 'd["total"]')"
check_eq "broker-0 keeps its session" "198.51.100.2:41001" \
	"$(ctl --json show sessions mapping broker-0 | json 'd["sessions"][0]["client"]')"

# --- add mapping, traffic, metrics, telemetry, del mapping --------------------------------
gen=$(ctl --json show config | json 'd["tables_generation"]')
check_eq "add mapping" "mapping ops-udp added: tables generation $((gen + 1))" \
	"$(ctl add mapping '{name: ops-udp, addresses: [198.51.100.1], ports: [{port: 7100,' \
		'servicePort: 7, protocol: udp}], backends: [{address: 10.0.0.12}]}')"
check_match "show mappings lists it as from the cli" \
	'.*'$'\n''ops-udp +- +cli +198\.51\.100\.1 +7100/udp->7 .*' "$(ctl show mappings)"

scrape "$ST/m1"
check "the first scrape is valid exposition format" prom validate "$ST/m1"
for ((i = 0; i < 7; i++)); do
	check_eq "udp through ops-udp ($((40201 + i)))" "ping-$((40201 + i))" \
		"$(udp_from $((40201 + i)) 7100 || true)"
done
scrape "$ST/m2"
check "the second scrape is valid exposition format" prom validate "$ST/m2"
sel=(strait_packets_total namespace= name=ops-udp port=7100 protocol=udp ordinal=)
for dir in out2in in2out; do
	a=$(prom value "$ST/m1" "${sel[@]}" direction=$dir || echo x)
	b=$(prom value "$ST/m2" "${sel[@]}" direction=$dir || echo x)
	check_eq "strait_packets_total{name=ops-udp,direction=$dir} grew by exactly 7" 7 \
		"$((b - a))"
done
check_eq "strait_sessions_created_total{name=ops-udp} is 7" 7 \
	"$(prom value "$ST/m2" strait_sessions_created_total name=ops-udp)"
check_eq "strait_tables_generation is the CLI's" "$((gen + 1))" \
	"$(prom value "$ST/m2" strait_tables_generation)"
check_eq "strait_kubernetes_state{state=disabled} is 1" 1 \
	"$(prom value "$ST/m2" strait_kubernetes_state state=disabled)"
check_eq "/healthz answers 200" 200 \
	"$(in_gw curl -q -s -o /dev/null -w '%{http_code}' "http://$METRICS/healthz")"
code=$(in_gw curl -q -s -o /dev/null -w '%{http_code}' "http://$METRICS/readyz")
check_eq "/readyz answers 200: ready" "200: ready" \
	"$code: $(in_gw curl -q -s "http://$METRICS/readyz")"

# Telemetry and the CLI read the same counters; the traffic is over, so they agree.
cli_stats=$(ctl --json show stats)
tel=$(telemetry /strait/stats)
check_eq "telemetry /strait/stats sessions_created = show stats" \
	"$(json 'd["sessions"]["created"]' <<<"$cli_stats")" \
	"$(json 'd["/strait/stats"]["sessions_created"]' <<<"$tel")"
check_eq "telemetry /strait/stats no_mapping drops = show stats" \
	"$(json 'd["drops"]["no_mapping"]' <<<"$cli_stats")" \
	"$(json 'd["/strait/stats"]["drops"]["no_mapping"]' <<<"$tel")"
tel=$(telemetry /strait/mappings,ops-udp)
check_eq "telemetry /strait/mappings,ops-udp packets = show stats = metrics" \
	"7 7 7 7 7" \
	"$(json 'd["/strait/mappings"]["ops_udp"]["pkts_o2i"]' <<<"$tel") \
$(json 'd["/strait/mappings"]["ops_udp"]["pkts_i2o"]' <<<"$tel") \
$(json '[m for m in d["mappings"] if m["mapping"] == "ops-udp"][0]["pkts_o2i"]' <<<"$cli_stats") \
$(json '[m for m in d["mappings"] if m["mapping"] == "ops-udp"][0]["pkts_i2o"]' <<<"$cli_stats") \
$(prom value "$ST/m2" strait_packets_total name=ops-udp direction=out2in)"
tel=$(telemetry /strait/sessions,ops-udp,32)
check_eq "telemetry /strait/sessions,ops-udp: 7 sessions, as show sessions" \
	"7 $(ctl --json show sessions mapping ops-udp | json 'd["total"]')" \
	"$(json 'd["/strait/sessions"]["total"]' <<<"$tel") \
$(json 'd["/strait/sessions"]["shown"]' <<<"$tel")"
check_eq "telemetry sessions carry the backend" "10.0.0.12:7" \
	"$(json 'd["/strait/sessions"]["0"]["backend"]' <<<"$tel")"
check_eq "telemetry /strait/tables generation = the CLI's" "$((gen + 1))" \
	"$(telemetry /strait/tables | json 'd["/strait/tables"]["generation"]')"
check_match "telemetry /strait/workers gives lcore 1 a busy ratio" '1 0\.[0-9]{4}' \
	"$(telemetry /strait/workers |
		json 'd["/strait/workers"]["0"]["lcore"], d["/strait/workers"]["0"]["busy_ratio"]')"
check_eq "telemetry /strait/ports: both links up" "up up" \
	"$(telemetry /strait/ports |
		json 'd["/strait/ports"]["ext"]["link"], d["/strait/ports"]["int"]["link"]')"

drops=$(prom value "$ST/m2" strait_drops_total reason=no_mapping)
check_eq "del mapping" "mapping ops-udp deleted: tables generation $((gen + 2))" \
	"$(ctl del mapping ops-udp)"
check_eq "after del mapping, udp to 7100 gets no answer" "" \
	"$(udp_from 40300 7100 2>/dev/null || true)"
scrape "$ST/m3"
check "after del mapping, strait_drops_total{reason=no_mapping} grew" \
	test "$(prom value "$ST/m3" strait_drops_total reason=no_mapping)" -gt "$drops"
rc=0
out=$(ctl del mapping web 2>&1) || rc=$?
check_eq "del mapping of the config's web is refused" \
	"1 error: mapping web comes from the config file: remove it there and reload" "$rc $out"
ctl set timeout udp 60 >/dev/null || true
check_eq "set timeout udp 60 shows in show config" 60 \
	"$(ctl --json show config | json 'd["timeouts"]["udp"]')"

# --- quit ------------------------------------------------------------------------------
check_eq "quit" "stopping strait" "$(ctl quit)"
strait_gone() { ! _topo_alive "$STRAIT_PID"; }
wait_for 10 strait_gone || true
rc=0
strait_stop 2>/dev/null || rc=$?
check_eq "strait exits 0 after quit" 0 "$rc"
check "the cli socket is removed at exit" test ! -e "$SOCK"

e2e_finish
