#!/usr/bin/env bash
# gateway_test.sh: strait as the Gateway API controller (strait.io/gateway-controller), driven
# by the fake API server, with real traffic. The scenarios of the upstream conformance tests
# of the GATEWAY-TCP and GATEWAY-UDP profiles (tcproute-*, udproute-*), each checked on
# traffic through strait and on the status written on the Gateway and the routes:
# - simple TCPRoute (sectionName) and UDPRoute; weighted backendRefs (both backends answer);
# - a nonexistent backendRef: TCP refused with a RST (curl: connection refused), UDP dropped
#   and counted `rejected`; ResolvedRefs=False BackendNotFound;
# - a cross-namespace backendRef: RefNotPermitted and refused, then served once a
#   ReferenceGrant permits it;
# - a route of another namespace on a listener of from: Same: NotAllowedByListeners;
# - parentRef by port; a parentRef without sectionName attaches to every listener;
# - two routes on one listener: the oldest is served, the younger gets ListenerInUse, and
#   takes over when the older is deleted;
# - a non-TCP (HTTP) listener: Accepted=False UnsupportedProtocol, its route
#   NotAllowedByListeners;
# - TCPRoute/UDPRoute served as v1alpha2 only (Gateway API before v1.6): found by discovery,
#   status written at v1alpha2;
# - no Gateway API CRDs at all: the kinds are empty lists, the state is synced, not error.
#
# Usage: gateway_test.sh [STRAIT_BINARY]   (meson passes the binary; default build/strait)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

k8s_e2e_init "${1:-}"

NPODS=4

topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)

# shellcheck source=../k8s/fake_api.sh
source "$K8S_DIR/fake_api.sh"
fake_api_cert
apply() { ctl apply - >/dev/null; }
# get RESOURCE NS NAME PATH: a field ("" if absent)
get() { ctl get "$1" "$2" "$3" "$4" 2>/dev/null || true; }
sctl() { "$STRAITCTL" -s "$ST/cli.sock" --json "$@"; }
drops() { sctl show stats | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["drops"].get(sys.argv[1], 0))' "$1"; }

GW=gateway.networking.k8s.io
# ROUTE_AV: the apiVersion routes are written in (v1, or v1alpha2 for the old server).
ROUTE_AV=$GW/v1

service() { # service NS NAME POD_INDEX
	cat <<EOF
{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "$2", "namespace": "$1"},
 "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 80},
                    {"name": "echo", "protocol": "UDP", "port": 7, "targetPort": 7}]}},
{"apiVersion": "discovery.k8s.io/v1beta1", "kind": "EndpointSlice",
 "metadata": {"name": "$2-1", "namespace": "$1", "labels": {"kubernetes.io/service-name": "$2"}},
 "addressType": "IPv4",
 "ports": [{"name": "http", "protocol": "TCP", "port": 80}, {"name": "echo", "protocol": "UDP", "port": 7}],
 "endpoints": [{"addresses": ["$(topo_pod_addr "$3")"], "conditions": {"ready": true}}]}
EOF
}
route() { # route KIND NS NAME PARENTREFS BACKENDREFS
	cat <<EOF
{"apiVersion": "$ROUTE_AV", "kind": "$1", "metadata": {"name": "$3", "namespace": "$2"},
 "spec": {"parentRefs": [$4], "rules": [{"backendRefs": [$5]}]}}
EOF
}
listener() { printf '{"name": "%s", "protocol": "%s", "port": %s}' "$1" "$2" "$3"; }

objects() {
	echo '['
	cat <<EOF
{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}},
{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}},
{"apiVersion": "$GW/v1", "kind": "GatewayClass", "metadata": {"name": "strait"},
 "spec": {"controllerName": "strait.io/gateway-controller"}},
{"apiVersion": "$GW/v1", "kind": "GatewayClass", "metadata": {"name": "someone-else"},
 "spec": {"controllerName": "example.com/other"}},
