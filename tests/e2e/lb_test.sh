#!/usr/bin/env bash
# lb_test.sh: LoadBalancer Services and per-broker ports without a StatefulSet, through the
# fake Kubernetes API server (tests/k8s/fake_apiserver.py), with real traffic.
#
# Checked:
# - a Service of type LoadBalancer and class strait.io/gateway gets the first free address of
#   the config's address pool, its status.loadBalancer.ingress is written (services/status:
#   ip, ipMode Proxy, ports), and TCP and UDP reach its endpoints through that address;
# - two Services with the same strait.io/allow-shared-ip key and different ports share one
#   address, each port to its own endpoints; one without the key gets another address;
# - externalTrafficPolicy Local (and the strait.io/address annotation): the pod sees the
#   client's address; Cluster: the gateway's SNAT address;
# - a Service of another class, and one asking for an address outside the pools (refused,
#   with an AddressNotAllowed Event), get nothing;
# - the Service leaving the class (type ClusterIP) loses its status and its mapping;
# - Strimzi-style broker Pods (controlled by a StrimziPodSet, labelled
#   statefulset.kubernetes.io/pod-name, no StatefulSet object) get one port per broker from a
#   Mapping in mode perPod, and a broker added later gets its port.
#
# Usage: lb_test.sh [STRAIT_BINARY]   (meson passes the binary; default build/strait)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

k8s_e2e_init "${1:-}"

NPODS=4
# The pool: on the client's subnet, so that the client reaches its addresses by ARP (strait
# answers for every mapping's address). .16 is the network address, .23 the broadcast, .20
# the brokers' Mapping's, .22 the Service local's (annotation): the others get .17, .18, .19
# or .21, in the order strait meets them (their status keeps them after).
POOL=198.51.100.16/29
IN_POOL='^198\.51\.100\.(1[7-9]|2[12])$'
BROKERS=198.51.100.20

topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)
# In pod 1, a TCP server on 9000 that answers with the address it sees the client at.
_topo_spawn peer-1 "${P}p1" "$PY" -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 9000))
s.listen(16)
while True:
    c, a = s.accept()
    c.sendall((a[0] + "\n").encode())
    c.close()' >/dev/null
listening9000() { in_pod 1 ss -Hltn | grep -q ':9000 '; }
wait_for 10 listening9000

# shellcheck source=../k8s/fake_api.sh
source "$K8S_DIR/fake_api.sh"
fake_api_cert
fake_api_start --max-watch-seconds 5
fake_api_kubeconfig "$ST/kubeconfig"
apply() { ctl apply - >/dev/null; }
# get RESOURCE NAME PATH: a field of an object in namespace demo ("" if absent)
get() { ctl get "$1" demo "$2" "$3" 2>/dev/null || true; }

# ---- Objects ----

# svc NAME TYPE CLASS ANNOTATIONS PORTS [SPEC_EXTRA]
svc() {
	local cls=""
	[ -n "$3" ] && cls="\"loadBalancerClass\": \"$3\","
	cat <<EOF
{"apiVersion": "v1", "kind": "Service",
 "metadata": {"name": "$1", "namespace": "demo", "annotations": {$4}},
 "spec": {"type": "$2", $cls ${6:-} "selector": {"app": "$1"}, "ports": [$5]}}
EOF
}
# slice SERVICE POD_INDEX... : the Service's ready endpoints, ports http 80 and echo 7/udp
slice() {
	local name=$1 eps="" i
	shift
	for i in "$@"; do
		[ -n "$eps" ] && eps+=","
		eps+="{\"addresses\": [\"$(topo_pod_addr "$i")\"], \"conditions\": {\"ready\": true}, \"targetRef\": {\"kind\": \"Pod\", \"namespace\": \"demo\", \"name\": \"pod-$i\"}}"
	done
	cat <<EOF
{"apiVersion": "discovery.k8s.io/v1beta1", "kind": "EndpointSlice",
 "metadata": {"name": "$name-abcde", "namespace": "demo",
   "labels": {"kubernetes.io/service-name": "$name"}},
 "addressType": "IPv4",
 "ports": [{"name": "http", "protocol": "TCP", "port": 80},
           {"name": "echo", "protocol": "UDP", "port": 7}],
 "endpoints": [$eps]}
EOF
}
HTTP='{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 80}'
ECHO='{"name": "echo", "protocol": "UDP", "port": 7, "targetPort": 7}'
port() { echo "{\"name\": \"http\", \"protocol\": \"TCP\", \"port\": $1, \"targetPort\": 80}"; }
CLASS=strait.io/gateway
SHARE='"strait.io/allow-shared-ip": "team-a"'

