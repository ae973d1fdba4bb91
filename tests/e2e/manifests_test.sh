#!/usr/bin/env bash
# manifests_test.sh: offline mode, `strait --manifests DIR`, with real traffic.
#
# Starts from a copy of config/examples (the seeds' objects: SmartNat's Mapping with only its
# apiVersion changed, its Service and EndpointSlice; psc-portmapper's StatefulSet and its
# pods on the demo topology's addresses) and config/offline.yaml, then edits the directory
# and sends SIGHUP, as an operator would:
# - the seeds' objects work: per-ordinal ports of the annotated StatefulSet, the SmartNat
#   Mapping's three ports for its allow-listed sources (and not for others);
# - the StatefulSet scaled 3 → 5 → 2 gains and loses per-ordinal ports, the logged status
#   (offline mode's stand-in for the API) follows;
# - a Mapping changed, created (perPod with bootstrap), deleted; traffic follows;
# - bad input: an invalid Mapping is reported Ready=False with its reason, a younger one on a
#   taken port Conflict=True, nothing else disturbed; a YAML syntax error keeps the previous
#   objects (and at start-up is exit 2 naming file and line);
# - a UDP stream through strait loses nothing across all those reloads.
#
# Usage: manifests_test.sh [STRAIT_BINARY]   (meson passes the binary; default build/strait)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root

BIN=${1:-$E2E_ROOT/build/strait}
STRAITCTL=$(dirname "$BIN")/straitctl
NPODS=5
EXT=$TOPO_EXT_ADDR
K8S_DIR=$E2E_ROOT/tests/k8s
PY=$(_topo_python)

topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)
# The UDP stream's echo servers (:9, big socket buffers, ahead of the test's other processes
# on the shared core): a lost datagram must be the gateway's doing, not a starved server's.
for i in 0 1; do
	_topo_spawn "stream-echo-$i" "${P}p$i" nice -n -10 "$PY" "$K8S_DIR/udp_stream.py" echo 9 \
		>/dev/null
done
listening9() { in_pod "$1" ss -Hlun | grep -q ':9 '; }
for i in 0 1; do wait_for 10 listening9 "$i"; done
DIR=$ST/manifests
mkdir -p "$DIR"
cp "$E2E_ROOT"/config/examples/*.yaml "$DIR/"
# Beside the seeds' objects, a Mapping for the UDP stream that runs across the reloads.
cat >"$DIR/stream.yaml" <<EOF
apiVersion: strait.io/v1alpha1
kind: Mapping
metadata: {name: stream}
spec: {addresses: ["$EXT"], mode: service, serviceName: stream,
       ports: [{port: 7778, servicePort: 9, protocol: udp}]}
---
apiVersion: v1
kind: Service
metadata: {name: stream}
spec: {ports: [{name: s, port: 9, protocol: UDP, targetPort: 9}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: stream-1, labels: {kubernetes.io/service-name: stream}}
addressType: IPv4
ports: [{name: s, port: 9, protocol: UDP}]
endpoints:
- {addresses: ["$(topo_pod_addr 0)"], conditions: {ready: true}}
- {addresses: ["$(topo_pod_addr 1)"], conditions: {ready: true}}
EOF
sed "s#^cli_socket:.*#cli_socket: $ST/cli.sock#" "$E2E_ROOT/config/offline.yaml" >"$ST/strait.yaml"

# A YAML syntax error at start-up: exit status 2, the message names the file and the line.
mkdir -p "$ST/broken"
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n' >"$ST/broken/bad.yaml"
sed 's/net_af_packet/net_null/' "$ST/strait.yaml" >"$ST/null.yaml"
rc=0
out=$(in_gw "$BIN" -l 0,1 --no-pci --no-huge -m 256 --file-prefix "${P}x" \
	--vdev net_null0 --vdev net_null1 -- --config "$ST/null.yaml" --manifests "$ST/broken" \
	2>&1) || rc=$?
check_eq "start-up with a YAML syntax error: exit status 2" 2 "$rc"
check_match "start-up with a YAML syntax error: file and line named" \
	".*$ST/broken/bad.yaml:[34]: syntax error.*" "$(grep 'syntax error' <<<"$out" || true)"
rm -rf "/var/run/dpdk/${P}x"

strait_start "$BIN" "$ST/strait.yaml" --manifests "$DIR"

http() { client_curl --max-time 3 "$@" 2>/dev/null || true; }
answers() { [ "$(http "http://$EXT:$1/")" = "$2" ]; }
refused() { [ -z "$(http "http://$1/")" ]; }
reloads() { grep -c "manifests $DIR:" "$STRAIT_LOG" || true; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }
# reload: edit done; SIGHUP and wait until strait has read the directory again and published
# what it read. The control thread logs the read, then reconciles and publishes before it
# serves the CLI again: an answer on the CLI socket after the log line is the barrier.
reload() {
	local n
	n=$(reloads)
	kill -HUP "$STRAIT_PID"
	wait_for 30 reloaded_since "$n" || true
	"$STRAITCTL" -s "$ST/cli.sock" show config >/dev/null 2>&1 || true
}
last() { grep -F "$1" "$STRAIT_LOG" | tail -n 1; }
n_advertised() { # entries in the last logged strait.io/advertised of StatefulSet web
	last 'StatefulSet/default/web: strait.io/advertised=' | sed 's/.*advertised=//; s/; .*//' |
		"$PY" -c 'import json,sys; print(len(json.loads(sys.stdin.read())))'
}

