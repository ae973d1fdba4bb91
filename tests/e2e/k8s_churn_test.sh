#!/usr/bin/env bash
# k8s_churn_test.sh: the control plane's robustness seen from real connections (issue 14),
# strait driven by tests/k8s/fake_apiserver.py as in k8s_test.sh. Every pod runs
# tests/k8s/probe.py on :6000 (TCP and UDP), which answers with the pod's name, so a client
# knows which backend its connection reached. Checked (docs/kubernetes.md, "Endpoint changes",
# "Address pools", "Failure isolation and budgets"):
# 1. readiness blip: an established TCP connection survives a 3 s ready=false (serving, not
#    terminating) of its endpoint, answered before, during and after; meanwhile new
#    connections go to the other endpoint only, and to both again afterwards;
# 2. endpoint deleted: its established TCP connection is reset (ECONNRESET) within seconds, a
#    UDP flow to it moves to the live pod on its next datagram, and a UDP stream to the
#    other endpoint loses nothing;
# 3. allow-list revoked: the excluded client's established connection ends and its new ones
#    are dropped (counted not_allowed); a still-allowed client address keeps working;
# 4. address pools: an AddressPool admitting only namespace demo on the gateway's address
#    makes a Mapping of namespace other Ready=False AddressNotAllowed (status and Event) and
#    unserved, demo's still served; the pool deleted, it is served again (no pool, no check);
# 5. 300 Mappings (CHURN_NAMES) created and deleted under fresh names, then a new Mapping
#    is served.
#
# Usage: k8s_churn_test.sh [STRAIT_BINARY]   (meson passes the binary; default build/strait)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

k8s_e2e_init "${1:-}"

NPODS=3
CLIENT2=198.51.100.3 # a second client address, added to the client's eth0

topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)
for ((i = 0; i < NPODS; i++)); do
	_topo_spawn "probe-tcp-$i" "${P}p$i" "$PY" "$K8S_DIR/probe.py" tcp-serve 6000 "pod-$i" >/dev/null
	# Ahead of the test's other processes on the shared core, as k8s_test.sh's stream echo.
	_topo_spawn "probe-udp-$i" "${P}p$i" nice -n -10 "$PY" "$K8S_DIR/probe.py" udp-serve 6000 \
		"pod-$i" >/dev/null
done
probe_listening() { [ "$(in_pod "$1" ss -Hltun | grep -c ':6000 ')" = 2 ]; }
for ((i = 0; i < NPODS; i++)); do until_s 10 probe_listening "$i"; done
ip -n "${P}c" addr add "$CLIENT2/24" dev eth0

# ---- The fake API server (as in k8s_test.sh) ----

# shellcheck source=../k8s/fake_api.sh
source "$K8S_DIR/fake_api.sh"
fake_api_cert
fake_api_start >/dev/null
apply() { ctl apply - >/dev/null; }
# get RESOURCE NAMESPACE NAME PATH: a field of an object ("" if absent)
get() { ctl get "$1" "$2" "$3" "$4" 2>/dev/null || true; }
fake_api_kubeconfig "$ST/kubeconfig"

# ---- Objects ----

service() { # service NAMESPACE
	cat <<EOF
{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "$1"},
 "spec": {"selector": {"app": "web"}, "type": "ClusterIP",
          "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 80},
                    {"name": "probe", "protocol": "TCP", "port": 6000, "targetPort": 6000},
                    {"name": "probe-udp", "protocol": "UDP", "port": 6000, "targetPort": 6000}]}}
