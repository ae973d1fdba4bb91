#!/usr/bin/env bash
# deploy_test.sh: the manifests of config/deploy (and the CRDs they install) against the
# Kubernetes OpenAPI schema, and each gateway's config in the ConfigMap against strait.
#
# - Every document of config/deploy/*.yaml and config/crd/*.yaml validates against the JSON
#   schemas of Kubernetes 1.27's OpenAPI spec (npm kubernetes-models 4.5.1 with ajv, see
#   tests/deploy/validate.js; the API versions used are GA in every release since 1.21);
#   Multus's NetworkAttachmentDefinitions, which it does not cover, are checked by hand.
# - The DaemonSet takes each node's config from the ConfigMap key `<nodeName>.yaml`: every
#   key loads in strait with the device plugin's variables set (the message of a bad config
#   names file, line and key, and exits 2; a good one gets past the config to the ports,
#   which are absent here: the message then names the VF's address from the variable).
# The npm packages are installed once into $STRAIT_NPM_DIR (default /var/cache/strait-tests/npm).
#
# Usage: deploy_test.sh [STRAIT_BINARY]
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root
BIN=${1:-$E2E_ROOT/build/strait}
NPM_DIR=${STRAIT_NPM_DIR:-/var/cache/strait-tests/npm}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "skip: node and npm are needed to validate the manifests (apt-get install nodejs npm)"
	E2E_FINISHED=1
	exit 77
fi
mkdir -p "$NPM_DIR"
if ! cmp -s "$E2E_ROOT/tests/deploy/package.json" "$NPM_DIR/package.json" ||
	[ ! -d "$NPM_DIR/node_modules/kubernetes-models" ]; then
	cp "$E2E_ROOT/tests/deploy/package.json" "$NPM_DIR/package.json"
	(cd "$NPM_DIR" && nice -n 19 npm install --no-audit --no-fund --loglevel=error)
fi

out=$(NODE_PATH=$NPM_DIR/node_modules node "$E2E_ROOT/tests/deploy/validate.js" \
	"$E2E_ROOT"/config/deploy/*.yaml "$E2E_ROOT"/config/crd/*.yaml "$E2E_ROOT"/config/ha/*.yaml 2>&1) || true
while IFS= read -r line; do
	case $line in
	"ok - "*) _e2e_ok "schema: ${line#ok - }" ;;
	"not ok - "*) _e2e_not_ok "schema: ${line#not ok - }" valid invalid ;;
	*) _e2e_not_ok "schema validator output" "ok/not ok lines" "$line" ;;
	esac
done <<<"$out"
check_match "schema: the DaemonSet and the ConfigMap were checked" '.*ok - daemonset.yaml#1 DaemonSet/strait.*' \
	"$(tr '\n' ' ' <<<"$out")"

# Each node's config, as the pod reads it: the device plugin's variables set, the PCI
# addresses not there (--no-pci), so strait gets past the config and fails on the ports.
ST=$(mktemp -d /tmp/strait-deploy.XXXXXX)
trap 'rc=$?; rm -rf "$ST"; (exit $rc); _e2e_on_exit' EXIT
NODE_PATH=$NPM_DIR/node_modules node -e '
const fs = require("fs"), YAML = require("yaml");
for (const d of YAML.parseAllDocuments(fs.readFileSync(process.argv[1], "utf8"))) {
  const o = d.toJS();
  if (o && o.kind === "ConfigMap")
    for (const [k, v] of Object.entries(o.data)) fs.writeFileSync(process.argv[2] + "/" + k, v);
}' "$E2E_ROOT/config/deploy/daemonset.yaml" "$ST"
nodes=0
# workers: 2 wants 3 lcores; two CPUs here.
EAL=(--no-pci --no-huge -m 128 --lcores 0@0,1@0,2@1 --file-prefix "${P}d")
for f in "$ST"/*.yaml; do
	[ -e "$f" ] || continue
	nodes=$((nodes + 1))
	msg=$(PCIDEVICE_INTEL_COM_STRAIT_EXT=0000:3b:02.1 PCIDEVICE_INTEL_COM_STRAIT_INT=0000:3b:0a.1 \
		timeout 20 "$BIN" "${EAL[@]}" -- --config "$f" 2>&1 || true)
	check_match "$(basename "$f"): loads; the ext port is the VF of PCIDEVICE_INTEL_COM_STRAIT_EXT" \
		".*$f:2: ports.ext.device: no DPDK port named \"0000:3b:02.1\".*" "$(tr '\n' ' ' <<<"$msg")"
	rc=0
	msg=$(env -u PCIDEVICE_INTEL_COM_STRAIT_EXT timeout 20 "$BIN" "${EAL[@]}" -- --config "$f" \
		2>&1) || rc=$?
	check_eq "$(basename "$f"): without the device plugin's variable, exit 2" 2 "$rc"
	check_match "$(basename "$f"): ... naming file, line and key" \
		".*$f:2: ports.ext.device.fromEnv: environment variable PCIDEVICE_INTEL_COM_STRAIT_EXT is not set.*" \
		"$(tr '\n' ' ' <<<"$msg")"
done
check "the ConfigMap has a config per gateway node" test "$nodes" -ge 2
e2e_finish
