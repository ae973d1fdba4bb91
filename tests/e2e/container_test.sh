#!/usr/bin/env bash
# container_test.sh: strait's container image run as Kubernetes runs it on a gateway node.
#
# Builds the debian:12-slim base locally (mmdebstrap, cached), then the Containerfile
# unchanged, as a user with a registry would. Runs the image as config/deploy/daemonset.yaml
# starts it (ds_to_podman.py: its env, capabilities: all dropped but IPC_LOCK, NET_RAW and
# NET_ADMIN, not privileged; its ConfigMap mount with this node's key, its args), inside the
# demo topology's gateway namespace, which holds the two veth ends as Multus moves VFs into
# a pod (`--network ns:`), the node's config with `{netdev: ...}` ports; the entrypoint takes
# lcores from the container's cpuset and --file-prefix from POD_NAME.
# Checks the demo's traffic through it, straitctl inside the container, the capabilities it
# ran with, and a graceful stop on SIGTERM (podman stop, exit 0). Prints the image size.
#
# Usage: container_test.sh [STRAIT_BINARY]   (the binary is unused: the image builds its own)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=container_lib.sh
source "$E2E_DIR/container_lib.sh"

e2e_require_root
ctr_require

IMAGE=localhost/strait:e2e
NAME=strait-$P
NPODS=3
EXT=$TOPO_EXT_ADDR
CAPS=CAP_IPC_LOCK,CAP_NET_ADMIN,CAP_NET_RAW

ctr_cleanup() { ctr_podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true; }
# The container goes before the namespace it runs in (lib.sh's trap tears the topology down).
trap 'rc=$?; ctr_cleanup; (exit $rc); _e2e_on_exit' EXIT

ctr_base
check "the Containerfile builds unchanged (FROM debian:12-slim, no registry)" \
	ctr_image "$IMAGE"
size=$(ctr_podman image inspect --format '{{.Size}}' "$IMAGE")
echo "# image $IMAGE: $((size / 1000000)) MB ($size bytes)"
check "the runtime stage has no compiler, no meson" ctr_podman run --rm --entrypoint sh "$IMAGE" \
	-c '! ls /usr/bin/cc /usr/bin/gcc* /usr/bin/meson /usr/include/rte_eal.h 2>/dev/null'
check_match "strait in the image runs on jemalloc" '.*, malloc jemalloc [0-9].*' \
	"$(ctr_podman run --rm --entrypoint /usr/bin/strait "$IMAGE" --version 2>&1)"
check_match "the HA sidecars' daemons are in the image (config/ha/)" \
	'BIRD version 2\..*Keepalived v.*' \
	"$(ctr_podman run --rm --entrypoint sh "$IMAGE" -c 'bird --version 2>&1; keepalived --version 2>&1' | tr '\n' ' ')"

topo_up "$NPODS"
topo_servers_start "$NPODS"
ST=$(_topo_state)
# The demo's config with the ports as Multus hands kernel interfaces to the pod, and the
# metrics on every address as in the DaemonSet's ConfigMap (the kubelet's probes).
sed -e 's/device: "net_af_packet0"/device: {netdev: st-gx}/' \
	-e 's/device: "net_af_packet1"/device: {netdev: st-gi}/' \
	-e 's/^metrics_listen: .*/metrics_listen: 0.0.0.0:9469/' \
	"$E2E_ROOT/config/strait.yaml" >"$ST/strait.yaml"
grep -q 'netdev: st-gi' "$ST/strait.yaml"

STRAIT_LOG=$ST/strait.log
# What config/deploy/daemonset.yaml gives the container (env from the downward API, the
# ConfigMap's mount with this node's key, capabilities, args with $(NODE_NAME) expanded), as
# podman options: the test's config, with netdev ports, stands in for the ConfigMap's key.
NODE=gw-test
mkdir -p "$ST/nodes"
cp "$ST/strait.yaml" "$ST/nodes/$NODE.yaml"
mapfile -t DS < <(/usr/bin/python3 "$E2E_DIR/ds_to_podman.py" "$E2E_ROOT/config/deploy/daemonset.yaml" \
	"$NODE" "$NAME" "$ST/nodes")