$(service demo svc-a 0), $(service demo svc-b 1), $(service other svc-c 2), $(service demo svc-d 3),
{"apiVersion": "$GW/v1", "kind": "Gateway", "metadata": {"name": "gw", "namespace": "demo"},
 "spec": {"gatewayClassName": "strait", "addresses": [{"type": "IPAddress", "value": "$EXT"}],
          "listeners": [$(listener simple TCP 8101), $(listener weighted TCP 8102),
                        $(listener missing TCP 8103), $(listener cross TCP 8104),
                        $(listener same TCP 8105), $(listener byport TCP 8106),
                        $(listener multi TCP 8109), $(listener web HTTP 8110),
                        $(listener usimple UDP 8201), $(listener umissing UDP 8202)]}},
{"apiVersion": "$GW/v1", "kind": "Gateway", "metadata": {"name": "gw-all", "namespace": "demo"},
 "spec": {"gatewayClassName": "strait", "addresses": [{"type": "IPAddress", "value": "$EXT"}],
          "listeners": [$(listener one TCP 8107), $(listener two TCP 8108)]}},
{"apiVersion": "$GW/v1", "kind": "Gateway", "metadata": {"name": "theirs", "namespace": "demo"},
 "spec": {"gatewayClassName": "someone-else", "listeners": [$(listener x TCP 8111)]}},
$(route TCPRoute demo simple '{"name": "gw", "sectionName": "simple"}' '{"name": "svc-a", "port": 80}'),
$(route TCPRoute demo weighted '{"name": "gw", "sectionName": "weighted"}' \
	'{"name": "svc-a", "port": 80, "weight": 1}, {"name": "svc-b", "port": 80, "weight": 1}'),
$(route TCPRoute demo missing '{"name": "gw", "sectionName": "missing"}' '{"name": "nope", "port": 80}'),
$(route TCPRoute demo cross '{"name": "gw", "sectionName": "cross"}' \
	'{"name": "svc-c", "namespace": "other", "port": 80}'),
$(route TCPRoute other same '{"name": "gw", "namespace": "demo", "sectionName": "same"}' \
	'{"name": "svc-c", "port": 80}'),
$(route TCPRoute demo byport '{"name": "gw", "port": 8106}' '{"name": "svc-b", "port": 80}'),
$(route TCPRoute demo all '{"name": "gw-all"}' '{"name": "svc-d", "port": 80}'),
$(route TCPRoute demo web '{"name": "gw", "sectionName": "web"}' '{"name": "svc-a", "port": 80}'),
$(route TCPRoute demo theirs '{"name": "theirs"}' '{"name": "svc-a", "port": 80}'),
$(route UDPRoute demo usimple '{"name": "gw", "sectionName": "usimple"}' '{"name": "svc-a", "port": 7}'),
$(route UDPRoute demo umissing '{"name": "gw", "sectionName": "umissing"}' '{"name": "nope", "port": 7}'),
$(route TCPRoute demo multi-old '{"name": "gw", "sectionName": "multi"}' '{"name": "svc-a", "port": 80}')
EOF
	echo ']'
}

fake_api_strait_config >"$ST/strait.yaml"

http() { client_curl --max-time 3 "http://$EXT:$1/" 2>/dev/null || true; }
answers() { [ "$(http "$1")" = "$2" ]; }
# curl's exit status 7: the connection was refused (a RST), not timed out (28).
curl_rc() {
	local rc=0
	client_curl --max-time 3 "http://$EXT:$1/" >/dev/null 2>&1 || rc=$?
	echo "$rc"
}
refused_rst() { [ "$(curl_rc "$1")" = 7 ]; }
udp() { printf '%s' "$2" | client_udp "$EXT" "$1" 2 || true; }
gw_cond() { get gateways demo "$1" "status.conditions.$2.$3"; }
route_cond() { get "$1" "$2" "$3" "status.parents[0].conditions.$4.$5"; }
route_reason_is() { [ "$(route_cond "$1" "$2" "$3" Accepted reason)" = "$4" ]; }

# ---- Part 1: TCPRoute/UDPRoute v1 (Gateway API v1.6) ----