# peer_slice SERVICE: pod 1's port 9000, named peer
peer_slice() {
	cat <<EOF
{"apiVersion": "discovery.k8s.io/v1beta1", "kind": "EndpointSlice",
 "metadata": {"name": "$1-abcde", "namespace": "demo",
   "labels": {"kubernetes.io/service-name": "$1"}},
 "addressType": "IPv4", "ports": [{"name": "peer", "protocol": "TCP", "port": 9000}],
 "endpoints": [{"addresses": ["$(topo_pod_addr 1)"], "conditions": {"ready": true}}]}
EOF
}
PEER='{"name": "peer", "protocol": "TCP", "port": 9000, "targetPort": 9000}'
LOCAL_VIP=198.51.100.22

# broker ID POD_INDEX: a Strimzi broker Pod (node pool "broker" of cluster "c")
broker() {
	cat <<EOF
{"apiVersion": "v1", "kind": "Pod",
 "metadata": {"name": "c-broker-$1", "namespace": "demo",
   "labels": {"strimzi.io/cluster": "c", "strimzi.io/pool-name": "broker",
              "strimzi.io/kind": "Kafka", "statefulset.kubernetes.io/pod-name": "c-broker-$1"},
   "ownerReferences": [{"apiVersion": "core.strimzi.io/v1beta2", "kind": "StrimziPodSet",
                        "name": "c-broker", "uid": "u-sps", "controller": true}]},
 "spec": {"containers": [{"name": "kafka", "ports": [{"containerPort": 9094}]}]},
 "status": {"phase": "Running", "podIP": "$(topo_pod_addr "$2")",
            "conditions": [{"type": "Ready", "status": "True"}]}}
EOF
}

{
	echo '['
	svc web LoadBalancer "$CLASS" "" "$HTTP, $ECHO"
	echo ','
	slice web 0 1
	echo ','
	svc team-b LoadBalancer "$CLASS" "$SHARE" "$(port 8081)"
	echo ','
	slice team-b 2
	echo ','
	svc team-c LoadBalancer "$CLASS" "$SHARE" "$(port 8082)"
	echo ','
	slice team-c 3
	echo ','
	svc lone LoadBalancer "$CLASS" "" "$(port 8083)"
	echo ','
	slice lone 3
	echo ','
	svc metallb LoadBalancer metallb.io/x "" "$(port 8084)"
	echo ','
	slice metallb 3
	echo ','
	svc outside LoadBalancer "$CLASS" "" "$(port 8085)" '"loadBalancerIP": "192.0.2.9",'
	echo ','
	svc local LoadBalancer "$CLASS" "\"strait.io/address\": \"$LOCAL_VIP\"" "$PEER" \
		'"externalTrafficPolicy": "Local",'
	echo ','
	peer_slice local
	echo ','
	svc snat LoadBalancer "$CLASS" "" "$PEER" '"externalTrafficPolicy": "Cluster",'
	echo ','
	peer_slice snat
	echo ','
	broker 0 0
	echo ','
	broker 1 1
	echo ','
	broker 2 2
	echo ','
	cat <<EOF
{"apiVersion": "strait.io/v1alpha1", "kind": "Mapping",
 "metadata": {"name": "kafka-brokers", "namespace": "demo"},
 "spec": {"addresses": ["$BROKERS"], "mode": "perPod", "statefulSetName": "c-broker",
          "startPort": 31000, "targetPort": 80, "bootstrapPort": 30999}}
EOF
	echo ']'
} | apply

# ---- strait ----

{
	fake_api_strait_config
	cat <<EOF
addressPools:
- {name: lb, addresses: ["$POOL"]}
EOF
} >"$ST/strait.yaml"
strait_start "$BIN" "$ST/strait.yaml"

http() { client_curl --max-time 3 "http://$1/" 2>/dev/null || true; }
answers() { [ "$(http "$1")" = "$2" ]; }
answers_re() { [[ $(http "$1") =~ $2 ]]; }
refused() { [ -z "$(http "$1")" ]; }
ingress() { get services "$1" status.loadBalancer.ingress; }
ingress_ip() { get services "$1" 'status.loadBalancer.ingress[0].ip'; }
has_ip() { [[ $(ingress_ip "$1") =~ $IN_POOL ]]; }
ip_is() { [ "$(ingress_ip "$1")" = "$2" ]; }

# ---- A LoadBalancer Service gets a pool address, its status and its traffic ----

check "Service web: status.loadBalancer.ingress written, an address of the pool" \
	wait_for 20 has_ip web
VIP1=$(ingress_ip web)
check_eq "Service web: ingress ip, ipMode Proxy, ports" \
	"[{\"ip\":\"$VIP1\",\"ipMode\":\"Proxy\",\"ports\":[{\"port\":80,\"protocol\":\"TCP\"},{\"port\":7,\"protocol\":\"UDP\"}]}]" \
	"$(ingress web)"
