#!/bin/sh
# strait-pod: start strait with the EAL arguments that the pod it runs in gives it, so that
# one manifest serves every node. The container image's entrypoint (Containerfile).
#
#   lcores        -l LIST: the CPUs this process may run on (sched_getaffinity, i.e. the
#                 cgroup's cpuset: exclusive cores under the kubelet CPU manager's static
#                 policy with Guaranteed QoS). The first is the main lcore, the others workers.
#                 STRAIT_POD_LCORES=N: only the first N of them; the others are left to
#                 strait's control threads (the config's `maglevThreads`).
#   --file-prefix $POD_NAME (the downward API's metadata.name), else "strait": two gateways
#                 on one node never share DPDK's runtime files.
#   memory        hugepages when a hugetlbfs is mounted at $STRAIT_HUGE_DIR (default
#                 /dev/hugepages: the pod's emptyDir {medium: HugePages}), EAL taking them as
#                 it needs within the pod's hugepages-* limit (--in-memory: no files left
#                 behind); otherwise --no-huge -m $STRAIT_MEMORY_MB (default 512), for
#                 af_packet/af_xdp ports on nodes without hugepages.
#   devices       -a ADDR for every PCI address in a PCIDEVICE_* variable (the SR-IOV network
#                 device plugin's allocation): EAL probes the pod's VFs and no other device;
#                 no such variable, --no-pci (the ports are netdevs or vdevs).
#
# Usage: strait-pod [EAL ARGS...] [-- STRAIT ARGS...]; without "--", the strait args are
# "--config /etc/strait/strait.yaml". STRAIT_POD_DRY_RUN=1 prints the command instead.
set -eu

STRAIT=${STRAIT:-strait}
HUGE_DIR=${STRAIT_HUGE_DIR:-/dev/hugepages}

cpus=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
if [ -n "${STRAIT_POD_LCORES:-}" ]; then
	# "0-3,8" -> "0,1,2,3,8", then the first N
	all=$(echo "$cpus" | awk -F, '{ for (i = 1; i <= NF; i++) {
		n = split($i, r, "-"); hi = n == 2 ? r[2] : r[1]
		for (c = r[1] + 0; c <= hi + 0; c++) printf "%s%s", (k++ ? "," : ""), c } }
		END { print "" }')
	count=$(echo "$all" | tr ',' '\n' | grep -c .)
	case $STRAIT_POD_LCORES in
	"" | *[!0-9]* | 0*) count=0 ;;
	esac
	if [ "$count" -eq 0 ] || [ "$STRAIT_POD_LCORES" -gt "$count" ]; then
		echo "strait-pod: STRAIT_POD_LCORES=$STRAIT_POD_LCORES: not a count of 1 to the" \
			"$(echo "$all" | tr ',' '\n' | grep -c .) CPUs of this cpuset ($all)" >&2
		exit 2
	fi
	cpus=$(echo "$all" | cut -d, -f1-"$STRAIT_POD_LCORES")
fi
prefix=${POD_NAME:-strait}
case $prefix in
*[!A-Za-z0-9._-]* | "") prefix=strait ;;
esac

if awk -v d="$HUGE_DIR" '$2 == d && $3 == "hugetlbfs" { f = 1 } END { exit !f }' \
	"${STRAIT_POD_MOUNTS:-/proc/mounts}"; then
	set -- --huge-dir "$HUGE_DIR" --in-memory "$@"
else
	set -- --no-huge -m "${STRAIT_MEMORY_MB:-512}" "$@"
fi
pci=$(env | sed -n 's/^PCIDEVICE_[A-Za-z0-9_]*=//p' | tr ',' ' ')
if [ -n "$pci" ]; then
	for a in $pci; do set -- -a "$a" "$@"; done
else
	set -- --no-pci "$@"
fi
case " $* " in
*" -- "*) ;;
*) set -- "$@" -- --config /etc/strait/strait.yaml ;;
esac
set -- "$STRAIT" -l "$cpus" --file-prefix "$prefix" "$@"
if [ "${STRAIT_POD_DRY_RUN:-0}" = 1 ]; then
	echo "$@"
	exit 0
fi
echo "strait-pod: $*" >&2
exec "$@"
