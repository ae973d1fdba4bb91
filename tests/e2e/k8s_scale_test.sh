#!/usr/bin/env bash
# k8s_scale_test.sh: no packet lost during publication at 10,000 mappings (issue 12, item 4),
# strait driven by tests/k8s/fake_apiserver.py as in k8s_test.sh.
#
# The objects are tests/bench/cp_scale_bench.c's (--write-manifests, --write-churn): 2,000
# Services behind service-mode Mappings, each with one EndpointSlice of 10-50 endpoints, and
# 8,000 per-broker ports (perPod Mappings over StatefulSets of 10 brokers), namespace bench,
# VIPs no client uses; plus the streamed Mapping demo/web (UDP :7778 → Service web :9), whose
# EndpointSlice has pod-0 as its only ready endpoint, so that the stream's session is on it.
# The fake server starts with all of them (--preload); strait lists them and publishes its
# first generation of 10,001 mappings. Then a paced UDP stream (tests/k8s/udp_stream.py, one
# 5-tuple, one session, nice -n -10 as in k8s_test.sh) runs through demo/web while the server
# applies, in ROUNDS rounds, the bench's endpoint churn (PER_ROUND EndpointSlice changes to
# other Services per round, paced) and two changes per round to web's own slice that never
# remove pod-0: one in the middle (an extra endpoint not ready) and one at the end, the
# round's marker, which gives web one more backend than the round before. The next round
# starts once strait's published tables show the marker (show mappings: web's backend count),
# so each round ends in a state no earlier publication had: the generation must advance by
# at least ROUNDS. Checked: every datagram came back (the stream's own count), strait counted no
# drop (demo/web's drops, every drop reason, the ports' rx_missed) and forwarded every
# datagram both ways (demo/web's packet counters), and the generation advanced by ROUNDS or
# more. No assert is timed: every wait is a bounded poll that fails the check if it runs out.
#
# Prints `bench case=cp_zero_loss mappings=... updates=... generations=... sent=... lost=...`
# (docs/benchmarks.md, "Control plane at scale").
#
# Usage: k8s_scale_test.sh [STRAIT_BINARY]   (meson passes the binary; default build/strait)
# Environment: SCALE_SERVICES (2000), SCALE_BROKERS (8000), SCALE_ROUNDS (10),
# SCALE_PER_ROUND (100), SCALE_INTERVAL_MS (5): the server's pace between two changes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

k8s_e2e_init "${1:-}"

GEN=$(dirname "$BIN")/tests/bench/cp_scale_bench
SERVICES=${SCALE_SERVICES:-2000}
BROKERS=${SCALE_BROKERS:-8000}
ROUNDS=${SCALE_ROUNDS:-10}
PER_ROUND=${SCALE_PER_ROUND:-100}
INTERVAL_MS=${SCALE_INTERVAL_MS:-5}
MAPPINGS=$((SERVICES + BROKERS + 1)) # and demo/web
NPODS=1

# Each poll here (a show over 10,001 mappings) takes a while: until_s (lib.sh) every 0.5 s.
UNTIL_POLL_S=0.5

[ -x "$GEN" ] || { echo "no object generator at $GEN (build tests/bench)"; exit 1; }

topo_up "$NPODS"
ST=$(_topo_state)
# The stream's echo server (big socket buffers, ahead of the test's other processes on the
# shared core): a lost datagram must be the gateway's doing, not a starved server's.
_topo_spawn stream-echo-0 "${P}p0" nice -n -10 "$PY" "$K8S_DIR/udp_stream.py" echo 9 >/dev/null
listening9() { in_pod 0 ss -Hlun | grep -q ':9 '; }
wait_for 10 listening9

# ---- The objects: the benchmark's, and the streamed Mapping's ----

t0=$SECONDS
nice "$GEN" --services "$SERVICES" --brokers "$BROKERS" --changes $((ROUNDS * PER_ROUND)) \
	--write-manifests "$ST" --write-churn "$ST/churn.json" >"$ST/gen.out"

# web_slice N POD1_READY: web's EndpointSlice: pod-0 ready, then N-1 more endpoints at
# addresses no packet goes to (10.0.9.x), the first ready or not, the others ready. pod-0 is
# never removed and, being the only ready endpoint when the stream starts, is its backend.
web_slice() {
	local n=$1 ready1=$2 i eps
	local c='"serving": true, "terminating": false'
	eps="{\"addresses\": [\"$(topo_pod_addr 0)\"], \"conditions\": {\"ready\": true, $c}}"
	for ((i = 1; i < n; i++)); do
		eps+=", {\"addresses\": [\"10.0.9.$i\"], \"conditions\": {\"ready\": $([ "$i" -gt 1 ] && echo true || echo "$ready1"), $c}}"
	done
	cat <<EOF
{"apiVersion": "discovery.k8s.io/v1beta1", "kind": "EndpointSlice",
 "metadata": {"name": "web-x7k2p", "namespace": "demo",
   "labels": {"kubernetes.io/service-name": "web"}},
 "addressType": "IPv4", "ports": [{"name": "stream", "protocol": "UDP", "port": 9}],
 "endpoints": [$eps]}
EOF
}
cat >"$ST/web.json" <<EOF
[{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "demo"},
  "spec": {"selector": {"app": "web"}, "type": "ClusterIP",
           "ports": [{"name": "stream", "protocol": "UDP", "port": 9, "targetPort": 9}]}},
 $(web_slice 2 false),
 {"apiVersion": "strait.io/v1alpha1", "kind": "Mapping",
  "metadata": {"name": "web", "namespace": "demo"},
  "spec": {"addresses": ["$EXT"], "mode": "service", "serviceName": "web",
           "timeouts": {"udp": 300},
           "ports": [{"port": 7778, "servicePort": "stream", "protocol": "udp"}]}}]
