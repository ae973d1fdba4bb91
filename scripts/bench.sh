#!/usr/bin/env bash
# bench.sh: strait's benchmarks, all of them, on a fresh Debian 12 machine (as root).
#
#   1. the pipeline benchmark (tests/bench/pipeline_bench.c): the worker's own code on
#      synthetic bursts, cycles and Mpps per core, bytes per session, from 1K to 16M sessions,
#      new sessions per second, a 90/10 mix;
#   2. the same cases' instructions per packet under valgrind's callgrind;
#   3. the end-to-end benchmark (tests/bench/e2e_bench.sh): strait against the kernel's
#      nftables NAT and Linux IPVS (NAT mode with masquerade; skipped, with a
#      case=e2e-ipvs line saying why, on a kernel without ip_vs) on one netns topology
#      (64-byte UDP pps and loss, TCP, RTT), with the
#      generator's own ceiling (dpdk-testpmd txonly on an af_xdp vdev, case=e2e-gen) and the
#      TCP ceiling of any DPDK application on the same vdevs (dpdk-testpmd io-forward,
#      case=e2e-tcp side=testpmd-io); every e2e line says which side was the bottleneck;
#   3b. rte_flow steering against the handoff ring (tests/bench/flow_bench.sh): two workers
#      on net_tap vdevs, full-NAT replies counted by the worker that received them
#      (case=flow-steer);
#   4. the control plane at scale (tests/bench/cp_scale_bench.c): Kubernetes objects to the
#      first publication, tables memory, endpoint churn (updates/s, change-to-worker p50/p99),
#      with Maglev table reuse and without (--no-reuse: every table computed, as before),
#      and (with the e2e step) tests/e2e/k8s_scale_test.sh: no packet lost during publication.
#
# Usage: scripts/bench.sh [--quick] [--no-pipeline] [--no-callgrind] [--no-e2e] [--no-cpscale]
#   --quick  small sizes of each (1K and 64K sessions, 2-second end-to-end runs): a smoke
#            test for CI that takes a couple of minutes and fails only if a benchmark
#            itself breaks, never on a figure.
# Environment: BUILD (default build), BENCH_HUGEPAGES_MB (full runs: hugepage memory to
# reserve for the 16M-session table, default 4096; 0 = run without hugepages),
# BENCH_QUIET_WAIT_S (full runs: how long to wait for other processes to leave the CPUs,
# default 300).
#
# Every result is also one line `bench case=NAME key=value...` (see docs/benchmarks.md); they
# are repeated together at the end and written to $BUILD/bench-results.txt.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source-path=SCRIPTDIR source=topo.sh
source scripts/topo.sh

BUILD=${BUILD:-build}
QUICK=0 PIPELINE=1 CALLGRIND=1 E2E=1 CPSCALE=1
for arg in "$@"; do
	case $arg in
	--quick) QUICK=1 ;;
	--no-pipeline) PIPELINE=0 ;;
	--no-callgrind) CALLGRIND=0 ;;
	--no-e2e) E2E=0 ;;
	--no-cpscale) CPSCALE=0 ;;
	*)
		echo "bench: unknown argument '$arg'" >&2
		exit 2
		;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (hugepages, network namespaces)" >&2; exit 2; }

topo_require libdpdk-dev dpdk meson:meson ninja:ninja-build pkg-config:pkg-config \
	libjansson-dev libyaml-dev libcurl4-openssl-dev libcmocka-dev libmicrohttpd-dev libmnl-dev libjemalloc-dev libyajl-dev \
	valgrind:valgrind dpdk-testpmd:dpdk sockperf:sockperf iperf3:iperf3 nft:nftables \
	conntrack:conntrack ipvsadm:ipvsadm ethtool:ethtool taskset:util-linux || exit 1
if [ ! -f "$BUILD/build.ninja" ]; then
	meson setup "$BUILD" || exit 1
fi
ninja -C "$BUILD" || exit 1

OUT=$(mktemp /tmp/strait-bench.XXXXXX)
rc=0
step() { # NAME CMD...: run, tee, remember a failure
	local name=$1
	shift
	echo "=== $name: $*"
	"$@" 2>&1 | tee -a "$OUT"
	local r=${PIPESTATUS[0]}
	if [ "$r" -ne 0 ]; then
		echo "bench: $name failed (exit $r)" >&2
		rc=1
	fi
}

