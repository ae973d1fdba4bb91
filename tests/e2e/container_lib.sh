# shellcheck shell=bash
# tests/e2e/container_lib.sh: podman as this project's tests use it (container_test.sh,
# deb_test.sh). Source it after lib.sh.
#
#   ctr_require              exit 77 (skipped) with a message when podman/runc/mmdebstrap
#                            are missing
#   ctr_podman ARGS...       podman with this machine's workarounds (below)
#   ctr_base                 localhost/debian:12-slim, built once with mmdebstrap and cached
#                            in podman's storage, also tagged docker.io/library/debian:12-slim
#                            so that the Containerfile's unchanged `FROM debian:12-slim`
#                            resolves to it without a registry
#   ctr_image TAG            podman build of the Containerfile (layers cached between runs)
#
# Workarounds, in the tests only (never in the Containerfile or the manifests): this sandbox
# refuses crun's cgroup setup and any rlimit that podman raises by default, so every podman
# call gets --runtime runc and a containers.conf with `default_ulimits = []`; the build's
# RUN steps use the host network (apt-get inside the build) and --pull=never (no registry).

CTR_BASE=localhost/debian:12-slim
CTR_CONF=${CTR_CONF:-/tmp/strait-containers.conf}

ctr_require() {
	local c missing=()
	for c in podman runc mmdebstrap; do
		command -v "$c" >/dev/null || missing+=("$c")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		echo "skip: ${missing[*]} missing (apt-get install podman runc mmdebstrap)"
		E2E_FINISHED=1
		exit 77
	fi
	printf '[containers]\ndefault_ulimits = []\n' >"$CTR_CONF"
}

ctr_podman() {
	CONTAINERS_CONF=$CTR_CONF podman --runtime runc --cgroup-manager cgroupfs "$@"
}

ctr_base() {
	if ! ctr_podman image exists "$CTR_BASE"; then
		echo "# building $CTR_BASE with mmdebstrap (once; cached in podman's storage)"
		nice -n 19 mmdebstrap --quiet --variant=minbase bookworm - |
			ctr_podman import - "$CTR_BASE" >/dev/null || return 1
	fi
	ctr_podman tag "$CTR_BASE" docker.io/library/debian:12-slim
}

ctr_image() {
	local tag=$1
	nice -n 19 env CONTAINERS_CONF="$CTR_CONF" podman --runtime runc --cgroup-manager cgroupfs \
		build --pull=never --network host --layers -t "$tag" -f "$E2E_ROOT/Containerfile" \
		"$E2E_ROOT"
}