scenarios() {
	local label=$1 routes=$2
	check "[$label] synced: simple TCPRoute :8101 answered by pod-0" wait_for 20 answers 8101 pod-0

	# Gateway and GatewayClass status: written once this strait holds the Lease.
	class_accepted() { [ "$(get gatewayclasses "" strait status.conditions.Accepted.status)" = True ]; }
	gw_programmed() { [ "$(gw_cond gw Programmed status)" = True ]; }
	route_written() {
		local r
		for r in demo/simple demo/missing demo/web demo/byport demo/multi-old other/same; do
			[ -n "$(route_cond "$routes" "${r%/*}" "${r#*/}" Accepted reason)" ] || return 1
		done
		for r in usimple umissing; do
			[ -n "$(route_cond udproutes demo "$r" Accepted reason)" ] || return 1
		done
		[ -n "$(get gateways demo gw-all 'status.listeners[1].attachedRoutes')" ]
	}
	check "[$label] GatewayClass strait: Accepted" wait_for 10 class_accepted
	check "[$label] Gateway gw: status written" wait_for 10 gw_programmed
	check "[$label] routes: status written" wait_for 10 route_written
	check_eq "[$label] GatewayClass of another controller: no status" "" \
		"$(get gatewayclasses "" someone-else status.conditions.Accepted.status)"
	check_eq "[$label] Gateway gw: Accepted" True:Accepted "$(gw_cond gw Accepted status):$(gw_cond gw Accepted reason)"
	check_eq "[$label] Gateway gw: Programmed" True:Programmed "$(gw_cond gw Programmed status):$(gw_cond gw Programmed reason)"
	check_eq "[$label] Gateway gw: status.addresses" "[{\"type\":\"IPAddress\",\"value\":\"$EXT\"}]" \
		"$(get gateways demo gw status.addresses)"
	check_eq "[$label] Gateway gw listener simple: attachedRoutes 1, supportedKinds TCPRoute" \
		"1 [{\"group\":\"$GW\",\"kind\":\"TCPRoute\"}]" \
		"$(get gateways demo gw 'status.listeners[0].attachedRoutes') $(get gateways demo gw 'status.listeners[0].supportedKinds')"
	check_eq "[$label] Gateway gw listener simple: Accepted, Programmed, ResolvedRefs, not Conflicted" \
		"True True True False" \
		"$(for c in Accepted Programmed ResolvedRefs Conflicted; do get gateways demo gw "status.listeners[0].conditions.$c.status"; done | xargs)"
	check_eq "[$label] Gateway of another class: no status" "" "$(gw_cond theirs Accepted status)"
	check_eq "[$label] TCPRoute simple: Accepted, ResolvedRefs, controllerName" \
		"True True strait.io/gateway-controller" \
		"$(route_cond "$routes" demo simple Accepted status) $(route_cond "$routes" demo simple ResolvedRefs status) $(get "$routes" demo simple 'status.parents[0].controllerName')"
	check_eq "[$label] TCPRoute of another class's Gateway: no status" "" \
		"$(get "$routes" demo theirs 'status.parents')"

	# Weighted: both backends answer.
	declare -A seen=()
	for ((i = 0; i < 16; i++)); do seen[$(http 8102)]=1; done
	check_eq "[$label] weighted TCPRoute :8102: pod-0 and pod-1 answer" "pod-0 pod-1" \
		"$(printf '%s\n' "${!seen[@]}" | sort | xargs)"

	# A nonexistent backend: refused (RST), status BackendNotFound.
	check "[$label] TCPRoute to a missing Service :8103: connection refused (RST)" refused_rst 8103
	check_eq "[$label] TCPRoute missing: ResolvedRefs=False BackendNotFound" False:BackendNotFound \
		"$(route_cond "$routes" demo missing ResolvedRefs status):$(route_cond "$routes" demo missing ResolvedRefs reason)"
	check_eq "[$label] TCPRoute missing: still Accepted" True "$(route_cond "$routes" demo missing Accepted status)"

	# UDP.
	check_eq "[$label] UDPRoute usimple :8201 echoes through pod-0" "hello gw" "$(udp 8201 'hello gw')"
	local before after
	before=$(drops rejected)
	check_eq "[$label] UDPRoute to a missing Service :8202: no answer" "" "$(udp 8202 'lost')"
	after=$(drops rejected)
	check "[$label] UDPRoute umissing: the datagram is counted as rejected ($before → $after)" \
		test "$after" -gt "$before"
	check_eq "[$label] UDPRoute umissing: ResolvedRefs=False BackendNotFound" False:BackendNotFound \
		"$(route_cond udproutes demo umissing ResolvedRefs status):$(route_cond udproutes demo umissing ResolvedRefs reason)"
	check_eq "[$label] UDPRoute usimple: Accepted" True "$(route_cond udproutes demo usimple Accepted status)"

	# Cross-namespace backend: refused until a ReferenceGrant permits it.
	check "[$label] cross-namespace backendRef without ReferenceGrant :8104: refused (RST)" refused_rst 8104
	check_eq "[$label] TCPRoute cross: ResolvedRefs=False RefNotPermitted" False:RefNotPermitted \
		"$(route_cond "$routes" demo cross ResolvedRefs status):$(route_cond "$routes" demo cross ResolvedRefs reason)"
	apply <<EOF
{"apiVersion": "$GW/v1beta1", "kind": "ReferenceGrant", "metadata": {"name": "demo-routes", "namespace": "other"},
 "spec": {"from": [{"group": "$GW", "kind": "TCPRoute", "namespace": "demo"}],
          "to": [{"group": "", "kind": "Service"}]}}
EOF
	check "[$label] cross-namespace backendRef with a ReferenceGrant :8104: answered by pod-2" \
		wait_for 10 answers 8104 pod-2
	resolved_is() { [ "$(route_cond "$routes" demo cross ResolvedRefs status)" = True ]; }
	check "[$label] TCPRoute cross: ResolvedRefs=True" wait_for 10 resolved_is

	# Not allowed by listeners (from: Same, the route in namespace other).
	check_eq "[$label] route of namespace other on a from:Same listener :8105: not served" "" "$(http 8105)"
	check_eq "[$label] TCPRoute other/same: Accepted=False NotAllowedByListeners" \
		False:NotAllowedByListeners \
		"$(route_cond "$routes" other same Accepted status):$(route_cond "$routes" other same Accepted reason)"
	check_eq "[$label] listener same: attachedRoutes 0" 0 "$(get gateways demo gw 'status.listeners[4].attachedRoutes')"

	# parentRef by port; a parentRef to every listener.
	check_eq "[$label] TCPRoute byport (parentRef port 8106): answered by pod-1" pod-1 "$(http 8106)"
	check_eq "[$label] TCPRoute all (no sectionName): :8107 answered by pod-3" pod-3 "$(http 8107)"
	check_eq "[$label] TCPRoute all (no sectionName): :8108 answered by pod-3" pod-3 "$(http 8108)"
	check_eq "[$label] Gateway gw-all: attachedRoutes 1 on both listeners" "1 1" \
		"$(get gateways demo gw-all 'status.listeners[0].attachedRoutes') $(get gateways demo gw-all 'status.listeners[1].attachedRoutes')"

	# Non-TCP listener.
	check_eq "[$label] HTTP listener web: Accepted=False UnsupportedProtocol" False:UnsupportedProtocol \
		"$(get gateways demo gw 'status.listeners[7].conditions.Accepted.status'):$(get gateways demo gw 'status.listeners[7].conditions.Accepted.reason')"
	check_eq "[$label] HTTP listener web: supportedKinds []" "[]" "$(get gateways demo gw 'status.listeners[7].supportedKinds')"
	check_eq "[$label] TCPRoute web: Accepted=False NotAllowedByListeners" NotAllowedByListeners \
		"$(route_cond "$routes" demo web Accepted reason)"

	# Several routes on one listener: the oldest wins.
	sleep 1.1 # creationTimestamp has a resolution of one second
	route TCPRoute demo multi-young '{"name": "gw", "sectionName": "multi"}' '{"name": "svc-b", "port": 80}' | apply
	check "[$label] two TCPRoutes on :8109: the younger gets Accepted=False ListenerInUse" \
		wait_for 10 route_reason_is "$routes" demo multi-young ListenerInUse
	check_eq "[$label] two TCPRoutes on :8109: the older one serves it (pod-0)" pod-0 "$(http 8109)"
	ctl delete TCPRoute demo multi-old >/dev/null
	check "[$label] the older TCPRoute deleted: the younger serves :8109 (pod-1)" wait_for 10 answers 8109 pod-1
	check "[$label] the younger TCPRoute: Accepted" wait_for 10 route_reason_is "$routes" demo multi-young Accepted
}