echo "=== machine"
lscpu | sed -n 's/^Model name: *//p; s/^CPU(s): *\([0-9]*\)$/cpus \1/p'
awk '/MemTotal/ { printf "memory %.1f GiB\n", $2 / 1048576 }' /proc/meminfo
echo "kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "dpdk $(pkg-config --modversion libdpdk), $(cc --version | head -n 1)"

# Other processes on the CPUs make every figure noise (this machine is shared): wait a
# while for them to go, then say how busy it was.
busy_others() { # percent of both CPUs used by other processes over one second
	local a b
	a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	sleep 1
	b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x); split(b, y); u = y[1] - x[1];
		i = y[2] - x[2]; printf "%d\n", (u + i) ? 100 * u / (u + i) : 0 }'
}
if [ $QUICK -eq 0 ]; then
	for ((i = 0; i < ${BENCH_QUIET_WAIT_S:-300}; i += 5)); do
		[ "$(busy_others)" -lt 10 ] && break
		[ $i -eq 0 ] && echo "bench: waiting for the CPUs to be idle (up to ${BENCH_QUIET_WAIT_S:-300} s)"
		sleep 4
	done
fi
echo "cpu busy before the run: $(busy_others) % (other processes)"
ps -eo pcpu,args --sort=-pcpu | awk 'NR > 1 && $1 >= 10 { print "  busy:", $0 }' | head -n 5

# Hugepages for the full run (the 16M-session table is 1.5 GiB); given back at exit.
HP_SYS=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
HP_OLD=$(cat "$HP_SYS" 2>/dev/null || echo 0)
restore_hp() { echo "$HP_OLD" >"$HP_SYS" 2>/dev/null || true; }
trap restore_hp EXIT
EAL=()
if [ $QUICK -eq 0 ] && [ "${BENCH_HUGEPAGES_MB:-4096}" -gt 0 ]; then
	want=$((${BENCH_HUGEPAGES_MB:-4096} / 2))
	echo $((HP_OLD + want)) >"$HP_SYS" 2>/dev/null
	got=$(($(cat "$HP_SYS") - HP_OLD))
	echo "hugepages: $got of $want 2 MiB pages reserved"
	if [ "$got" -lt "$want" ]; then
		echo "bench: not enough hugepages for 16M sessions; running without" >&2
		restore_hp
		EAL=(-l 1 --no-pci --no-huge --no-shconf -m 8192 --log-level='*:error')
	else
		EAL=(-l 1 --no-pci --in-memory --log-level='*:error')
	fi
else
	EAL=(-l 1 --no-pci --no-huge --no-shconf -m 1024 --log-level='*:error')
fi
[ "$(nproc)" -gt 1 ] || EAL[1]=0

PB=$BUILD/tests/bench/pipeline_bench
if [ $QUICK -eq 1 ]; then
	[ $PIPELINE -eq 1 ] && step pipeline "$PB" "${EAL[@]}" -- --quick --runs 5
	[ $CALLGRIND -eq 1 ] && step callgrind "$PB" "${EAL[@]}" -- --quick --callgrind \
		--case est-o2i-uniform
	[ $E2E -eq 1 ] && step e2e bash tests/bench/e2e_bench.sh --quick "$BUILD/strait"
	[ $E2E -eq 1 ] && step flow bash tests/bench/flow_bench.sh --rounds 3 "$BUILD/strait"
else
	[ $PIPELINE -eq 1 ] && step pipeline "$PB" "${EAL[@]}" -- --runs 5
	[ $CALLGRIND -eq 1 ] && step callgrind "$PB" "${EAL[@]}" -- --callgrind
	# New sessions as on a NIC with rx checksum offload (the L4 checksum is its verdict).
	[ $CALLGRIND -eq 1 ] && step callgrind-rx-cksum "$PB" "${EAL[@]}" -- --callgrind \
		--rx-cksum --case new-
	[ $E2E -eq 1 ] && step e2e bash tests/bench/e2e_bench.sh --runs 3 --duration 10 \
		"$BUILD/strait"
	[ $E2E -eq 1 ] && step flow bash tests/bench/flow_bench.sh "$BUILD/strait"
fi