EOF
# The server loads the generator's List documents (JSON is YAML), then web's objects.
files=("$ST"/0[0-9]-*.yaml "$ST/web.json")
preload=()
for f in "${files[@]}"; do preload+=(--preload "$f"); done
n_objs=$("$PY" -c '
import json, sys
print(sum(len(d["items"]) if isinstance(d, dict) else len(d)
          for d in (json.load(open(f)) for f in sys.argv[1:])))' "${files[@]}")

# shellcheck source=../k8s/fake_api.sh
source "$K8S_DIR/fake_api.sh"
fake_api_cert
FAKE_API_WAIT_S=120 fake_api_start "${preload[@]}"
fake_api_kubeconfig "$ST/kubeconfig"
echo "info: $n_objs objects generated and loaded into the fake API server in $((SECONDS - t0)) s"

# ---- strait, and its first publication ----

# The churn's Maglev tables on a pool thread besides the control thread (maglevThreads): the
# zero-loss check below holds with the pool computing them.
{
	fake_api_strait_config
	echo "maglevThreads: 1"
} >"$ST/strait.yaml"
t0=$SECONDS
strait_start "$BIN" "$ST/strait.yaml"

sctl() { "$STRAITCTL" -s "$ST/cli.sock" --json "$@"; }
generation() { grep -o 'tables generation [0-9]* published' "$STRAIT_LOG" | tail -n 1 | awk '{print $3}'; }
all_published() { grep -q "tables generation [0-9]* published: $MAPPINGS mappings" "$STRAIT_LOG"; }
check "first publication: $MAPPINGS mappings published" until_s 300 all_published
first_s=$((SECONDS - t0))
echo "info: strait started, listed $n_objs objects and published $MAPPINGS mappings in ${first_s} s"
# web_backends: demo/web's backend count in the published tables ("" if it has none)
web_backends() {
	sctl show mappings | "$PY" -c '
import json, sys
print("".join(str(m["backends"]) for m in json.load(sys.stdin)
              if m["namespace"] == "demo" and m["name"] == "web"))'
}
web_has() { [ "$(web_backends)" = "$1" ]; }
# marker_published N: until web has N backends in the published tables, for at most 120 s.
# A show over 10,001 mappings is work for strait's control thread (and waits for it): asked
# once, then again only after each new generation in the log, watched meanwhile (cheap).
marker_published() {
	local end=$((SECONDS + 120)) g
	while :; do
		g=$(generation)
		web_has "$1" && return 0
		while [ "$(generation)" = "$g" ]; do
			[ "$SECONDS" -lt "$end" ] || return 1
			sleep 0.1
		done
	done
}
# applied: the fake server has applied every change it was given (its side: cheap to ask)
applied() { [ "$(ctl state | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["pending"])')" = 0 ]; }
check "first publication: demo/web has its 2 backends" until_s 60 web_has 2
check_eq "show config: maglev_threads 1" 1 \
	"$(sctl show config | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["maglev_threads"])')"
tq=$(date +%s%N)
web_backends >/dev/null
echo "info: one show mappings (of $MAPPINGS) took $((($(date +%s%N) - tq) / 1000000)) ms"
check_eq "demo/web :7778/udp echoes (through pod-0)" "hello scale" \
	"$(printf 'hello scale' | client_udp "$EXT" 7778 || true)"

# ---- The stream, and the churn in rounds ----

# round_ops R: round R's changes: the bench's next PER_ROUND EndpointSlice changes, web's
# extra endpoint made not ready in the middle, web's marker (R + 2 backends) at the end.
round_ops() {
	local r=$1
	web_slice $((r + 1)) false >"$ST/web-mid.json"
	web_slice $((r + 2)) true >"$ST/web-mark.json"
	"$PY" - "$ST/churn.json" "$r" "$PER_ROUND" "$ST/web-mid.json" "$ST/web-mark.json" <<'EOF'
import json, sys
churn, r, k = json.load(open(sys.argv[1])), int(sys.argv[2]), int(sys.argv[3])
ops = churn[(r - 1) * k:r * k]
ops.insert(len(ops) // 2, json.load(open(sys.argv[4])))
ops.append(json.load(open(sys.argv[5])))
json.dump(ops, sys.stdout)
EOF
}
for ((r = 1; r <= ROUNDS; r++)); do round_ops "$r" >"$ST/round-$r.json"; done

stats() { # stats FILE: show stats and show ports, as one JSON document
	{
		echo '{"stats":'
		sctl show stats
		echo ',"ports":'
		sctl show ports
		echo '}'
	} >"$1"
}
stats "$ST/stats0.json"
gen0=$(generation)
rm -f "$ST/stream.start" "$ST/stream.done"
in_client nice -n -10 "$PY" "$K8S_DIR/udp_stream.py" "$EXT" 7778 100000 2 \
	--start-file "$ST/stream.start" --done-file "$ST/stream.done" >"$ST/stream.out" 2>&1 &
STREAM=$!
wait_for 10 test -e "$ST/stream.start" || true
t0=$SECONDS
load=$(cut -d' ' -f1 /proc/loadavg)
done_rounds=0
round_s=()
for ((r = 1; r <= ROUNDS; r++)); do
	tr=$(date +%s%N)
	ctl apply "$ST/round-$r.json" --interval-ms "$INTERVAL_MS" >/dev/null
	until_s 120 applied || break
	marker_published $((r + 2)) || break
	round_s+=("$((($(date +%s%N) - tr) / 10000000))")
	done_rounds=$r
done
rounds_s=$((SECONDS - t0))
echo "info: rounds took (1/100 s): ${round_s[*]}"
check_eq "churn: every round's last change published (rounds done)" "$ROUNDS" "$done_rounds"
touch "$ST/stream.done"
wait "$STREAM" && rc=0 || rc=$?
gen1=$(generation)
stats "$ST/stats1.json"
# strait's status writes meanwhile (each Mapping's after the first publication, then the
# churned ones'): each comes back to it as a watch event, load on its control thread.
echo "info: status writes by strait so far: $(ctl requests | "$PY" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin) if r["method"] == "PATCH" and r["path"].endswith("/status")))')"

# ---- What the stream and strait's counters say ----

stream=$(cat "$ST/stream.out")
check_eq "UDP stream through demo/web during $((done_rounds * (PER_ROUND + 2))) updates: nothing lost ($stream)" 0 "$rc"
read -r sent received < <("$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["sent"], d["received"])' "$stream" 2>/dev/null || echo "0 0")
lost=$((sent - received))
read -r web_drops web_o2i web_i2o drops missed < <("$PY" - "$ST/stats0.json" "$ST/stats1.json" <<'EOF'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
def web(d):
    return next(m for m in d["stats"]["mappings"] if m["mapping"] == "demo/web")
wa, wb = web(a), web(b)
drops = {k: v - a["stats"]["drops"].get(k, 0) for k, v in b["stats"]["drops"].items()}
nz = ",".join("%s=%d" % (k, v) for k, v in sorted(drops.items()) if v) or "none"
missed = sum(p["rx_missed"] for p in b["ports"]) - sum(p["rx_missed"] for p in a["ports"])
print(wb["drops"] - wa["drops"], wb["pkts_o2i"] - wa["pkts_o2i"],
      wb["pkts_i2o"] - wa["pkts_i2o"], nz, missed)
EOF
)
check_eq "counters: demo/web dropped nothing" 0 "$web_drops"
check "counters: demo/web forwarded every datagram out ($web_o2i ≥ $sent)" test "$web_o2i" -ge "$sent"
check "counters: demo/web forwarded every echo back ($web_i2o ≥ $sent)" test "$web_i2o" -ge "$sent"
check_eq "counters: no drop of any reason meanwhile" none "$drops"
check_eq "counters: no frame missed by the ports meanwhile" 0 "$missed"
gens=$((gen1 - gen0))
check "table generation advanced by at least $ROUNDS publications ($gen0 → $gen1)" \
	test "$gens" -ge "$ROUNDS"
check_eq "the streamed mapping's backend is still pod-0 (show sessions)" "$(topo_pod_addr 0)" \
	"$(sctl show sessions mapping demo/web | "$PY" -c '
import json, sys
print(" ".join(sorted({s.get("backend", "").split(":")[0] for s in json.load(sys.stdin)["sessions"]})))')"

cpu=$(lscpu | sed -n 's/^Model name: *//p')
echo "bench case=cp_zero_loss mappings=$MAPPINGS objects=$n_objs rounds=$done_rounds" \
	"updates=$((done_rounds * (PER_ROUND + 2))) generations=$gens sent=$sent lost=$lost" \
	"first_publication_s=$first_s churn_s=$rounds_s load=$load cpu=\"$cpu\""

rc=0
strait_stop || rc=$?
check_eq "strait exit status" 0 "$rc"
e2e_finish
