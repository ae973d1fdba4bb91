#!/usr/bin/env bash
# strait_pod_test.sh: the container entrypoint (scripts/strait-pod.sh) turns what the pod
# gives into EAL arguments: lcores from the CPU affinity (taskset stands in for the cgroup's
# cpuset), --file-prefix from POD_NAME, -a for each PCIDEVICE_* address (else --no-pci),
# hugepages (a hugetlbfs in a stand-in /proc/mounts) or --no-huge, the default config.
# STRAIT_POD_DRY_RUN prints instead of exec.
# Ends with `N passed, N failed`.
# Usage: strait_pod_test.sh SCRIPT
set -uo pipefail
POD=$1
passed=0 failed=0
check() { # NAME EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then
		passed=$((passed + 1))
		echo "ok - $1"
	else
		failed=$((failed + 1))
		echo "not ok - $1 (expected '$2', got '$3')"
	fi
}
run() { env -i PATH="$PATH" STRAIT_POD_DRY_RUN=1 STRAIT_HUGE_DIR=/nonexistent "$@"; }
cpu=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status | cut -d, -f1 | cut -d- -f1)

check "no pod variables: defaults" \
	"strait -l $cpu --file-prefix strait --no-pci --no-huge -m 512 -- --config /etc/strait/strait.yaml" \
	"$(run taskset -c "$cpu" sh "$POD")"
check "POD_NAME is the file prefix, STRAIT_MEMORY_MB the memory" \
	"strait -l $cpu --file-prefix strait-x7k2p --no-pci --no-huge -m 1024 -- --config /etc/strait/strait.yaml" \
	"$(run POD_NAME=strait-x7k2p STRAIT_MEMORY_MB=1024 taskset -c "$cpu" sh "$POD")"
check "a POD_NAME that is no file name is not used" \
	"strait -l $cpu --file-prefix strait --no-pci --no-huge -m 512 -- --config /etc/strait/strait.yaml" \
	"$(run 'POD_NAME=a/b' taskset -c "$cpu" sh "$POD")"
check "each PCIDEVICE_* address allowed, the args and strait's own options kept" \
	"strait -l $cpu --file-prefix strait -a 0000:3b:02.1 -a 0000:3b:0a.1 --no-huge -m 512 --log-level 7 -- --config /x.yaml" \
	"$(run PCIDEVICE_INTEL_COM_STRAIT_EXT=0000:3b:0a.1 PCIDEVICE_INTEL_COM_STRAIT_INT=0000:3b:02.1 \
		taskset -c "$cpu" sh "$POD" --log-level 7 -- --config /x.yaml)"
# STRAIT_POD_LCORES=N: the first N CPUs of the cpuset (a range expanded), the rest left to
# strait's control threads; a count the cpuset cannot give is exit 2 with a message.
two=$(taskset -pc $$ | sed 's/.*: //' | awk -F, '{ for (i = 1; i <= NF; i++) {
	n = split($i, r, "-"); hi = n == 2 ? r[2] : r[1]
	for (c = r[1] + 0; c <= hi + 0; c++) printf "%s%s", (k++ ? "," : ""), c } } END { print "" }' |
	cut -d, -f1-2)
check "STRAIT_POD_LCORES=1 of two CPUs ($two): the first" \
	"strait -l ${two%%,*} --file-prefix strait --no-pci --no-huge -m 512 -- --config /etc/strait/strait.yaml" \
	"$(run STRAIT_POD_LCORES=1 taskset -c "$two" sh "$POD")"
check "STRAIT_POD_LCORES=2 of two CPUs given as a range: both" \
	"strait -l $two --file-prefix strait --no-pci --no-huge -m 512 -- --config /etc/strait/strait.yaml" \
	"$(run STRAIT_POD_LCORES=2 taskset -c "${two%%,*}-${two##*,}" sh "$POD")"
for n in 3 0 x; do
	out=$(run STRAIT_POD_LCORES=$n taskset -c "$two" sh "$POD" 2>&1)
	check "STRAIT_POD_LCORES=$n of two CPUs: exit 2" 2 "$?"
	check "STRAIT_POD_LCORES=$n of two CPUs: says why" \
		"strait-pod: STRAIT_POD_LCORES=$n: not a count of 1 to the 2 CPUs of this cpuset ($two)" \
		"$out"
done
mounts=$(mktemp)
printf 'proc /proc proc rw 0 0\nnodev /dev/hugepages hugetlbfs rw,pagesize=1024M 0 0\n' >"$mounts"
check "a hugetlbfs at /dev/hugepages (the pod's HugePages emptyDir): hugepages, no files" \
	"strait -l $cpu --file-prefix strait --no-pci --huge-dir /dev/hugepages --in-memory -- --config /etc/strait/strait.yaml" \
	"$(run STRAIT_POD_MOUNTS="$mounts" STRAIT_HUGE_DIR=/dev/hugepages taskset -c "$cpu" sh "$POD")"
rm -f "$mounts"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