EOF
}
endpoint() { # endpoint I READY SERVING TERMINATING
	printf '{"addresses": ["%s"], "conditions": {"ready": %s, "serving": %s, "terminating": %s}, "targetRef": {"kind": "Pod", "name": "web-%s"}, "nodeName": "node-1"}' \
		"$(topo_pod_addr "$1")" "$2" "$3" "$4" "$1"
}
slice() { # slice NAMESPACE ENDPOINT_JSON...   (v1beta1, as a 1.20 server serves it)
	local ns=$1 eps
	shift
	eps=$(IFS=,; echo "$*")
	cat <<EOF
{"apiVersion": "discovery.k8s.io/v1beta1", "kind": "EndpointSlice",
 "metadata": {"name": "web-x7k2p", "namespace": "$ns",
   "labels": {"kubernetes.io/service-name": "web",
              "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
 "addressType": "IPv4",
 "ports": [{"name": "http", "protocol": "TCP", "port": 80},
           {"name": "probe", "protocol": "TCP", "port": 6000},
           {"name": "probe-udp", "protocol": "UDP", "port": 6000}],
 "endpoints": [$eps]}
EOF
}
mapping() { # mapping NAMESPACE NAME PORT [ALLOWED_SOURCES_JSON]: TCP PORT → the probe
	local allowed=""
	[ -z "${4:-}" ] || allowed="\"allowedSources\": $4,"
	cat <<EOF
{"apiVersion": "strait.io/v1alpha1", "kind": "Mapping",
 "metadata": {"name": "$2", "namespace": "$1"},
 "spec": {"addresses": ["$EXT"], "mode": "service", "serviceName": "web",
          $allowed "ports": [{"port": $3, "servicePort": "probe"}]}}
EOF
}

{
	echo '['
	service demo
	echo ','
	slice demo "$(endpoint 0 true true false)" "$(endpoint 1 true true false)"
	echo ','
	cat <<EOF
{"apiVersion": "strait.io/v1alpha1", "kind": "Mapping",
 "metadata": {"name": "web", "namespace": "demo"},
 "spec": {"addresses": ["$EXT"], "mode": "service", "serviceName": "web",
          "timeouts": {"udp": 120},
          "ports": [{"port": 8080, "servicePort": "http"},
                    {"port": 6000, "servicePort": "probe"},
                    {"port": 6000, "servicePort": "probe-udp", "protocol": "udp"}]}}
EOF
	echo ']'
} | apply

# ---- strait ----

fake_api_strait_config >"$ST/strait.yaml"
strait_start "$BIN" "$ST/strait.yaml"

sctl() { "$STRAITCTL" -s "$ST/cli.sock" --json "$@"; }
# who PORT [--src ADDR]: the pod a new TCP connection to EXT:PORT reaches ("" if none)
who() {
	local port=$1
	shift
	in_client "$PY" "$K8S_DIR/probe.py" tcp-once "$EXT" "$port" --timeout 2 "$@" 2>/dev/null || true
}
who_is() { # who_is POD PORT [--src ADDR]
	local want=$1
	shift
	[ "$(who "$@")" = "$want" ]
}
refused() { [ -z "$(who "$@")" ]; }
# udp_who SPORT: the pod the UDP flow from source port SPORT to EXT:6000 reaches
udp_who() { in_client "$PY" "$K8S_DIR/probe.py" udp-who "$EXT" 6000 "$1" 2>/dev/null || true; }
# A long-lived connection, PINGed every 0.1 s: client_start NAME PORT [--src ADDR].
client_start() {
	local name=$1 port=$2
	shift 2
	rm -f "$ST/$name.out" "$ST/$name.stop"
	in_client "$PY" "$K8S_DIR/probe.py" tcp-client "$EXT" "$port" "$ST/$name.out" \
		--stop-file "$ST/$name.stop" "$@" &
}
answered() {
	local n
	n=$(grep -c '^ok ' "$ST/$1.out" 2>/dev/null) || true
	echo "${n:-0}"
}
answered_over() { [ "$(answered "$1")" -gt "$2" ]; }
ended() { grep -q '^end ' "$ST/$1.out" 2>/dev/null; }
end_reason() { awk '/^end / {print $3}' "$ST/$1.out" 2>/dev/null; }
end_time() { awk '/^end / {print $2}' "$ST/$1.out" 2>/dev/null; }
first_pod() { awk '/^ok / {print $3; exit}' "$ST/$1.out"; }
# Answers from another pod than the first one (a connection never changes backend).
strays() { awk '/^ok / {if (!p) p = $3; else if ($3 != p) n++} END {print n + 0}' "$ST/$1.out"; }
backend_state() { # backend_state MAPPING ADDRESS: ready, draining, terminating, or "" (not a backend)
	sctl show backends | "$PY" -c '
import json, sys
print(" ".join(sorted({b["state"] for b in json.load(sys.stdin)
                       if b["mapping"] == sys.argv[1] and b["address"] == sys.argv[2]})))' "$1" "$2"
}
state_is() { [ "$(backend_state "$1" "$2")" = "$3" ]; }
drops() { sctl show stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["drops"].get(sys.argv[1], 0))' "$1"; }
status_is() { [ "$(get mappings "$1" "$2" "status.conditions.Ready.status")" = "$3" ]; }
reason_is() { [ "$(get mappings "$1" "$2" "status.conditions.Ready.reason")" = "$3" ]; }
events_for() { ctl list events | "$PY" -c '
import json, sys
print(sum(1 for e in json.load(sys.stdin) if e["regarding"]["name"] == sys.argv[1]
          and e["reason"] == sys.argv[2] and e["type"] == "Warning"))' "$1" "$2"; }
has_event() { [ "$(events_for "$1" "$2")" -ge 1 ]; }
now() { date +%s.%N; }
# elapsed_ms FROM TO: milliseconds between two epoch times (seconds with a fraction)
elapsed_ms() { "$PY" -c 'import sys; print(int((float(sys.argv[2]) - float(sys.argv[1])) * 1000))' "$1" "$2"; }

answers_any() { [[ $(who 6000) =~ ^pod-[01]$ ]]; }
check "synced: Mapping demo/web :6000 answers" until_s 20 answers_any

# ---- 1. Readiness blip ----

client_start conn 6000
check "blip: the long-lived connection is answered" until_s 10 answered_over conn 4
X=$(first_pod conn)
xi=${X#pod-} yi=$((1 - ${X#pod-}))
Y=pod-$yi
XA=$(topo_pod_addr "$xi")
echo "info: the long-lived connection reached $X; the blip is on it, $Y stays ready"
slice demo "$(endpoint "$xi" false true false)" "$(endpoint "$yi" true true false)" | apply
t_blip=$(now)
n0=$(answered conn)
check "blip: $X is draining (show backends: draining)" until_s 10 state_is demo/web "$XA" draining
others=0
for ((i = 0; i < 10; i++)); do [ "$(who 6000)" = "$Y" ] || others=$((others + 1)); done
check_eq "blip: 10 new connections all reach $Y" 0 "$others"
check "blip: the connection to $X is answered during the blip" until_s 5 answered_over conn $((n0 + 5))
# The blip lasts 3 s from its apply, then the endpoint is ready again.
sleep "$("$PY" -c 'import sys,time; print(max(0, 3 - (time.time() - float(sys.argv[1]))))' "$t_blip")"
check "blip: the connection outlived 3 s of ready=false" answered_over conn $((n0 + 5))
slice demo "$(endpoint "$xi" true true false)" "$(endpoint "$yi" true true false)" | apply
check "blip over: $X is ready again (show backends)" until_s 10 state_is demo/web "$XA" ready
n1=$(answered conn)
check "blip over: the connection is answered after" until_s 5 answered_over conn $((n1 + 5))
check "blip over: new connections reach $X again" until_s 20 who_is "$X" 6000
check_eq "blip: the connection never ended ($(grep '^end' "$ST/conn.out" || true))" "" \
	"$(end_reason conn)"
check_eq "blip: every answer came from $X" 0 "$(strays conn)"

# ---- 2. Endpoint deletion ----

# A connection of its own on X, whatever became of the blip's (the flow hash spreads new
# connections over both endpoints: a few tries find one on X).
touch "$ST/conn.stop"
for ((try = 0; try < 20; try++)); do
	client_start del 6000
	until_s 5 answered_over del 0 || true
	[ "$(first_pod del)" != "$X" ] || break
	touch "$ST/del.stop"
	until_s 5 ended del || true
done
check_eq "deletion: a long-lived connection on $X (try $try)" "$X" "$(first_pod del)"

# UDP flows from fixed source ports: one whose session goes to X, one to Y.
SX='' SY=''
for ((p = 41000; p < 41064 && (${#SX} == 0 || ${#SY} == 0); p++)); do
	w=$(udp_who $p)
	if [ "$w" = "$X" ] && [ -z "$SX" ]; then SX=$p; fi
	if [ "$w" = "$Y" ] && [ -z "$SY" ]; then SY=$p; fi
done
check_match "deletion: UDP source ports found for $X ($SX) and $Y ($SY)" '[0-9]+ [0-9]+' "$SX $SY"
check_eq "deletion: the UDP flow from :$SX is still on $X" "$X" "$(udp_who "$SX")"
rm -f "$ST/stream.start" "$ST/stream.done"
in_client nice -n -10 "$PY" "$K8S_DIR/udp_stream.py" "$EXT" 6000 100000 2 --sport "$SY" \
	--start-file "$ST/stream.start" --done-file "$ST/stream.done" >"$ST/stream.out" 2>&1 &
STREAM=$!
until_s 10 test -e "$ST/stream.start" || true
t_del=$(now)
slice demo "$(endpoint "$yi" true true false)" | apply
check "deletion: the connection to $X ends" until_s 15 ended del
check_eq "deletion: ... with a reset (ECONNRESET)" reset "$(end_reason del)"
if [ "$(end_reason del)" = reset ]; then
	ms=$(elapsed_ms "$t_del" "$(end_time del)")
	check "deletion: the reset came ${ms} ms after the EndpointSlice changed (< 5000)" \
		test "$ms" -lt 5000
fi
check_eq "deletion: the connection was answered by $X until then" 0 "$(strays del)"
udp_on() { [ "$(udp_who "$1")" = "$2" ]; }
check "deletion: the UDP flow from :$SX moved to $Y" until_s 10 udp_on "$SX" "$Y"
check_eq "deletion: and stays there" "$Y" "$(udp_who "$SX")"
touch "$ST/stream.done"
wait "$STREAM" && rc=0 || rc=$?
check_eq "deletion: the UDP stream to $Y lost nothing ($(cat "$ST/stream.out"))" 0 "$rc"
gone_from_backends() { [ -z "$(backend_state demo/web "$XA")" ]; }
check "deletion: $X is no backend of demo/web any more" until_s 10 gone_from_backends
check_eq "deletion: new connections reach $Y" "$Y" "$(who 6000)"

# ---- 3. Allow-list revocation ----

mapping demo guarded 6100 "[\"$TOPO_CLIENT_ADDR/32\", \"$CLIENT2/32\"]" | apply
check "allow-list: Mapping guarded :6100 answers $TOPO_CLIENT_ADDR" until_s 10 who_is "$Y" 6100
check_eq "allow-list: and $CLIENT2" "$Y" "$(who 6100 --src "$CLIENT2")"
client_start old 6100
client_start kept 6100 --src "$CLIENT2"
both_answered() { answered_over old 4 && answered_over kept 4; }
check "allow-list: both connections answered" until_s 10 both_answered
d0=$(drops not_allowed)
mapping demo guarded 6100 "[\"$CLIENT2/32\"]" | apply
check "allow-list revoked: the connection from $TOPO_CLIENT_ADDR ends" until_s 15 ended old
check_match "allow-list revoked: ... reset or unanswered ($(end_reason old))" 'reset|timeout' "$(end_reason old)"
check "allow-list revoked: a new connection from $TOPO_CLIENT_ADDR is refused" refused 6100
check "allow-list revoked: ... and counted as not_allowed drops" \
	test "$(drops not_allowed)" -gt "$d0"
n0=$(answered kept)
check "allow-list revoked: the connection from $CLIENT2 goes on" until_s 5 answered_over kept $((n0 + 5))
check_eq "allow-list revoked: ... never ended" "" "$(end_reason kept)"
check_eq "allow-list revoked: a new connection from $CLIENT2 is served" "$Y" \
	"$(who 6100 --src "$CLIENT2")"
touch "$ST/kept.stop"
ctl delete Mapping demo guarded >/dev/null

# ---- 4. Address pools ----

{
	echo '['
	service other
	echo ','
	slice other "$(endpoint 2 true true false)"
	echo ','
	mapping other squatter 6200
	echo ']'
} | apply
check "no pool: Mapping other/squatter is served (:6200 → pod-2)" until_s 10 who_is pod-2 6200
check "no pool: other/squatter Ready=True" until_s 10 status_is other squatter True
cat <<EOF | apply
{"apiVersion": "strait.io/v1alpha1", "kind": "AddressPool", "metadata": {"name": "gateway"},
 "spec": {"addresses": ["$EXT/32"], "namespaces": ["demo"]}}
EOF
check "pool for demo only: other/squatter Ready=False AddressNotAllowed" until_s 10 \
	reason_is other squatter AddressNotAllowed
check_eq "pool for demo only: its message" \
	"address $EXT is in no address pool that admits namespace other" \
	"$(get mappings other squatter status.conditions.Ready.message)"
check "pool for demo only: a Warning Event AddressNotAllowed" until_s 10 \
	has_event squatter AddressNotAllowed
check "pool for demo only: :6200 no longer answers" until_s 10 refused 6200
check_eq "pool for demo only: demo/web still served" "$Y" "$(who 6000)"
check "pool for demo only: demo/web Ready=True" status_is demo web True
pool_is() { [ "$(get addresspools "" gateway "status.$1")" = "$2" ]; }
check "pool for demo only: AddressPool gateway Ready=True" until_s 10 \
	pool_is conditions.Ready.status True
# one address in the pool, used by demo's programmed mappings
check "pool for demo only: AddressPool gateway assignedIPv4 1" until_s 10 pool_is assignedIPv4 1
check_eq "pool for demo only: AddressPool gateway availableIPv4" 0 \
	"$(get addresspools "" gateway status.availableIPv4)"
ctl delete AddressPool "" gateway >/dev/null
check "pool deleted: other/squatter Ready=True again" until_s 10 status_is other squatter True
check "pool deleted: :6200 answers again" until_s 10 who_is pod-2 6200

# ---- 5. Churn of names ----

CHURN_NAMES=${CHURN_NAMES:-300} # more than 4096 exhausts the counter slots unless they are reused
gen() { grep -o 'tables generation [0-9]* published' "$STRAIT_LOG" | tail -n 1 | awk '{print $3}'; }
gen0=$(gen)
{
	# CHURN_NAMES Mappings under fresh names, each deleted 5 operations after its creation.
	echo '['
	for ((i = 0; i < CHURN_NAMES; i++)); do
		[ "$i" -gt 0 ] && echo ','
		echo "{\"op\": \"apply\", \"object\": $(mapping demo "churn-$i" $((10000 + i)))}"
		[ "$i" -ge 5 ] && echo ",{\"op\": \"delete\", \"kind\": \"Mapping\", \"namespace\": \"demo\", \"name\": \"churn-$((i - 5))\"}"
	done
	for ((i = CHURN_NAMES - 5; i < CHURN_NAMES; i++)); do
		echo ",{\"op\": \"delete\", \"kind\": \"Mapping\", \"namespace\": \"demo\", \"name\": \"churn-$i\"}"
	done
	echo ']'
} >"$ST/churn.json"
ctl apply "$ST/churn.json" --interval-ms 5 >/dev/null
pending() { [ "$(ctl state | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pending"])')" = 0 ]; }
check "churn: $((2 * CHURN_NAMES)) creates and deletes applied" until_s $((60 + CHURN_NAMES / 20)) pending
churn_left() { sctl show mappings | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
rows = d if isinstance(d, list) else d.get("mappings", [])
print(sum(1 for m in rows if m.get("name", "").startswith("churn-")))'; }
no_churn_left() { [ "$(churn_left)" = 0 ]; }
check "churn: no churn-* mapping left" until_s 30 no_churn_left
echo "info: $CHURN_NAMES created and deleted Mappings → $(($(gen) - gen0)) table publishes"
mapping demo after-churn 6300 | apply
check "churn: a new Mapping is served afterwards (:6300)" until_s 10 who_is "$Y" 6300
check "churn: the new Mapping is Ready=True" until_s 10 status_is demo after-churn True
check_eq "churn: no object failed for want of a counter slot" 0 \
	"$(grep -ci 'NoCounterSlot\|no counter slot' "$STRAIT_LOG" || true)"
check_eq "churn: demo/web still served" "$Y" "$(who 6000)"

rc=0
strait_stop || rc=$?
check_eq "strait exit status" 0 "$rc"
e2e_finish
