# shellcheck shell=bash
# scripts/topo.sh: network-namespace topology for strait's demo, e2e tests and benchmarks.
# Source it; it only defines functions and defaults and runs nothing by itself.
#
#   ${P}c  eth0 198.51.100.2/24 ─veth─ st-gx ┐
#   ${P}g  strait on st-gx/st-gi (af_packet vdevs), or the kernel after topo_kernel_nat
#          (ext 198.51.100.1/24, int 10.0.0.1/24: the addresses of config/strait.yaml)
#                                      st-gi ┘─veth─ gi ┐
#   ${P}n  bridge br0 (a plain L2 switch)              ├─ p0 ─veth─ eth0  ${P}p0  10.0.0.11/24
#                                                      └─ p1 ─veth─ eth0  ${P}p1  10.0.0.12/24 ...
#
# Every name derives from the prefix $P (default st$$) and every interface is created inside
# its namespace, never in the root one, so concurrent runs cannot collide and topo_down
# removes exactly what this run made. Interface names stay <= 15 characters (IFNAMSIZ).
#
# State (recorded PIDs, logs, the pod count) lives in $TOPO_STATE (default
# /tmp/strait-topo.$P) so that topo_down works from a trap or from another shell with the same
# P. topo_down deletes it unless TOPO_KEEP_STATE is set (to read strait.log after a failure).
#
# Functions:
#   topo_require CMD:PKG|PKG...       apt-get install what is missing (fresh machines)
#   topo_up NPODS                     namespaces, veths, bridge, addresses, offloads
#   topo_servers_start [NPODS]        per pod: HTTP :80 ("pod-i\n"), UDP echo :7; redis on pod 0
#   topo_kernel_nat                   the gateway's kernel does the NAT (nftables), same
#                                     mappings as config/strait.yaml
#   topo_down                         kill recorded PIDs, delete namespaces; idempotent
#   in_client|in_gw CMD...            run in the client / gateway namespace
#   in_pod I CMD...                   run in pod I's namespace
#   client_curl ARGS...               curl from the client, bounded, no proxy, no curlrc
#   client_udp HOST PORT [TIMEOUT_S]  stdin as one datagram from the client; reply on stdout
#   topo_pod_addr I                   pod I's address
#   strait_start BUILD_DIR|BINARY CONFIG [DAEMON_ARGS...]   start strait in ${P}g, wait ready
#   strait_stop                       SIGINT, bounded wait; returns the daemon's exit status

: "${P:=st$$}"
# Servers and clients go on this CPU so that strait's worker (lcore 1 on core 1) polls alone;
# empty disables pinning.
: "${TOPO_CPU:=0}"
: "${TOPO_STATE:=}"

TOPO_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOPO_CLIENT_ADDR=198.51.100.2
TOPO_EXT_ADDR=198.51.100.1
TOPO_INT_ADDR=10.0.0.1
TOPO_NPODS=${TOPO_NPODS:-}
STRAIT_PID=${STRAIT_PID:-}
STRAIT_LOG=${STRAIT_LOG:-}
# Extra EAL arguments for strait_start (word-split), e.g. "--log-level=lib.eal:debug".
: "${STRAIT_EAL_EXTRA:=}"
# strait's lcores: the main lcore on core 0, the worker alone on core 1. Two workers on two
# cores: STRAIT_LCORES="--lcores 0@0,1@1,2@1" (they share core 1: slower, same behaviour).
: "${STRAIT_LCORES:=-l 0,1}"
# Appended to both vdev strings, e.g. ",qpairs=2" for two af_packet workers.
: "${STRAIT_VDEV_OPTS:=}"
# The PMD of both ports; the config's devices must be ${STRAIT_PMD}0 and ${STRAIT_PMD}1.
# net_af_packet joins a PACKET_FANOUT group with the DEFRAG flag, so the kernel reassembles
# IPv4 fragments before strait sees them; net_af_xdp hands strait the frames as sent.
: "${STRAIT_PMD:=net_af_packet}"
# Frames in each af_packet ring (the PMD's default is 512): 4096, as many as a NIC's rx
# descriptors, so that a worker held up for a few milliseconds by the hypervisor or the
# kernel loses nothing at moderate rates (512 frames are 10 ms at 50 kpps).
: "${STRAIT_AFP_FRAMES:=4096}"