rm -f "$ST/api-state.json"
fake_api_start --state "$ST/api-state.json" --max-watch-seconds 5
fake_api_kubeconfig "$ST/kubeconfig"
objects | apply
strait_start "$BIN" "$ST/strait.yaml"
scenarios v1 tcproutes
rc=0
strait_stop || rc=$?
check_eq "[v1] strait exit status" 0 "$rc"
kill "$FAKE_PID" 2>/dev/null || true
wait "$FAKE_PID" 2>/dev/null || true

# ---- Part 2: routes served as v1alpha2 only (Gateway API before v1.6) ----

ROUTE_AV=$GW/v1alpha2
rm -f "$ST/api-state.json"
fake_api_start --state "$ST/api-state.json" --max-watch-seconds 5 --gateway-routes v1alpha2
objects | apply
strait_start "$BIN" "$ST/strait.yaml"
scenarios v1alpha2 tcproutes
check "[v1alpha2] TCPRoutes found at v1alpha2 by discovery" \
	grep -q 'tcproutes.gateway.networking.k8s.io is not served at /apis/gateway.networking.k8s.io/v1' "$STRAIT_LOG"
status_at_v1alpha2() { ctl requests | grep -q 'v1alpha2/namespaces/demo/tcproutes/simple/status'; }
check "[v1alpha2] route status written at v1alpha2" status_at_v1alpha2
rc=0
strait_stop || rc=$?
check_eq "[v1alpha2] strait exit status" 0 "$rc"
kill "$FAKE_PID" 2>/dev/null || true
wait "$FAKE_PID" 2>/dev/null || true

