#!/usr/bin/env bash
# soak.sh: strait under ASan and UBSan for a long while, driven by the fake Kubernetes API
# server under constant churn, with traffic that must not notice. A benchmark mode with a
# pass/fail verdict, not a timed test (docs/benchmarks.md, "Soak under churn").
#
# In the network-namespace topology of scripts/topo.sh (as root), for --seconds:
#   - a UDP stream at --udp-pps through Mapping demo/stay (:7778/udp, whose one endpoint never
#     changes), every datagram numbered and echoed: none may be lost;
#   - one TCP connection through the same Mapping (:9000/tcp) carrying a seeded pseudo-random
#     stream at --tcp-rate bytes/s to an echo server, compared byte for byte;
#   - --rate object updates/s through tests/k8s/fake_apiserver.py's control endpoint
#     (tests/k8s/soak_driver.py churn): --names-per-s fresh Mapping names created and
#     deleted again, and in turn the churn EndpointSlice (backends removed and added, their
#     sessions cleared), the churn Mapping's spec, the stay EndpointSlice (a label) and the
#     stay Mapping's spec (its udp timeout); every 30 s the watch history is forgotten and
#     the watch connections dropped, so that watches resume into 410 Expired and strait
#     lists again; 64 UDP flows through Mapping demo/churn so that there are sessions to
#     clear (their loss is reported, not checked);
#   - SIGHUP every --hup-interval s; `straitctl show sessions` / `show stats` in a loop;
#     DPDK telemetry reads (every /strait/* command) and /metrics scrapes in a loop.
# Then strait is stopped with SIGINT, so LeakSanitizer runs, and the verdict is printed:
# fails if a datagram of the stay stream was lost, the TCP stream broke or differed, a
# sanitizer reported anything (strait's log, straitctl's), strait died or did not exit 0,
# strait's resident memory at the end exceeds 1.5 x that after the warm-up + 20 MB, or its
# tables did not converge to the last objects applied. The last line is `N passed, N failed`.
#
# Usage: scripts/soak.sh [--seconds N] [--build DIR] [--rate R] [--names-per-s K]
#                        [--udp-pps P] [--tcp-rate B] [--hup-interval S]
#   --seconds N       how long the load runs (default 600), after about 15 s of setup
#   --build DIR       the build to run (default build-asan, configured here as
#                     scripts/test.sh --asan does if missing; the strait and straitctl
#                     targets are built)
#   --rate R          object updates per second through the fake API server (default 200)
#   --names-per-s K   fresh Mapping names per second (default 5; each costs 2 updates).
#                     Counter slots (4096) are reclaimed once a gone mapping's sessions
#                     are cleared, so K x N may exceed them.
#   --udp-pps P       the stay UDP stream's rate (default 2000)
#   --tcp-rate B      the TCP stream's rate in bytes/s (default 131072)
#   --hup-interval S  seconds between SIGHUPs (default 3)
# Environment: SOAK_OUT (directory for strait's log and the load generators' results,
# default /tmp/strait-soak.PREFIX; kept after the run), SOAK_JOBS (ninja -j), P (the
# topology's prefix, default st$$).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source-path=SCRIPTDIR source=topo.sh
source scripts/topo.sh

RUN_S=600 BUILD=build-asan RATE=200 NAMES_PER_S=5 UDP_PPS=2000 TCP_RATE=131072 HUP_S=3
usage() { sed -n 's/^# \?//; /^Usage:/,/^Environment/p' "$0" | sed '$d' >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) RUN_S=${2:-} ;;
	--build) BUILD=${2:-} ;;
	--rate) RATE=${2:-} ;;
	--names-per-s) NAMES_PER_S=${2:-} ;;
	--udp-pps) UDP_PPS=${2:-} ;;
	--tcp-rate) TCP_RATE=${2:-} ;;
	--hup-interval) HUP_S=${2:-} ;;
	*) usage ;;
	esac
	[ $# -ge 2 ] || usage
	shift 2
done
for v in RUN_S RATE UDP_PPS TCP_RATE HUP_S; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]] || [ "${!v}" -eq 0 ]; then
		echo "soak: bad $v '${!v}'" >&2
		exit 2
	fi
