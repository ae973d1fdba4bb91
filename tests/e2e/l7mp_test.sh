#!/usr/bin/env bash
# l7mp_test.sh: the l7mp seed's VirtualService (tests/data/l7mp/seed.yaml, verbatim) with real
# UDP traffic, offline (--manifests) and through the fake API server:
# - my-udp-service gets the address of the pool that admits namespace default (198.51.100.1,
#   tests/data/l7mp/cluster.yaml) and serves UDP 9001: a source in 10.0.0.x with source port
#   9001 reaches the `worker` Service (the pods' UDP echo), any other source port or address
#   is refused (drop reason no_rule);
# - its rewrite and ingress chain are named in the condition Unsupported, and transcoder (a
#   WebSocket listener) is refused with reason Unsupported: logged offline, in the status
#   through the API; a change of its rules applies with the next reconcile.
# The topology's 10.0.0.0/24 is the int network (a client there on ext is dropped as spoofed),
# so the 10.0.0.x clients are the pods themselves, through the external address (hairpin);
# the client namespace (198.51.100.2) is the source the rules refuse.
#
# Usage: l7mp_test.sh [STRAIT_BINARY]   (meson passes the binary; default build/strait)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

k8s_e2e_init "${1:-}"

NPODS=3
DATA=$E2E_ROOT/tests/data/l7mp

topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)

# udp_send NS SPORT: one datagram from NS (client, or pod-N) at source port SPORT to
# $EXT:9001; prints the echo, or nothing after 2 s.
udp_send() {
	local ns=$1 sport=$2
	local prog='
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[2])))
s.settimeout(2)
s.sendto(b"l7mp " + sys.argv[2].encode(), (sys.argv[1], 9001))
try:
    print(s.recv(2048).decode())
except OSError:
    pass
'
	if [ "$ns" = client ]; then
		in_client "$PY" -c "$prog" "$EXT" "$sport" 2>/dev/null || true
	else
		in_pod "${ns#pod-}" "$PY" -c "$prog" "$EXT" "$sport" 2>/dev/null || true
	fi
}
drops() { # REASON
	"$STRAITCTL" -s "$ST/cli.sock" --json show stats |
		"$PY" -c "import json,sys; print(json.load(sys.stdin)['drops'].get('$1', 0))" ||
		echo error
}
traffic_checks() { # MODE
	local mode=$1 before
	check_eq "$mode: pod-0 (10.0.0.11) from source port 9001 reaches worker" "l7mp 9001" \
		"$(udp_send pod-0 9001)"
	check_eq "$mode: pod-2 (10.0.0.13) from source port 9001 reaches worker" "l7mp 9001" \
		"$(udp_send pod-2 9001)"
	before=$(drops no_rule)
	check_eq "$mode: pod-0 from source port 9002 is refused" "" "$(udp_send pod-0 9002)"
	check_eq "$mode: the client (198.51.100.2) from source port 9001 is refused" "" \
		"$(udp_send client 9001)"
	check_eq "$mode: both refusals counted as no_rule" $((before + 2)) "$(drops no_rule)"
}
# shellcheck source=../k8s/fake_api.sh
source "$K8S_DIR/fake_api.sh" # fake_api_strait_config, here for the offline part too

# ---- offline: --manifests ----
DIR=$ST/manifests
mkdir -p "$DIR"
cp "$DATA"/*.yaml "$DIR/"
fake_api_strait_config "" >"$ST/strait.yaml"
strait_start "$BIN" "$ST/strait.yaml" --manifests "$DIR"
last() { grep -F "$1" "$STRAIT_LOG" | tail -n 1; }
traffic_checks offline
check_match "offline: my-udp-service Ready=True logged" \
	'.*VirtualService/default/my-udp-service: Ready=True.*' \
	"$(last 'VirtualService/default/my-udp-service: Ready=')"
check_match "offline: my-udp-service status names the unsupported rewrite and ingress" \
	'.*Unsupported=True .*action.rewrite, spec.virtualHost\[0\].rules\[0\].action.route.ingress.*' \
	"$(last 'VirtualService/default/my-udp-service: Ready=')"
check_match "offline: my-udp-service advertises the pool's address" \
	".*advertised: $EXT:9001/udp=my-udp-endpoint.*" \
	"$(last 'VirtualService/default/my-udp-service: Ready=')"
check_match "offline: transcoder refused as Unsupported (WebSocket)" \
	'.*VirtualService/default/transcoder: Ready=False \(Unsupported: .*WebSocket.*' \
	"$(last 'VirtualService/default/transcoder: Ready=')"
rc=0
strait_stop || rc=$?
check_eq "offline: strait exits 0" 0 "$rc"

# ---- through the fake API server ----
fake_api_cert
fake_api_start --max-watch-seconds 5
fake_api_kubeconfig "$ST/kubeconfig"
to_json='import json, sys, yaml
print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))'
for f in cluster seed; do
	"$PY" -c "$to_json" "$DATA/$f.yaml" | ctl apply - >/dev/null
done
fake_api_strait_config >"$ST/strait.yaml"
strait_start "$BIN" "$ST/strait.yaml"
get() { ctl get virtualservices default "$1" "$2" 2>/dev/null || true; }
ready() { [ "$(get my-udp-service status.conditions.Ready.status)" = True ]; }
check "api: my-udp-service Ready=True in its status" wait_for 20 ready
traffic_checks api
check_eq "api: the address clients must use, in status.advertised" "$EXT:9001/udp" \
	"$(get my-udp-service 'status.advertised[0].address'):$(get my-udp-service \
		'status.advertised[0].port')/$(get my-udp-service 'status.advertised[0].protocol')"
check_eq "api: condition Unsupported=True" True \
	"$(get my-udp-service status.conditions.Unsupported.status)"
check_match "api: Unsupported names the rewrite" '.*rules\[0\]\.action\.rewrite.*' \
	"$(get my-udp-service status.conditions.Unsupported.message)"
check_eq "api: transcoder Ready=False reason Unsupported" Unsupported \
	"$(get transcoder status.conditions.Ready.reason)"
# The rules change: source port 9002 is let through too, from the next reconcile on.
"$PY" -c '
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
vs = [d for d in docs if d["metadata"]["name"] == "my-udp-service"][0]
vs["spec"]["virtualHost"][0]["rules"][0]["match"]["apply"][1]["value"] = "9001-9002"
print(json.dumps(vs))' "$DATA/seed.yaml" | ctl apply - >/dev/null
answers9002() { [ "$(udp_send pod-1 9002)" = "l7mp 9002" ]; }
check "api: after the rules change, source port 9002 reaches worker" wait_for 20 answers9002
rc=0
strait_stop || rc=$?
check_eq "api: strait exits 0" 0 "$rc"

e2e_finish