# ---- Part 3: no Gateway API nor l7mp CRDs installed: synced, not an error; Mappings served ----

rm -f "$ST/api-state.json"
fake_api_start --state "$ST/api-state.json" --max-watch-seconds 5 --gateway-routes none --no-l7mp
{
	echo '['
	service demo svc-a 0
	cat <<EOF
,{"apiVersion": "strait.io/v1alpha1", "kind": "Mapping", "metadata": {"name": "web", "namespace": "demo"},
 "spec": {"addresses": ["$EXT"], "mode": "service", "serviceName": "svc-a", "ports": [{"port": 8080, "servicePort": 80}]}}
]
EOF
} | apply
strait_start "$BIN" "$ST/strait.yaml"
k8s_state() { sctl show config | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["kubernetes"]["state"])'; }
k8s_state_is() { [ "$(k8s_state)" = "$1" ]; }
check "[no CRDs] a Mapping is still served (:8080 → pod-0)" wait_for 20 answers 8080 pod-0
check "[no CRDs] the Kubernetes state is synced, not error" wait_for 10 k8s_state_is synced
check "[no CRDs] logged: Gateway API CRDs not installed" \
	grep -q 'gateways.gateway.networking.k8s.io is not served (Gateway API CRDs not installed)' "$STRAIT_LOG"
check "[no CRDs] logged: l7mp CRDs not installed" \
	grep -q 'virtualservices.l7mp.io is not served (l7mp CRDs not installed)' "$STRAIT_LOG"
rc=0
strait_stop || rc=$?
check_eq "[no CRDs] strait exit status" 0 "$rc"


e2e_finish