# What topo_up and the servers need: command:package, checked with command -v.
TOPO_DEPS=(ip:iproute2 ss:iproute2 ethtool:ethtool taskset:util-linux python3:python3
	socat:socat curl:curl redis-server:redis-server redis-cli:redis-tools)

_topo_log() { echo "topo: $*" >&2; }

# Computed on use, not at source time, so a caller may set P after sourcing.
_topo_state() { echo "${TOPO_STATE:-/tmp/strait-topo.$P}"; }

_topo_check_prefix() {
	# The prefix goes into a grep pattern (teardown) and into DPDK's --file-prefix.
	if [[ ! $P =~ ^[A-Za-z0-9_-]{1,16}$ ]]; then
		_topo_log "bad prefix P='$P' (want 1-16 of [A-Za-z0-9_-])"
		return 1
	fi
}

# Debian's python3 has nothing of a user's pyenv/venv between it and the servers.
_topo_python() {
	if [ -x /usr/bin/python3 ]; then echo /usr/bin/python3; else command -v python3; fi
}

_topo_pin() {
	if [ -n "$TOPO_CPU" ] && command -v taskset >/dev/null 2>&1; then
		echo taskset -c "$TOPO_CPU"
	fi
}

# topo_require SPEC...: SPEC is CMD:PKG (installed if CMD is not on PATH) or PKG alone
# (installed if dpkg does not have it: libraries have no command to look for).
topo_require() {
	local spec cmd pkg missing=()
	for spec in "$@"; do
		if [[ $spec == *:* ]]; then
			cmd=${spec%%:*} pkg=${spec#*:}
			command -v "$cmd" >/dev/null 2>&1 && continue
		else
			pkg=$spec
			[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] &&
				continue
		fi
		[[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	_topo_log "installing missing packages: ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# Our namespaces only: ${P} followed by exactly c, g, n or pN.
_topo_namespaces() {
	ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${P}(c|g|n|p[0-9]+)\$" || true
}

# _topo_sysctl NS KEY=VALUE...: written through /proc so procps is not needed; keys use
# slashes (net/ipv4/ip_forward) because interface names may contain dots.
_topo_sysctl() {
	local ns=$1
	shift
	# shellcheck disable=SC2016 # expanded by the inner sh
	ip netns exec "$ns" sh -c '
		for kv; do
			f=/proc/sys/${kv%%=*}
			[ -e "$f" ] || continue   # e.g. no IPv6 or no br_netfilter in this kernel
			echo "${kv#*=}" >"$f" || exit 1
		done' _ "$@"
}

# Alive and not a zombie: a child of this shell stays in /proc until it is waited for.
_topo_alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# True if PID is inside one of our namespaces: a recorded PID may have died and been reused
# by an unrelated process, which must not be signalled.
_topo_pid_is_ours() {
	local ns
	ns=$(ip netns identify "$1" 2>/dev/null) || return 1
	[[ $ns =~ ^${P}(c|g|n|p[0-9]+)$ ]]
}

# _topo_stop_pids PID...: SIGTERM, up to 5 s for all of them, then SIGKILL; reaps children.
_topo_stop_pids() {
	local pid i alive
	for pid in "$@"; do
		if _topo_pid_is_ours "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
	done
	for ((i = 0; i < 50; i++)); do
		alive=0
		for pid in "$@"; do
			_topo_alive "$pid" && _topo_pid_is_ours "$pid" && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for pid in "$@"; do
		if _topo_alive "$pid" && _topo_pid_is_ours "$pid"; then
			_topo_log "pid $pid ignored SIGTERM for 5 s; SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		# Only our own children can be waited for; others were reaped by init.
		wait "$pid" 2>/dev/null || true
	done
	return 0
}

topo_pod_addr() { echo "10.0.0.$((11 + $1))"; }

_topo_npods() {
	local n=${TOPO_NPODS:-}
	[ -n "$n" ] || n=$(cat "$(_topo_state)/npods" 2>/dev/null)
	echo "${n:-0}"
}

# _topo_ipv6_off NS IF...: no link-local addresses, router or neighbour solicitations, MLD:
# nothing but the test's own packets reaches strait's counters.
_topo_ipv6_off() {
	local ns=$1 ifc kv=()
	shift
	for ifc in all default "$@"; do
		kv+=("net/ipv6/conf/$ifc/disable_ipv6=1")
	done
	_topo_sysctl "$ns" "${kv[@]}"
}

# topo_up NPODS: build the topology. On failure returns 1 and leaves the pieces for topo_down.
topo_up() {
	local n=${1:-} i ns st pod pods=()
	if [[ ! $n =~ ^[0-9]+$ ]] || [ "$n" -lt 1 ] || [ "$n" -gt 200 ]; then
		_topo_log "usage: topo_up NPODS (1..200)"
		return 1
	fi
	[ "$(id -u)" -eq 0 ] || { _topo_log "topo_up needs root"; return 1; }
	_topo_check_prefix || return 1
	topo_require "${TOPO_DEPS[@]}" || return 1
	if [ -n "$(_topo_namespaces)" ]; then
		_topo_log "namespaces with prefix $P already exist; run topo_down first"
		return 1
	fi
	st=$(_topo_state)
	mkdir -p "$st" && echo "$n" >"$st/npods" || return 1
	TOPO_NPODS=$n
	for ((i = 0; i < n; i++)); do pods+=("${P}p$i"); done

	# IPv6 off in each namespace before any interface exists, so none ever gets an address.
	for ns in "${P}c" "${P}g" "${P}n" "${pods[@]}"; do
		ip netns add "$ns" || { _topo_log "ip netns add $ns failed"; return 1; }
		_topo_ipv6_off "$ns" lo || return 1
		ip -n "$ns" link set lo up || return 1
	done

	# Each veth is created with both ends already in their namespaces (one netlink request).
	ip -n "${P}c" link add eth0 type veth peer name st-gx netns "${P}g" || return 1
	ip -n "${P}g" link add st-gi type veth peer name gi netns "${P}n" || return 1
	# forward_delay 0: with STP off a port forwards at once; no learning-state pause.
	ip -n "${P}n" link add br0 type bridge forward_delay 0 || return 1
	ip -n "${P}n" link set gi master br0 || return 1
	for ((i = 0; i < n; i++)); do
		ip -n "${P}p$i" link add eth0 type veth peer name "p$i" netns "${P}n" || return 1
		ip -n "${P}n" link set "p$i" master br0 || return 1
	done

	# If br_netfilter is loaded, bridged frames would otherwise cross the switch's (empty)
	# netfilter hooks: work the switch should not do, and noise in a benchmark.
	_topo_sysctl "${P}n" net/bridge/bridge-nf-call-iptables=0 \
		net/bridge/bridge-nf-call-ip6tables=0 net/bridge/bridge-nf-call-arptables=0 || return 1

	# Checksum offload off on the senders: veth would otherwise hand af_packet/af_xdp
	# CHECKSUM_PARTIAL frames whose TCP/UDP checksum is not yet filled in, and strait would
	# forward (and count) bad checksums. TSO/GSO off so every frame is a real MTU-sized frame.
	ip netns exec "${P}c" ethtool -K eth0 tx off tso off gso off >/dev/null || return 1
	for ns in "${pods[@]}"; do
		ip netns exec "$ns" ethtool -K eth0 tx off tso off gso off >/dev/null || return 1
	done
	# The gateway's ends are strait's ports: no GRO either (af_packet must see wire frames),
	# and promiscuous, because strait answers for addresses the kernel does not know about.
	for i in st-gx st-gi; do
		ip netns exec "${P}g" ethtool -K "$i" gro off tx off tso off gso off >/dev/null ||
			return 1
		ip -n "${P}g" link set "$i" promisc on || return 1
	done
	# The switch's ports too, so the switch forwards frames exactly as they were sent.
	ip netns exec "${P}n" ethtool -K gi gro off tx off tso off gso off >/dev/null || return 1
	for ((i = 0; i < n; i++)); do
		ip netns exec "${P}n" ethtool -K "p$i" gro off tx off tso off gso off >/dev/null ||
			return 1
	done

	_topo_ipv6_off "${P}c" eth0 || return 1
	_topo_ipv6_off "${P}g" st-gx st-gi || return 1
	local nports=(br0 gi)
	for ((i = 0; i < n; i++)); do nports+=("p$i"); done
	_topo_ipv6_off "${P}n" "${nports[@]}" || return 1
	for ns in "${pods[@]}"; do _topo_ipv6_off "$ns" eth0 || return 1; done

	# Addresses, and links up (the pods' default route needs eth0 up to be on-link).
	ip -n "${P}c" addr add "$TOPO_CLIENT_ADDR/24" dev eth0 || return 1
	ip -n "${P}c" link set eth0 up || return 1
	ip -n "${P}g" link set st-gx up || return 1
	ip -n "${P}g" link set st-gi up || return 1
	for i in "${nports[@]}"; do ip -n "${P}n" link set "$i" up || return 1; done
	for ((i = 0; i < n; i++)); do
		pod="${P}p$i"
		ip -n "$pod" addr add "$(topo_pod_addr "$i")/24" dev eth0 || return 1
		ip -n "$pod" link set eth0 up || return 1
		ip -n "$pod" route add default via "$TOPO_INT_ADDR" || return 1
	done
	_topo_log "up: prefix $P, $n pods, state in $st"
}

# _topo_spawn NAME NS CMD...: start CMD in NS in the background, log to $st/NAME.log,
# record its PID. ip netns exec and taskset both exec, so $! is the server itself. The
# command substitution detaches it from this shell: no job notices, init reaps it.
_topo_spawn() {
	local name=$1 ns=$2 st pid
	shift 2
	st=$(_topo_state)
	# shellcheck disable=SC2046 # _topo_pin is meant to split into words
	pid=$(ip netns exec "$ns" $(_topo_pin) "$@" >"$st/$name.log" 2>&1 </dev/null & echo $!)
	echo "$pid $name" >>"$st/pids"
	echo "$pid"
}

# topo_servers_start [NPODS]: waits (bounded, 10 s) until every server listens.
topo_servers_start() {
	local n=${1:-$(_topo_npods)} i t st py socks want have pids=() names=()
	[ "$n" -ge 1 ] 2>/dev/null || { _topo_log "topo_servers_start: no pods (topo_up first)"; return 1; }
	topo_require python3:python3 redis-server:redis-server || return 1
	st=$(_topo_state)
	py=$(_topo_python)
	for ((i = 0; i < n; i++)); do
		pids+=("$(_topo_spawn "http-$i" "${P}p$i" "$py" "$TOPO_SCRIPTS/pod_http.py" http "pod-$i" 80)")
		names+=("http-$i")
		pids+=("$(_topo_spawn "udp-$i" "${P}p$i" "$py" "$TOPO_SCRIPTS/pod_http.py" udp-echo 7)")
		names+=("udp-$i")
	done
	pids+=("$(_topo_spawn redis "${P}p0" redis-server --port 6379 --save '' --appendonly no \
		--protected-mode no --bind 0.0.0.0 --daemonize no --dir "$st" --logfile '')")
	names+=(redis)

	for ((t = 0; t < 100; t++)); do
		# Sockets expected: http and udp echo in every pod, plus redis in pod 0.
		have=0 want=$((2 * n + 1))
		for ((i = 0; i < n; i++)); do
			socks=$(ip netns exec "${P}p$i" ss -Hltun 2>/dev/null || true)
			if grep -qE '^tcp .*:80 ' <<<"$socks"; then have=$((have + 1)); fi
			if grep -qE '^udp .*:7 ' <<<"$socks"; then have=$((have + 1)); fi
			if [ "$i" -eq 0 ] && grep -qE '^tcp .*:6379 ' <<<"$socks"; then
				have=$((have + 1))
			fi
		done
		[ $have -eq $want ] && return 0
		for ((i = 0; i < ${#pids[@]}; i++)); do
			if ! _topo_alive "${pids[i]}"; then
				_topo_log "server ${names[i]} (pid ${pids[i]}) died; its log:"
				sed 's/^/  | /' "$st/${names[i]}.log" >&2
				return 1
			fi
		done
		sleep 0.1
	done
	_topo_log "servers not listening after 10 s ($have of $want sockets)"
	return 1
}

# topo_kernel_nat: the Linux kernel in ${P}g becomes the gateway, with the mappings of
# config/strait.yaml: tcp 8080 -> a random pod :80, udp 7777 -> a random pod :7,
# tcp 32000+i -> pod i :80, tcp 6379 -> pod 0 :6379, masquerade toward the pods (full NAT,
# like strait). The reference strait is compared against, and a way to test the topology
# without strait.
topo_kernel_nat() {
	local n i g="${P}g" map="" brokers=""
	n=$(_topo_npods)
	[ "$n" -ge 1 ] || { _topo_log "topo_kernel_nat: no pods (topo_up first)"; return 1; }
	topo_require nft:nftables || return 1
	for ((i = 0; i < n; i++)); do
		map+="${map:+, }$i : $(topo_pod_addr "$i")"
		brokers+="		ip daddr $TOPO_EXT_ADDR tcp dport $((32000 + i)) counter dnat to $(topo_pod_addr "$i"):80"$'\n'
	done
	ip -n "$g" addr add "$TOPO_EXT_ADDR/24" dev st-gx || return 1
	ip -n "$g" addr add "$TOPO_INT_ADDR/24" dev st-gi || return 1
	_topo_sysctl "$g" net/ipv4/ip_forward=1 || return 1
	# numgen random: a new connection (conntrack entry) picks its pod, as a Service would.
	# The forward chain passes only what a mapping translated, as strait does: no routing
	# between the sides for anything else.
	ip netns exec "$g" nft -f - <<EOF || { _topo_log "nft ruleset failed"; return 1; }
table ip strait_knat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $TOPO_EXT_ADDR tcp dport 8080 counter dnat to numgen random mod $n map { $map } : 80
		ip daddr $TOPO_EXT_ADDR udp dport 7777 counter dnat to numgen random mod $n map { $map } : 7
${brokers}		ip daddr $TOPO_EXT_ADDR tcp dport 6379 counter dnat to $(topo_pod_addr 0):6379
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "st-gi" counter masquerade
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct status dnat accept
	}
}
EOF
	_topo_log "kernel NAT on in $g ($n pods)"
}

# topo_down: idempotent, quiet when there is nothing to do, never fails (trap-safe).
topo_down() {
	local st pid name ns pids=()
	_topo_check_prefix || return 0
	st=$(_topo_state)
	if [ -f "$st/pids" ]; then
		while read -r pid name; do
			[[ $pid =~ ^[0-9]+$ ]] && pids+=("$pid")
		done <"$st/pids"
	fi
	# Then anything else still running inside our namespaces (a client a test left behind).
	for ns in $(_topo_namespaces); do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do pids+=("$pid"); done
	done
	if [ ${#pids[@]} -gt 0 ]; then _topo_stop_pids "${pids[@]}"; fi
	for ns in $(_topo_namespaces); do
		ip netns del "$ns" 2>/dev/null || _topo_log "could not delete netns $ns"
	done
	# strait's EAL runtime directory (--file-prefix $P).
	rm -rf "/var/run/dpdk/$P" 2>/dev/null || true
	[ -n "${TOPO_KEEP_STATE:-}" ] || rm -rf "$st" 2>/dev/null || true
	STRAIT_PID=
	TOPO_NPODS=
	return 0
}

in_client() {
	# shellcheck disable=SC2046
	ip netns exec "${P}c" $(_topo_pin) "$@"
}

in_gw() {
	ip netns exec "${P}g" "$@"
}

in_pod() {
	local i=$1
	shift
	# shellcheck disable=SC2046
	ip netns exec "${P}p$i" $(_topo_pin) "$@"
}

# client_curl ARGS...: -q first so no ~/.curlrc applies, no proxy from the environment, and
# bounded (a later --max-time in ARGS wins).
client_curl() {
	in_client curl -q -sS --noproxy '*' --connect-timeout 3 --max-time 10 "$@"
}

# client_udp HOST PORT [TIMEOUT_S] <PAYLOAD >REPLY: one datagram, one reply, exact bytes.
client_udp() {
	in_client "$(_topo_python)" "$TOPO_SCRIPTS/pod_http.py" udp-client "$@"
}

# strait_start BUILD_DIR|BINARY CONFIG [DAEMON_ARGS...]: run strait in ${P}g on af_packet
# vdevs over st-gx (ext) and st-gi (int); wait up to 20 s for "strait: ready" in its log.
# Call it from the shell that will call strait_stop (not in $(...) or a pipeline): the
# exit status can only be collected by the daemon's parent.
strait_start() {
	local build=${1:-} config=${2:-} bin st i rc
	if [ -z "$build" ] || [ -z "$config" ]; then
		_topo_log "usage: strait_start BUILD_DIR CONFIG [DAEMON_ARGS...]"
		return 1
	fi
	shift 2
	if [ -f "$build" ]; then bin=$build; else bin=$build/strait; fi
	[ -x "$bin" ] || { _topo_log "no strait binary at $bin"; return 1; }
	[ -r "$config" ] || { _topo_log "cannot read config $config"; return 1; }
	if [ -n "$STRAIT_PID" ] && _topo_alive "$STRAIT_PID"; then
		_topo_log "strait already running (pid $STRAIT_PID)"
		return 1
	fi
	st=$(_topo_state)
	mkdir -p "$st" || return 1
	local opts=$STRAIT_VDEV_OPTS
	[ "$STRAIT_PMD" = net_af_packet ] && [[ $opts != *framecnt=* ]] &&
		opts=",framecnt=$STRAIT_AFP_FRAMES$opts"
	# shellcheck disable=SC2034 # for callers: the binary that runs, and its log
	STRAIT=$bin
	STRAIT_LOG=$st/strait.log
	# env --default-signal: a background job of a non-interactive shell starts with SIGINT
	# ignored, and strait_stop's SIGINT must reach the daemon whatever it does about that.
	# shellcheck disable=SC2086 # STRAIT_EAL_EXTRA is a word list
	# shellcheck disable=SC2086 # STRAIT_LCORES is a word list
	# setsid: a session of its own is a scheduling group of its own (the kernel's autogroup),
	# so the worker's core is not shared out by group weight with this shell's load
	# generators and servers (without it the worker got 3-4 % of its core under load, and
	# the rx rings overflowed). setsid does not fork here (a background job of a
	# non-interactive shell is no group leader): $! is strait's PID.
	: >"$STRAIT_LOG" # not by the redirect below alone: the wait must not read a previous run's
	ip netns exec "${P}g" setsid env --default-signal=INT,QUIT "$bin" $STRAIT_LCORES --no-pci --no-huge \
		-m 512 --file-prefix "$P" --vdev "${STRAIT_PMD}0,iface=st-gx$opts" \
		--vdev "${STRAIT_PMD}1,iface=st-gi$opts" $STRAIT_EAL_EXTRA \
		-- --config "$config" "$@" \
		>"$STRAIT_LOG" 2>&1 </dev/null &
	STRAIT_PID=$!
	echo "$STRAIT_PID strait" >>"$st/pids"
	for ((i = 0; i < 200; i++)); do
		grep -qF 'strait: ready' "$STRAIT_LOG" && return 0
		if ! _topo_alive "$STRAIT_PID"; then
			rc=0
			wait "$STRAIT_PID" || rc=$?
			_topo_log "strait exited with status $rc before it was ready; its log:"
			sed 's/^/  | /' "$STRAIT_LOG" >&2
			STRAIT_PID=
			return 1
		fi
		sleep 0.1
	done
	_topo_log "strait not ready after 20 s; its log:"
	sed 's/^/  | /' "$STRAIT_LOG" >&2
	_topo_stop_pids "$STRAIT_PID"
	STRAIT_PID=
	return 1
}

# strait_stop: SIGINT (strait prints its final counters and exits), up to 10 s, then
# SIGKILL. Returns the daemon's exit status, 124 if it had to be killed.
strait_stop() {
	local pid=$STRAIT_PID i rc=0
	if [ -z "$pid" ]; then
		_topo_log "strait_stop: strait is not running"
		return 1
	fi
	kill -INT "$pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		_topo_alive "$pid" || break
		sleep 0.1
	done
	if _topo_alive "$pid"; then
		_topo_log "strait (pid $pid) still running 10 s after SIGINT; SIGKILL"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		rc=124
	else
		wait "$pid" || rc=$?
	fi
	STRAIT_PID=
	return $rc
}
