# shellcheck shell=bash
# tests/e2e/lib.sh: helpers for strait's end-to-end tests. Source it from a test:
#
#   set -euo pipefail
#   source "$(dirname "$0")/lib.sh"
#   e2e_require_root
#   topo_up 3 && topo_servers_start 3 ...
#   check_eq "broker-0 answered by pod-0" pod-0 "$(client_curl http://198.51.100.1:32000/)"
#   e2e_finish
#
# It sources scripts/topo.sh (so every topo_*, in_*, client_* and strait_* function is here)
# and installs an EXIT trap that always runs topo_down, whether the test finishes, fails a
# setup step under set -e, or is interrupted. The check helpers never abort the run: a test
# reports every check it reached. A test that ends without e2e_finish still prints the
# summary line, counting the abort as a failure.
#
#   check NAME CMD...               ok if CMD exits 0
#   check_eq NAME EXPECTED ACTUAL   ok if the strings are equal
#   check_match NAME ERE ACTUAL     ok if ACTUAL matches the extended regex (whole string)
#   wait_for TIMEOUT_S CMD...       poll CMD every 0.1 s until it succeeds; 1 on timeout
#   e2e_cpu_load N SECONDS          N CPU-bound processes beside the test (below)
#   e2e_finish                      print "N passed, N failed"; exit 1 if any failed
#   k8s_e2e_init [BINARY]           the start of a test against the fake API server
#                                   (tests/k8s/fake_api.sh), below

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=$(cd "$E2E_DIR/../.." && pwd)
# shellcheck source-path=SCRIPTDIR/../.. source=scripts/topo.sh
source "$E2E_ROOT/scripts/topo.sh"

E2E_PASSED=0
E2E_FAILED=0
E2E_FINISHED=0

# Long values (a body, a log) would bury the summary; the start is enough to see what differs.
_e2e_show() {
	local v=$1
	v=${v//$'\n'/\\n}
	[ ${#v} -le 200 ] || v="${v:0:200}..."
	printf '%s' "$v"
}

_e2e_ok() {
	E2E_PASSED=$((E2E_PASSED + 1))
	echo "ok - $1"
}

_e2e_not_ok() {
	E2E_FAILED=$((E2E_FAILED + 1))
	echo "not ok - $1 (expected $2, got $3)"
	# One failing run must be enough to diagnose it: what strait was saying at that moment.
	if [ -n "${STRAIT_LOG:-}" ] && [ -s "$STRAIT_LOG" ]; then
		echo "  strait's log, last 15 lines ($STRAIT_LOG):"
		tail -n 15 "$STRAIT_LOG" | sed 's/^/  | /'
	fi
}

check() {
	local name=$1 rc=0
	shift
	"$@" || rc=$?
	if [ $rc -eq 0 ]; then
		_e2e_ok "$name"
	else
		_e2e_not_ok "$name" "exit 0" "exit $rc"
	fi
	return 0
}

check_eq() {
	local name=$1 expected=$2 actual=$3
	if [ "$expected" = "$actual" ]; then
		_e2e_ok "$name"
	else
		_e2e_not_ok "$name" "'$(_e2e_show "$expected")'" "'$(_e2e_show "$actual")'"
	fi
	return 0
}

check_match() {
	local name=$1 re=$2 actual=$3
	if [[ $actual =~ ^($re)$ ]]; then
		_e2e_ok "$name"
	else
		_e2e_not_ok "$name" "/$re/" "'$(_e2e_show "$actual")'"
	fi
	return 0
}

wait_for() {
	local timeout_s=$1 i
	shift
	for ((i = 0; i < timeout_s * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# until_s SECONDS CMD...: poll CMD until it succeeds, for at most SECONDS of wall clock (every
# ${UNTIL_POLL_S:-0.1} s). wait_for counts polls, not time: a poll that waits itself (a
# connection's timeout, a `show` over 10,000 mappings) would stretch it many-fold.
until_s() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep "${UNTIL_POLL_S:-0.1}"
	done
}

# e2e_cpu_load N SECONDS: N CPU-bound processes (a busy loop each, SECONDS at most), the other
# work of a shared host, for a test that must hold on a loaded machine (a 2-vCPU box running
# two gateways, a router and its clients is loaded already). They run in the test's bridge
# namespace ${P}n, so topo_down stops them by pid; call it after the namespaces exist.
e2e_cpu_load() {
	local i
	for ((i = 0; i < $1; i++)); do
		ip netns exec "${P}n" "$(_topo_python)" -c 'import sys, time
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    pass' "$2" </dev/null >/dev/null 2>&1 &
		echo "$! cpu-load" >>"$(_topo_state)/pids"
	done
}

e2e_finish() {
	E2E_FINISHED=1
	# Tear down first so that the summary really is the last line.
	topo_down
	echo "$E2E_PASSED passed, $E2E_FAILED failed"
	# No check at all means the test proved nothing; treat it as a failure.
	if [ "$E2E_FAILED" -ne 0 ] || [ "$E2E_PASSED" -eq 0 ]; then
		exit 1
	fi
	exit 0
}

# meson counts exit 77 as "skipped".
e2e_require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "skip: e2e tests need root (network namespaces)"
		E2E_FINISHED=1
		exit 77
	fi
}

# k8s_e2e_init [BINARY]: root and the fake API server's tools (or skip, or fail), then the
# variables tests/k8s/fake_api.sh and its tests use: BIN (BINARY, default build/strait),
# STRAITCTL beside it, EXT (the gateway's external address), K8S_DIR, PY, API_PORT (6443 on
# the gateway namespace's loopback), CTL (the server's control endpoint) and TOKEN (a new
# bearer token each run).
# shellcheck disable=SC2034 # for the test that calls it
k8s_e2e_init() {
	e2e_require_root
	topo_require openssl:openssl python3:python3 base64:coreutils
	BIN=${1:-$E2E_ROOT/build/strait}
	STRAITCTL=$(dirname "$BIN")/straitctl
	EXT=$TOPO_EXT_ADDR
	K8S_DIR=$E2E_ROOT/tests/k8s
	PY=$(_topo_python)
	API_PORT=6443
	CTL=http://127.0.0.1:6444
	TOKEN=strait-e2e-$RANDOM$RANDOM
}

_e2e_on_exit() {
	local rc=$?
	trap - EXIT
	topo_down
	if [ "$E2E_FINISHED" -eq 0 ]; then
		_e2e_not_ok "test ran to the end" "e2e_finish" "exit $rc before it"
		echo "$E2E_PASSED passed, $E2E_FAILED failed"
		[ $rc -ne 0 ] || rc=1
	fi
	exit $rc
}

trap _e2e_on_exit EXIT
# The EXIT trap runs on these only if the shell exits through them.
trap 'exit 130' INT
trap 'exit 143' TERM