# ---- The seeds' objects ----

for ((i = 0; i < 3; i++)); do
	check_eq "psc-portmapper StatefulSet web: domain-$i :$((32000 + i)) → pod-$i" "pod-$i" \
		"$(http "http://$EXT:$((32000 + i))/")"
done
check "psc-portmapper: no port for ordinal 3" refused "$EXT:32003"
check_eq "psc-portmapper: strait.io/advertised logged with 3 entries" 3 "$(n_advertised)"
check_match "SmartNat Mapping: Ready=True logged" \
	'.*Mapping/default/mapping-sample: Ready=True \(Programmed: 3 ports programmed on 10.237.94.10, 172.17.0.1\).*' \
	"$(last 'Mapping/default/mapping-sample: Ready=')"

# SmartNat's Mapping admits 10.0.0.0/16 and 192.168.1.0/24 only: the client gets a
# 192.168.1.2 address and routes the Mapping's addresses through the gateway from it.
in_client ip addr add 192.168.1.2/24 dev eth0
in_client ip route add 10.237.94.10/32 via "$EXT" src 192.168.1.2
in_client ip route add 172.17.0.1/32 via "$EXT" src 192.168.1.2
check_match "SmartNat Mapping :8080/tcp → Service port 8080 → a pod :80" 'pod-[0-2]' \
	"$(http http://10.237.94.10:8080/)"
check_match "SmartNat Mapping :8081/tcp → servicePort 8080 → a pod :80" 'pod-[0-2]' \
	"$(http http://10.237.94.10:8081/)"
check_match "SmartNat Mapping second address 172.17.0.1:8081/tcp" 'pod-[0-2]' \
	"$(http http://172.17.0.1:8081/)"
check_eq "SmartNat Mapping :8081/udp → servicePort 8080/UDP → a pod's echo :7" "smartnat udp" \
	"$(printf 'smartnat udp' | client_udp 10.237.94.10 8081 || true)"
check_eq "SmartNat Mapping: a source outside allowedSources is refused" "" \
	"$(http --interface "$TOPO_CLIENT_ADDR" http://10.237.94.10:8080/)"

# From here on a UDP stream runs through strait across every reload below.
rm -f "$ST/stream.start" "$ST/stream.done"
in_client nice -n -10 "$PY" "$K8S_DIR/udp_stream.py" "$EXT" 7778 100000 4 \
	--start-file "$ST/stream.start" --done-file "$ST/stream.done" >"$ST/stream.out" 2>&1 &
STREAM=$!
wait_for 10 test -e "$ST/stream.start" || true

# ---- Scale 3 → 5 → 2 ----

pods() { # pods I...: pod manifests of StatefulSet web
	local i
	for i in "$@"; do
		cat <<EOF
---
apiVersion: v1
kind: Pod
metadata:
  name: web-$i
  labels: {app: nginx, statefulset.kubernetes.io/pod-name: web-$i}
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: web, controller: true}]
status:
  podIP: $(topo_pod_addr "$i")
  conditions: [{type: Ready, status: "True"}]
EOF
	done
}
sed -i 's/^  replicas: 3 .*/  replicas: 5/' "$DIR/psc-portmapper-statefulset.yaml"
pods 3 4 >"$DIR/psc-portmapper-pods-more.yaml"
reload
check_eq "scaled to 5: domain-3 :32003 → pod-3" pod-3 "$(http "http://$EXT:32003/")"
check_eq "scaled to 5: domain-4 :32004 → pod-4" pod-4 "$(http "http://$EXT:32004/")"
check_eq "scaled to 5: strait.io/advertised logged with 5 entries" 5 "$(n_advertised)"
sed -i 's/^  replicas: 5/  replicas: 2/' "$DIR/psc-portmapper-statefulset.yaml"
reload
# Pods of ordinals 2-4 are still there (being deleted): an ordinal >= replicas gets no port.
check "scaled to 2: :32002 refused (its pod still exists)" refused "$EXT:32002"
check "scaled to 2: :32004 refused" refused "$EXT:32004"
check_eq "scaled to 2: domain-1 :32001 → pod-1" pod-1 "$(http "http://$EXT:32001/")"
check_eq "scaled to 2: strait.io/advertised logged with 2 entries" 2 "$(n_advertised)"
rm "$DIR/psc-portmapper-pods-more.yaml"