check "Service web: $VIP1:80 answered by its endpoints" wait_for 10 answers_re "$VIP1:80" '^pod-[01]$'
declare -A seen=()
for ((i = 0; i < 10; i++)); do seen[$(http "$VIP1:80")]=1; done
check "Service web: spread over both endpoints (${!seen[*]})" test ${#seen[@]} -eq 2
check_eq "Service web: $VIP1:7/udp echoes" "hello lb" \
	"$(printf 'hello lb' | client_udp "$VIP1" 7 || true)"

# ---- Shared address by key; another address without it ----

check "team-b: status written" wait_for 10 has_ip team-b
check "team-c: status written" wait_for 10 has_ip team-c
check "lone: status written" wait_for 10 has_ip lone
VIP2=$(ingress_ip team-b)
VIP3=$(ingress_ip lone)
check_eq "team-c: shares team-b's address (same key, other port)" "$VIP2" "$(ingress_ip team-c)"
check "lone: another address (no key)" test "$VIP3" != "$VIP2" -a "$VIP3" != "$VIP1"
check "web: an address of its own" test "$VIP1" != "$VIP2"
check_eq "team-b: $VIP2:8081 → pod-2" pod-2 "$(http "$VIP2:8081")"
check_eq "team-c: $VIP2:8082 → pod-3" pod-3 "$(http "$VIP2:8082")"
check_eq "lone: $VIP3:8083 → pod-3" pod-3 "$(http "$VIP3:8083")"
check "lone's port is not on the shared address: $VIP2:8083 refused" refused "$VIP2:8083"

# ---- externalTrafficPolicy: Local is preserveSource, Cluster full NAT ----

peer() { client_curl --http0.9 --max-time 3 "http://$1/" 2>/dev/null || true; }
check "Service local: status gives the annotation's address" wait_for 10 ip_is local "$LOCAL_VIP"
check_eq "Service local (Local): the pod sees the client's address" "$TOPO_CLIENT_ADDR" \
	"$(peer "$LOCAL_VIP:9000")"
check "Service snat: status written" wait_for 10 has_ip snat
check_eq "Service snat (Cluster): the pod sees the gateway's address" "$TOPO_INT_ADDR" \
	"$(peer "$(ingress_ip snat):9000")"

# ---- Not ours, and refused ----

check_eq "Service of another class: no status" "" "$(ingress metallb)"
events_for() { ctl list events | "$PY" -c '
import json, sys
n = [e for e in json.load(sys.stdin) if e["regarding"]["name"] == sys.argv[1]
     and e["regarding"]["kind"] == "Service" and e["reason"] == sys.argv[2]
     and e["type"] == "Warning"]
print(len(n))' "$1" "$2"; }
has_event() { [ "$(events_for "$1" "$2")" -ge 1 ]; }
check "loadBalancerIP outside the pools: an Event AddressNotAllowed" \
	wait_for 10 has_event outside AddressNotAllowed
check_eq "loadBalancerIP outside the pools: no status" "" "$(ingress outside)"

# ---- Strimzi-style brokers: no StatefulSet, per-broker ports ----

for i in 0 1 2; do
	check "broker $i: $BROKERS:$((31000 + i)) → pod-$i" wait_for 10 answers "$BROKERS:$((31000 + i))" "pod-$i"
done
check "brokers: bootstrap $BROKERS:30999 → a broker" wait_for 10 answers_re "$BROKERS:30999" '^pod-[0-2]$'
broker_adv() { get mappings kafka-brokers 'status.advertised[1].pod'; }
check_eq "brokers: the Mapping's status advertises broker Pods" c-broker-1 "$(broker_adv)"
broker 5 3 | apply
check "broker 5 added: $BROKERS:31005 → pod-3" wait_for 10 answers "$BROKERS:31005" pod-3
check "no broker 3: $BROKERS:31003 refused" refused "$BROKERS:31003"

# ---- Leaving the class: status and mapping removed ----

svc web ClusterIP "" "" "$HTTP, $ECHO" | apply
no_ingress() { [ -z "$(ingress web)" ] || [ "$(ingress web)" = "[]" ]; }
check "Service web now ClusterIP: status.loadBalancer.ingress removed" wait_for 10 no_ingress
check "Service web now ClusterIP: $VIP1:80 refused" wait_for 10 refused "$VIP1:80"
check_eq "the others are untouched: team-b $VIP2:8081 → pod-2" pod-2 "$(http "$VIP2:8081")"
ctl delete Service demo team-c >/dev/null
check "team-c deleted: $VIP2:8082 refused" wait_for 10 refused "$VIP2:8082"
check_eq "team-c deleted: team-b keeps the shared address" "$VIP2" "$(ingress_ip team-b)"

rc=0
strait_stop || rc=$?
check_eq "strait exit status" 0 "$rc"

e2e_finish