done
[[ $NAMES_PER_S =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "soak: bad --names-per-s" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "soak: needs root (network namespaces)" >&2; exit 2; }

topo_require "${TOPO_DEPS[@]}" openssl:openssl base64:coreutils libdpdk-dev dpdk \
	meson:meson ninja:ninja-build pkg-config:pkg-config libjansson-dev libyaml-dev \
	libcurl4-openssl-dev libcmocka-dev libmicrohttpd-dev libmnl-dev || exit 1

# ---- build ------------------------------------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false || exit 1
fi
nice -n 19 ninja -C "$BUILD" ${SOAK_JOBS:+-j "$SOAK_JOBS"} strait straitctl || exit 1
BIN=$BUILD/strait
# Everything this script starts runs on $TOPO_CPU with the servers and clients (strait's
# EAL threads set their own affinity): strait's worker polls alone on the other core.
if [ -n "$TOPO_CPU" ] && command -v taskset >/dev/null; then
	taskset -pc "$TOPO_CPU" $$ >/dev/null
fi
STRAITCTL=$BUILD/straitctl
if ! grep -q 'fsanitize=address' "$BUILD/build.ninja"; then
	echo "soak: warning: $BUILD is not built with -Db_sanitize=address,undefined:" \
		"no sanitizer will report anything" >&2
fi

# ---- the verdict's bookkeeping ----------------------------------------------------------------
PASSED=0 FAILED=0
ok() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
not_ok() { FAILED=$((FAILED + 1)); echo "not ok - $1"; }
verdict() { if [ "$2" -eq 0 ]; then ok "$1"; else not_ok "$1"; fi; }
wait_for() { # TIMEOUT_S CMD...
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}
now() { date +%s; }
PY=$(_topo_python)
K8S_DIR=$ROOT/tests/k8s
DRIVER=$K8S_DIR/soak_driver.py

ST=$(_topo_state)
OUT=${SOAK_OUT:-/tmp/strait-soak.$P}
mkdir -p "$OUT"
FINISHED=0
on_exit() {
	local rc=$?
	trap - EXIT
	[ -n "${STRAIT_LOG:-}" ] && [ -f "$STRAIT_LOG" ] && cp "$STRAIT_LOG" "$OUT/strait.log"
	cp "$ST"/*.log "$ST"/*.json "$ST"/*.txt "$ST"/*.times "$OUT"/ 2>/dev/null
	topo_down
	if [ $FINISHED -eq 0 ]; then
		not_ok "soak ran to the end (exit $rc before it)"
		echo "$PASSED passed, $FAILED failed"
		[ $rc -ne 0 ] || rc=1
	fi
	exit $rc
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
die() { echo "soak: $*" >&2; exit 1; }

echo "=== soak: ${RUN_S} s, $RATE updates/s ($NAMES_PER_S fresh names/s), UDP $UDP_PPS/s," \
	"TCP $TCP_RATE B/s, SIGHUP every $HUP_S s; build $BUILD; results in $OUT"
lscpu | grep 'Model name' | sed 's/  */ /g'
echo "cpus $(nproc --all), $(uname -r), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

# ---- topology, servers ------------------------------------------------------------------------
NPODS=4 # pod 0 is the stay backend, pods 1-3 the churned ones
EXT=$TOPO_EXT_ADDR
topo_up $NPODS || die "topo_up failed"
topo_servers_start $NPODS || die "servers did not start"
STAY_POD=$(topo_pod_addr 0)
CHURN_PODS=$(topo_pod_addr 1),$(topo_pod_addr 2),$(topo_pod_addr 3)
# The stay flows' servers ahead of everything else on the shared CPU, with big socket
# buffers (udp_stream.py): a datagram lost must be the gateway's doing.
_topo_spawn stay-echo "${P}p0" nice -n -10 "$PY" "$K8S_DIR/udp_stream.py" echo 9 >/dev/null
_topo_spawn stay-tcp-echo "${P}p0" nice -n -10 "$PY" "$DRIVER" tcp-echo 9000 >/dev/null
listening() { in_pod 0 ss -Hltun | grep -q "$1"; }
wait_for 10 listening ':9 ' || die "udp echo :9 not listening"
wait_for 10 listening ':9000 ' || die "tcp echo :9000 not listening"

# ---- the fake API server, in the gateway's namespace ------------------------------------------
API_PORT=6443
CTL=http://127.0.0.1:6444
TOKEN=strait-soak-$RANDOM$RANDOM
# shellcheck source=../tests/k8s/fake_api.sh
source "$K8S_DIR/fake_api.sh"
fake_api_cert || die "openssl failed"
# Watches end every 30 s (as a real server's timeoutSeconds would) and resume from a
# BOOKMARK, under churn.
fake_api_start --max-watch-seconds 30 || die "fake API server did not start"
fake_api_kubeconfig "$ST/kubeconfig"
in_gw "$PY" "$DRIVER" setup "$CTL" --ext "$EXT" --stay-pod "$STAY_POD" \
	--churn-pods "$CHURN_PODS" || die "could not create the objects"

# ---- strait under the sanitizers ----------------------------------------------------------------
# One mapping from the file, so that each SIGHUP has something to re-read.
METRICS=127.0.0.1:9469
SOCK=$ST/cli.sock
{
	fake_api_strait_config
	cat <<EOF
metrics_listen: $METRICS
mappings:
- name: file-echo
  addresses: [$EXT]
  ports: [{port: 7779, servicePort: 7, protocol: udp}]
  backends: [{address: $STAY_POD}]
EOF
} >"$ST/strait.yaml"
# Reports go to stderr, which is strait's log. A small quarantine (the default is 256 MB)
# so that resident memory levels off soon and the leak bound means something.
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:quarantine_size_mb=16:print_summary=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=0
# strait_start runs strait in a session of its own (setsid, scripts/topo.sh): a scheduling
# group of its own, so the load generators of this script's session do not starve the worker.
strait_start "$BIN" "$ST/strait.yaml" || die "strait did not start"
SPID=$STRAIT_PID

sctl() { ASAN_OPTIONS=detect_leaks=0 "$STRAITCTL" -s "$SOCK" "$@"; }
json() { "$PY" -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
generation() { sctl --json show config 2>/dev/null | json 'd["tables_generation"]' 2>/dev/null; }
udp_ok() { [ "$(printf soak | client_udp "$EXT" "$1" 2>/dev/null)" = soak ]; }
wait_for 30 udp_ok 7778 || die "Mapping demo/stay :7778 never answered"
wait_for 30 udp_ok 7777 || die "Mapping demo/churn :7777 never answered"
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$SPID/status" 2>/dev/null; }
# The worker thread (DPDK 22.11 names it rte-worker-N): its schedstat says how long it ran and
# how long it waited for a CPU that something else had. A polling worker alone on its core
# waits for nothing; seconds of waiting there mean its rings could overflow.
WTID=
for t in /proc/"$SPID"/task/*; do
	[[ $(cat "$t/comm" 2>/dev/null) == *-worker-* ]] && WTID=${t##*/} && break
done
WCPUS=$([ -n "$WTID" ] && awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$SPID/task/$WTID/status")
sched_sample() { [ -n "$WTID" ] && echo "$(date +%s.%N) $(cat "/proc/$SPID/task/$WTID/schedstat" 2>/dev/null)" >>"$ST/worker-sched.txt"; }

# ---- the load ---------------------------------------------------------------------------------
GEN0=$(generation)
sched_sample
T0=$(now)
END=$((T0 + RUN_S))
WARM=$((RUN_S / 10))
[ $WARM -ge 10 ] || WARM=10
[ $WARM -le 60 ] || WARM=60
echo "=== load: from $(date -u +%H:%M:%S) for $RUN_S s (warm-up $WARM s); tables generation $GEN0"
rm -f "$ST/stream.start" "$ST/stream.done"
_topo_spawn logstamp "${P}g" "$PY" "$DRIVER" logstamp "$STRAIT_LOG" "$ST/strait-stamped.log" \
	--seconds $((RUN_S + 300)) >/dev/null
_topo_spawn stay-udp "${P}c" nice -n -10 "$PY" "$DRIVER" udp-stream "$EXT" 7778 \
	--pps "$UDP_PPS" --seconds $((RUN_S + 60)) --done-file "$ST/stream.done" >/dev/null
_topo_spawn stay-tcp "${P}c" nice -n -10 "$PY" "$DRIVER" tcp-stream "$EXT" 9000 \
	--seconds "$RUN_S" --rate "$TCP_RATE" >/dev/null
_topo_spawn churn-udp "${P}c" "$PY" "$DRIVER" udp-spray "$EXT" 7777 --flows 64 --pps 200 \
	--seconds "$RUN_S" >/dev/null
_topo_spawn churn "${P}g" "$PY" "$DRIVER" churn "$CTL" --ext "$EXT" --stay-pod "$STAY_POD" \
	--churn-pods "$CHURN_PODS" --seconds "$RUN_S" --rate "$RATE" --names-per-s "$NAMES_PER_S" \
	--stats "$ST/churn.json" >/dev/null
_topo_spawn telemetry "${P}g" "$PY" "$DRIVER" telemetry "/var/run/dpdk/$P/dpdk_telemetry.v2" \
	--seconds "$RUN_S" --count-file "$ST/telemetry.count" >/dev/null
# The loops below count what succeeded into a file after every round and end at $END.
# shellcheck disable=SC2016 # expanded by the inner bash
_topo_spawn hup "${P}g" bash -c 'n=0; while [ "$(date +%s)" -lt "$1" ]; do
	sleep "$3"; date +%s.%N >>"$4.times"; kill -HUP "$2" && n=$((n + 1)); echo $n >"$4"
	done' _ "$END" "$SPID" "$HUP_S" "$ST/hup.count" >/dev/null
# straitctl is the ASan build's too: LeakSanitizer at the exit of each short-lived client
# would cost it a second or two of CPU, on the CPU the streams use.
# shellcheck disable=SC2016
ASAN_OPTIONS=detect_leaks=0 _topo_spawn ctl-reads "${P}g" bash -c 'n=0 e=0; while [ "$(date +%s)" -lt "$1" ]; do
	for c in "show sessions" "show stats" "show sessions mapping demo/stay" "show backends"; do
		if "$2" -s "$3" $c >/dev/null; then n=$((n + 1)); else e=$((e + 1)); fi
	done; echo "$n $e" >"$4"; sleep 0.2; done' _ "$END" "$STRAITCTL" "$SOCK" \
	"$ST/ctl.count" >/dev/null
# shellcheck disable=SC2016
_topo_spawn metrics-reads "${P}g" bash -c 'n=0 e=0; while [ "$(date +%s)" -lt "$1" ]; do
	if curl -q -sS --noproxy "*" --max-time 5 "http://$2/metrics" 2>/dev/null |
		grep -q "^strait_tables_generation "; then n=$((n + 1)); else e=$((e + 1)); fi
	echo "$n $e" >"$3"; sleep 0.2; done' _ "$END" "$METRICS" "$ST/metrics.count" >/dev/null

# ---- watch: strait alive, resident memory ------------------------------------------------------
RSS_START='' RSS_MAX=0 DIED=0 NEXT_PRINT=10
stat_of() { "$PY" -c 'import json,sys
try: print(json.load(open(sys.argv[1])).get(sys.argv[2], 0))
except Exception: print(0)' "$ST/churn.json" "$1"; }
while [ "$(now)" -lt "$END" ]; do
	sleep 1
	if ! _topo_alive "$SPID"; then
		DIED=1
		echo "soak: strait died at +$(($(now) - T0)) s"
		break
	fi
	sched_sample
	rss=$(rss_kb)
	[ -n "$rss" ] || continue
	[ "$rss" -gt "$RSS_MAX" ] && RSS_MAX=$rss
	t=$(($(now) - T0))
	[ -z "$RSS_START" ] && [ $t -ge $WARM ] && RSS_START=$rss
	if [ $t -ge $NEXT_PRINT ]; then
		NEXT_PRINT=$((NEXT_PRINT + 10))
		echo "soak: +${t}s rss $((rss / 1024)) MB, generation $(generation)," \
			"updates $(stat_of applied), names $(stat_of names_created)"
	fi
done

# ---- the end of the load ----------------------------------------------------------------------
touch "$ST/stream.done"
result() { grep -h '^{' "$ST/$1.log" 2>/dev/null | tail -n 1; }
final() { [ "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["final"])' \
	"$ST/churn.json" 2>/dev/null)" = True ]; }
have() { [ -n "$(result "$1")" ]; }
wait_for 30 have stay-udp || true
wait_for 40 have stay-tcp || true
wait_for 10 have churn-udp || true
wait_for 20 final || true
sleep "$HUP_S" # the loops end on their own at $END

# Converged: the churn Mapping's backends are the last EndpointSlice's, and the fresh names
# alive in the API are the ones strait serves.
want_backends=$("$PY" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["churn_backends"]))' \
	"$ST/churn.json" 2>/dev/null)
want_names=$("$PY" -c 'import json,sys; print(" ".join(sorted(json.load(open(sys.argv[1]))["names_alive"])))' \
	"$ST/churn.json" 2>/dev/null)
churn_backends() { sctl --json show backends 2>/dev/null | json '" ".join(sorted({b["address"] for b in d if b["mapping"] == "demo/churn"}))' 2>/dev/null; }
soak_names() { sctl --json show mappings 2>/dev/null | json '" ".join(sorted(m["name"] for m in d if m["namespace"] == "demo" and m["name"].startswith("soak-")))' 2>/dev/null; }
converged() { [ "$(churn_backends)" = "$want_backends" ] && [ "$(soak_names)" = "$want_names" ]; }
CONVERGED=1
[ $DIED -eq 0 ] && [ -n "$want_backends" ] && wait_for 30 converged || CONVERGED=0

# Where datagrams went, hop by hop, while strait still runs: socket counters and links in
# every namespace, strait's port counters and drops. (DPDK 22.11's af_packet PMD does not
# report its ring's drops: what st-gx received and strait's ext port did not, the ring lost.)
diag() {
	local ns
	for ns in c g n p0 p1 p2 p3; do
		echo "--- ${P}$ns"
		ip netns exec "${P}$ns" nstat -asz 2>/dev/null |
			awk '/^Udp(InDatagrams|OutDatagrams|RcvbufErrors|SndbufErrors|InErrors|NoPorts)|^TcpRetransSegs/ {printf "%s=%s ", $1, $2} END {print ""}'
		ip netns exec "${P}$ns" ip -s -s link 2>/dev/null | awk '/^[0-9]+:/ {ifc=$2}
			/RX:|TX:/ {dir=$1; getline; print "  " ifc " " dir " " $0}'
	done
	echo "--- strait"
	"$PY" "$DRIVER" tel "/var/run/dpdk/$P/dpdk_telemetry.v2" /strait/ports
	sctl show stats
}
diag >"$ST/diag.txt" 2>&1

RSS_END=$(rss_kb)
FAKE_RSS=$(awk '$2 == "fakeapi" { print $1 }' "$ST/pids" | head -n 1)
FAKE_RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$FAKE_RSS/status" 2>/dev/null)
[ -n "$RSS_END" ] && [ "$RSS_END" -gt "$RSS_MAX" ] && RSS_MAX=$RSS_END
GEN1=$(generation)

# ---- stop: SIGINT, LeakSanitizer runs at exit -------------------------------------------------
STOP_RC=
if [ $DIED -eq 0 ] && _topo_alive "$SPID"; then
	kill -INT "$SPID"
	for ((i = 0; i < 1200; i++)); do
		_topo_alive "$SPID" || break
		sleep 0.1
	done
	if _topo_alive "$SPID"; then
		echo "soak: strait still running 120 s after SIGINT; SIGKILL"
		kill -KILL "$SPID"
	fi
fi
STOP_RC=0
wait "$SPID" 2>/dev/null || STOP_RC=$?
STRAIT_PID=

# ---- report -----------------------------------------------------------------------------------
LOG=$STRAIT_LOG
SAN_RE='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ERROR: [A-Za-z]+Sanitizer'
SAN_N=$(grep -cE "$SAN_RE" "$LOG" 2>/dev/null)
CTL_SAN_N=$(grep -cE "$SAN_RE" "$ST/ctl-reads.log" 2>/dev/null)
: "${SAN_N:=0}" "${CTL_SAN_N:=0}"
RELOADS=$(grep -c 'reload: tables generation' "$LOG" 2>/dev/null)
RELISTS=$(grep -c 'expired.*listing again' "$LOG" 2>/dev/null)
RELOAD_ERR=$(grep -c 'reload: .*keeping the running mappings' "$LOG" 2>/dev/null)
read -r CTL_N CTL_E <"$ST/ctl.count" 2>/dev/null || CTL_N=0 CTL_E=0
read -r TEL_N TEL_E TEL_REG TEL_ERR <"$ST/telemetry.count" 2>/dev/null || TEL_N=0 TEL_E=0 TEL_REG=0
read -r MET_N MET_E <"$ST/metrics.count" 2>/dev/null || MET_N=0 MET_E=0
HUPS=$(cat "$ST/hup.count" 2>/dev/null || echo 0)
UDP=$(result stay-udp)
TCP=$(result stay-tcp)
SPRAY=$(result churn-udp)
field() { "$PY" -c 'import json,sys
try: print(json.loads(sys.argv[1]).get(sys.argv[2], ""))
except Exception: print("")' "$1" "$2"; }
UDP_SENT=$(field "$UDP" sent) UDP_LOST=$(field "$UDP" n_missing)
UPD=$(stat_of applied) UPD_FAIL=$(stat_of failed)
NAMES=$(stat_of names_created) NAMES_DEL=$(stat_of names_deleted)
mb() { [ -n "$1" ] && awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }' || echo "?"; }
: "${RSS_START:=${RSS_END:-0}}"
RSS_LIMIT=$((RSS_START * 3 / 2 + 20 * 1024))

echo "=== sanitizer reports in strait's log ($SAN_N lines)"
if [ "${SAN_N:-0}" -gt 0 ]; then
	grep -nE -A 25 "$SAN_RE" "$LOG" | head -n 120
fi
if [ "${CTL_SAN_N:-0}" -gt 0 ]; then
	echo "=== sanitizer reports from straitctl ($CTL_SAN_N lines)"
	grep -nE -A 25 "$SAN_RE" "$ST/ctl-reads.log" | head -n 60
fi
# Each run of lost datagrams of the stay stream beside what happened then: the nearest
# SIGHUP, and what strait logged within a second of it.
"$PY" - "$UDP" "$ST/hup.count.times" "$ST/strait-stamped.log" "$T0" "$ST/worker-sched.txt" <<'PYEOF'
import json, sys
try:
    sched = [[float(x) for x in l.split()[:3]] for l in open(sys.argv[5]) if len(l.split()) >= 3]
except (OSError, ValueError):
    sched = []


def waited(a, b):
    """ms the worker waited for a CPU between the samples around [a, b]."""
    lo = [x for x in sched if x[0] <= a]
    hi = [x for x in sched if x[0] >= b]
    if not lo or not hi:
        return None
    return (hi[0][2] - lo[-1][2]) / 1e6, hi[0][0] - lo[-1][0]
try:
    runs = json.loads(sys.argv[1]).get("loss_runs", [])
except ValueError:
    runs = []
if runs:
    try:
        hups = [float(x) for x in open(sys.argv[2]).read().split()]
    except OSError:
        hups = []
    try:
        log = [(float(l.split(" ", 1)[0]), l.split(" ", 1)[1].rstrip()) for l in open(sys.argv[3])]
    except (OSError, ValueError, IndexError):
        log = []
    t0 = float(sys.argv[4])
    print("=== stay stream losses (%d runs)" % len(runs))
    for r in runs[:8]:
        at = r["at"]
        near = min(hups, key=lambda h: abs(h - at)) if hups else None
        w = waited(at - 0.5, at + 0.5)
        print("lost %d datagrams from #%d at +%.3f s; nearest SIGHUP %s; worker waited %s" % (
            r["count"], r["first"], at - t0,
            "%+.3f s" % (near - at) if near is not None else "none",
            "%.0f ms for a CPU in the %.1f s around it" % w if w else "?"))
        for t, l in [x for x in log if abs(x[0] - at) <= 1.0][:12]:
            print("  %+.3f %s" % (t - at, l[:150]))
PYEOF
if [ "${UDP_LOST:-1}" != 0 ]; then
	echo "=== hop by hop ($OUT/diag.txt)"
	cat "$ST/diag.txt"
fi
if [ "$STOP_RC" -ne 0 ] || [ $DIED -eq 1 ]; then
	echo "=== strait's log, last 30 lines"
	tail -n 30 "$LOG"
fi

echo "=== soak summary"
cat <<EOF
cpu                 $(lscpu | sed -n 's/^Model name: *//p') ($(nproc --all) cpus)
duration            ${RUN_S} s of load, warm-up ${WARM} s
stay udp stream     sent ${UDP_SENT:-?} at ${UDP_PPS}/s, lost ${UDP_LOST:-?} in $(field "$UDP" loss_runs | "$PY" -c 'import ast,sys; t=sys.stdin.read().strip(); print(len(ast.literal_eval(t)) if t else "?")') runs, duplicates $(field "$UDP" duplicates)
stay tcp stream     $(field "$TCP" sent) bytes sent at ${TCP_RATE} B/s, $(field "$TCP" received) echoed intact, ok $(field "$TCP" ok) $(field "$TCP" error | grep -v '^None$') $([ -n "$(field "$TCP" mismatch_at)" ] && [ "$(field "$TCP" mismatch_at)" != None ] && echo "first difference at byte $(field "$TCP" mismatch_at)")
churn udp (info)    ${SPRAY:-no result}
updates applied     ${UPD} (${UPD_FAIL} refused) in ${RUN_S} s = $((UPD / RUN_S))/s; fresh names ${NAMES} created, ${NAMES_DEL} deleted
tables generations  $GEN0 -> ${GEN1:-?}: $((${GEN1:-0} - ${GEN0:-0})) published
relists             $(stat_of compactions) times the watch history was forgotten and the watches dropped, ${RELISTS} lists again after 410 Expired
converged           $([ $CONVERGED -eq 1 ] && echo yes || echo "no (churn backends '$(churn_backends 2>/dev/null)' want '$want_backends')")
reloads             ${HUPS} SIGHUP sent, ${RELOADS} reloads logged, ${RELOAD_ERR} failed
reads               straitctl ${CTL_N} (${CTL_E} failed), telemetry ${TEL_N} (${TEL_E} failed, ${TEL_REG} generation regressions${TEL_ERR:+; last error: $TEL_ERR}), /metrics ${MET_N} (${MET_E} failed)
worker thread       ${WTID:+tid $WTID on cpu $WCPUS: }$(awk 'NR == 1 { t0 = $1; r0 = $2; w0 = $3 } { if (NR > 1 && $3 - pw > mx) { mx = $3 - pw; at = $1 - t0; dt = $1 - t } pw = $3; t = $1; r = $2; w = $3 }
	END { if (NR < 2) print "?"; else printf "on a CPU %.1f s of %.1f s, waited for one %.3f s (at most %.0f ms in %.1f s, at +%.0f s)\n", (r - r0) / 1e9, t - t0, (w - w0) / 1e9, mx / 1e6, dt, at }' "$ST/worker-sched.txt" 2>/dev/null)
strait rss          start $(mb "$RSS_START") MB (after warm-up), end $(mb "$RSS_END") MB, max $(mb "$RSS_MAX") MB; bound $(mb "$RSS_LIMIT") MB
fake API server     rss $(mb "$FAKE_RSS") MB at the end (it keeps the watch history since the last time it was forgotten)
sanitizer findings  ${SAN_N} lines in strait's log, ${CTL_SAN_N} in straitctl's
strait exit         $([ $DIED -eq 1 ] && echo "died during the run" || echo "status $STOP_RC after SIGINT")
logs                $OUT
EOF
echo "soak case=churn seconds=$RUN_S rate=$RATE names_per_s=$NAMES_PER_S udp_sent=${UDP_SENT:-0}" \
	"udp_lost=${UDP_LOST:-x} tcp_ok=$(field "$TCP" ok) updates=$UPD generations=$((${GEN1:-0} - ${GEN0:-0}))" \
	"reloads=$RELOADS relists=$RELISTS reads=$((CTL_N + TEL_N + MET_N)) rss_start_kb=$RSS_START rss_end_kb=${RSS_END:-0}" \
	"rss_max_kb=$RSS_MAX sanitizer=$((SAN_N + CTL_SAN_N))"

if [ $((UPD / RUN_S)) -lt 100 ]; then
	echo "warning: $((UPD / RUN_S)) updates/s, not the $RATE/s asked for: the machine is too" \
		"busy for the load generators (the fake API server, on CPU ${TOPO_CPU:-any})"
fi
echo "=== verdict"
verdict "stay udp stream: no datagram lost (${UDP_LOST:-no result} of ${UDP_SENT:-?})" \
	"$([ "$UDP_LOST" = 0 ] && [ "$(field "$UDP" warmup_replies)" != 0 ] && echo 0 || echo 1)"
verdict "stay tcp stream: every byte echoed, in order and intact" \
	"$([ "$(field "$TCP" ok)" = True ] && echo 0 || echo 1)"
verdict "no sanitizer finding" "$([ "$((SAN_N + CTL_SAN_N))" -eq 0 ] && echo 0 || echo 1)"
verdict "strait ran to the end and exited 0 on SIGINT" \
	"$([ $DIED -eq 0 ] && [ "$STOP_RC" -eq 0 ] && echo 0 || echo 1)"
verdict "rss at the end $(mb "$RSS_END") MB <= 1.5 x $(mb "$RSS_START") MB + 20 MB" \
	"$([ -n "$RSS_END" ] && [ "$RSS_END" -le "$RSS_LIMIT" ] && echo 0 || echo 1)"
verdict "tables converged to the last objects applied" "$([ $CONVERGED -eq 1 ] && echo 0 || echo 1)"
verdict "updates applied ($UPD) and tables published ($((${GEN1:-0} - ${GEN0:-0})))" \
	"$([ "${UPD:-0}" -gt 0 ] && [ "$((${GEN1:-0} - ${GEN0:-0}))" -gt 0 ] && echo 0 || echo 1)"
FINISHED=1
echo "$PASSED passed, $FAILED failed"
[ $FAILED -eq 0 ]