# ---- Change, create, delete ----

# The external port moves; the Service port stays 8080 (it defaulted to the external port).
sed -i 's/^  - port: 8080 .*/  - {port: 8082, servicePort: 8080}/' "$DIR/smartnat-mapping.yaml"
reload
check_match "changed SmartNat Mapping 8080 → 8082: answers" 'pod-[0-2]' "$(http http://10.237.94.10:8082/)"
check "changed SmartNat Mapping: :8080 refused" refused 10.237.94.10:8080

cat >"$DIR/kafka-perpod.yaml" <<EOF
apiVersion: strait.io/v1alpha1
kind: Mapping
metadata: {name: kafka-external, namespace: default}
spec:
  addresses: ["$EXT"]
  mode: perPod
  statefulSetName: web
  startPort: 33000
  targetPort: 80
  bootstrapPort: 32999
EOF
reload
check_eq "created perPod Mapping: :33000 → pod-0" pod-0 "$(http "http://$EXT:33000/")"
check_eq "created perPod Mapping: :33001 → pod-1" pod-1 "$(http "http://$EXT:33001/")"
check_match "created perPod Mapping: bootstrap :32999 → pod-0 or pod-1" 'pod-[01]' \
	"$(http "http://$EXT:32999/")"
check_match "created perPod Mapping: status logged with pod names per ordinal" \
	'.*advertised: 198.51.100.1:33000/tcp=web-0#0 198.51.100.1:33001/tcp=web-1#1 198.51.100.1:32999/tcp=bootstrap' \
	"$(last 'Mapping/default/kafka-external: Ready=')"

# ---- Bad input ----

cat >"$DIR/bad.yaml" <<EOF
apiVersion: strait.io/v1alpha1
kind: Mapping
metadata: {name: bad-cidr}
spec: {addresses: ["$EXT"], allowedSources: ["10.0.0.0/33"], mode: service,
       serviceName: echo-test-service, ports: [{port: 8095}]}
---
apiVersion: strait.io/v1alpha1
kind: Mapping
metadata: {name: zz-conflict}
spec: {addresses: ["$EXT"], mode: service, serviceName: echo-test-service,
       ports: [{port: 32000, servicePort: 8080}], someUnknownField: 1}
EOF
reload
check_match "invalid Mapping: Ready=False with reason and message" \
	'.*Mapping/default/bad-cidr: Ready=False \(InvalidSpec: spec.allowedSources\[0\]: "10.0.0.0/33" is not an IPv4 prefix\).*' \
	"$(last 'Mapping/default/bad-cidr: Ready=')"
check_match "conflicting Mapping: Conflict=True, the StatefulSet keeps :32000" \
	'.*Conflict=True \(PortConflict: 198.51.100.1:32000/tcp is already served by StatefulSet default/web.*' \
	"$(last 'Mapping/default/zz-conflict: Ready=')"
check_eq "bad input: nothing else disturbed (:32000 → pod-0)" pod-0 "$(http "http://$EXT:32000/")"
check_match "bad input: nothing else disturbed (SmartNat :8082)" 'pod-[0-2]' \
	"$(http http://10.237.94.10:8082/)"
rm "$DIR/bad.yaml"

printf 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n' >"$DIR/syntax.yaml"
rm "$DIR/kafka-perpod.yaml" # not applied: the load fails as a whole
kill -HUP "$STRAIT_PID"
check "syntax error on reload: logged, previous objects kept" \
	wait_for 10 grep -q "reload: $DIR/syntax.yaml:[34]: syntax error.*keeping the objects loaded before" "$STRAIT_LOG"
check_eq "syntax error on reload: :33000 still → pod-0" pod-0 "$(http "http://$EXT:33000/")"
rm "$DIR/syntax.yaml"
reload
check "fixed directory reloaded: the removed perPod Mapping's :33000 refused" refused "$EXT:33000"

touch "$ST/stream.done"
wait "$STREAM" && rc=0 || rc=$?
check_eq "UDP stream across 9 reloads: nothing lost ($(cat "$ST/stream.out"))" 0 "$rc"

rm "$DIR/smartnat-mapping.yaml"
reload
check "deleted SmartNat Mapping: :8082 refused" refused 10.237.94.10:8082
check_eq "deleted SmartNat Mapping: StatefulSet ports unaffected" pod-1 "$(http "http://$EXT:32001/")"

rc=0
strait_stop || rc=$?
check_eq "strait exit status" 0 "$rc"
e2e_finish