# The control plane at scale: its own EAL (two lcores: the control thread and one worker).
CB=$BUILD/tests/bench/cp_scale_bench
MB=$BUILD/tests/bench/maglev_bench
if [ $CPSCALE -eq 1 ]; then
	# One Maglev table's build, the part of a changed Service's publication that grows
	# with its table: the default size and the largest, 30 backends.
	step maglev-16381 "$MB" 16381 30
	step maglev-65521 "$MB" 65521 30
fi
if [ $CPSCALE -eq 1 ] && [ $QUICK -eq 1 ]; then
	step cp-scale "$CB" --services 500 --brokers 500 --changes 200 --burst 10
	step cp-scale-rate "$CB" --services 500 --brokers 500 --changes 2000 --rate 10000
	step cp-scale-wire "$CB" --services 500 --brokers 500 --changes 2000 --rate 10000 --wire \
		--rich
	step cp-scale-pool "$CB" --pool-bench 50 --maglev-threads 1
elif [ $CPSCALE -eq 1 ]; then
	# 10,000 mappings: 2,000 Services and 8,000 broker ports (the issue's scale).
	step cp-scale "$CB" --services 2000 --brokers 8000 --changes 1000 --burst 100
	step cp-scale-no-reuse "$CB" --services 2000 --brokers 8000 --changes 200 --burst 100 \
		--no-reuse
	# Sustained: 10,000 changes a second offered for 30 s as an open loop, the loop's own
	# bursts (sustained_per_s leaves out the first quarter and the last publication's lag).
	step cp-scale-rate "$CB" --services 2000 --brokers 8000 --changes 300000 --rate 10000
	# The same with strait's own watch decoding on the same core (a 2-vCPU gateway: the
	# worker has the other), the lines as the API server sends them: the bench's slices,
	# then slices with what the EndpointSlice controller writes besides (--rich).
	step cp-scale-wire "$CB" --services 2000 --brokers 8000 --changes 150000 --rate 10000 \
		--wire
	step cp-scale-wire-rich "$CB" --services 2000 --brokers 8000 --changes 150000 \
		--rate 10000 --wire --rich
	# The latency target (p99 change to every worker <= 10 ms) below saturation: 2,000 and
	# 3,000 changes a second offered, decoding included (docs/benchmarks.md, stop 34).
	step cp-scale-wire-2000 "$CB" --services 2000 --brokers 8000 --changes 12000 --rate 2000 \
		--wire
	step cp-scale-wire-3000 "$CB" --services 2000 --brokers 8000 --changes 18000 --rate 3000 \
		--wire
	# At 10,000 a second with smaller Maglev tables (maglev.tableSize; still over 100 x the
	# Services' 10-50 endpoints for 8191, the paper's rule; 4093 up to 40): the fills are
	# the default size's 0.9 of a core at that rate (docs/benchmarks.md, stop 36).
	step cp-scale-wire-8191 "$CB" --services 2000 --brokers 8000 --changes 80000 --rate 10000 \
		--wire --table-size 8191
	step cp-scale-wire-4093 "$CB" --services 2000 --brokers 8000 --changes 80000 --rate 10000 \
		--wire --table-size 4093
	# maglevThreads: the Maglev tables of a burst to 1,000 Services, on 0..N pool threads
	# (this host's cores but the control thread's).
	step cp-scale-pool "$CB" --pool-bench 1000 --maglev-threads $(($(nproc) - 1))
	# The same objects through the offline mode's loader (--manifests DIR's files).
	MD=$(mktemp -d /tmp/strait-cpscale.XXXXXX)
	step cp-scale-write "$CB" --services 2000 --brokers 8000 --write-manifests "$MD"
	step cp-scale-manifests "$CB" --services 2000 --brokers 8000 --manifests "$MD" --changes 0
	rm -rf "$MD"
	# No packet lost during publication at that scale: the same objects through the fake API
	# server into strait, a UDP stream during endpoint churn (case=cp_zero_loss).
	[ $E2E -eq 1 ] && step cp-zero-loss bash tests/e2e/k8s_scale_test.sh "$BUILD/strait"
fi

echo "=== results"
grep '^bench ' "$OUT" | tee "$BUILD/bench-results.txt"
rm -f "$OUT"
[ $rc -eq 0 ] && echo "bench: done" || echo "bench: a benchmark failed"
exit $rc