sep=0
while [ "${DS[$sep]}" != -- ]; do sep=$((sep + 1)); done
DS_OPTS=("${DS[@]:0:sep}")
DS_ARGS=("${DS[@]:sep+1}")
echo "# podman run ${DS_OPTS[*]} IMAGE ${DS_ARGS[*]}"
ctr_podman run -d --name "$NAME" --network "ns:/run/netns/${P}g" --cpuset-cpus 0-1 \
	"${DS_OPTS[@]}" "$IMAGE" "${DS_ARGS[@]}" >/dev/null
ctr_podman logs -f "$NAME" >"$STRAIT_LOG" 2>&1 &
echo "$! podman-logs" >>"$ST/pids"
ready() { grep -qF 'strait: ready' "$STRAIT_LOG"; }
wait_for 30 ready || true
check "strait is ready in the container" ready
check_match "the entrypoint: lcores from the cpuset, --file-prefix from POD_NAME" \
	".*strait-pod: strait -l 0-1 --file-prefix $NAME --no-pci --no-huge -m 512 -- --config /etc/strait/nodes/$NODE.yaml.*" \
	"$(grep 'strait-pod:' "$STRAIT_LOG" || true)"
check_eq "capabilities: exactly the DaemonSet's" "[$CAPS]" \
	"$(ctr_podman inspect --format '{{.EffectiveCaps}}' "$NAME" | tr ' ' ,)"
check_eq "not privileged" false "$(ctr_podman inspect --format '{{.HostConfig.Privileged}}' "$NAME")"

for ((i = 1; i <= 6; i++)); do
	check_match "HTTP request $i to $EXT:8080 answered by a pod" 'pod-[0-2]' \
		"$(client_curl "http://$EXT:8080/" 2>&1 || true)"
done
for ((i = 0; i < NPODS; i++)); do
	check_eq "port $((32000 + i)) answered by pod-$i" "pod-$i" \
		"$(client_curl "http://$EXT:$((32000 + i))/" 2>&1 || true)"
done
msg="strait in a container $$"
check_eq "UDP echo through $EXT:7777" "$msg" "$(printf '%s' "$msg" | client_udp "$EXT" 7777 2>&1 || true)"
val="ctr-$$-$RANDOM"
check_eq "redis set through $EXT:6379" OK \
	"$(in_client timeout 5 redis-cli -h "$EXT" -p 6379 set ctr-key "$val" 2>&1 || true)"
check_eq "redis get through $EXT:6379" "$val" \
	"$(in_client timeout 5 redis-cli -h "$EXT" -p 6379 get ctr-key 2>&1 || true)"
check_match "straitctl in the container: the netdev ports" '.*net_af_packet_st-gx.*net_af_packet_st-gi.*' \
	"$(ctr_podman exec "$NAME" straitctl show ports 2>&1 | tr '\n' ' ' || true)"
check_eq "/healthz in the container's network namespace" 200 \
	"$(in_gw curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9469/healthz || true)"
check_eq "/readyz" 200 \
	"$(in_gw curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9469/readyz || true)"

# Kubernetes stops a pod with SIGTERM, then SIGKILL after terminationGracePeriodSeconds.
ctr_podman stop -t 10 "$NAME" >/dev/null
check_eq "SIGTERM: a clean stop, exit status 0" 0 \
	"$(ctr_podman inspect --format '{{.State.ExitCode}}' "$NAME")"
# The follower started above may not have written the container's last lines when the stop
# returns (CI once saw the check run first): the stopped container's log, read whole.
ctr_podman logs "$NAME" >"$ST/strait-stopped.log" 2>&1 || true
STRAIT_LOG=$ST/strait-stopped.log
check "SIGTERM: strait said it was stopping" grep -q 'strait: stopping' "$STRAIT_LOG"
ctr_cleanup
e2e_finish
