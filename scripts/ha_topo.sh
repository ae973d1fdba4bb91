# shellcheck shell=bash
# scripts/ha_topo.sh: what strait's two HA topologies share (tests/e2e/ha_vrrp_test.sh and
# scripts/ha_bgp_topo.sh): two gateway namespaces between two bridges. Source it after
# scripts/topo.sh (tests/e2e/lib.sh does that); it defines functions and runs nothing.
#
#   ha_fabric_up NS_B UP_NS UP_IF UP_PEER [NS...]
#       namespaces ${P}c (client), ${P}g (gateway A), NS_B (gateway B), ${P}n (the bridges),
#       ${P}p0 (a pod) and NS...; in ${P}n the bridges bx (ext side) and bi (int side);
#       UP_NS's UP_IF on bx (its peer there: UP_PEER), each gateway's gx on bx and gi on bi,
#       the pod's eth0 on bi; offloads, IPv6 off; links up; on the gateways gx and gi
#       promiscuous, the kernel's own ingress on them dropped. No addresses.
#   ha_gw_start NS PREFIX CONFIG LOG
#       strait ($STRAIT_BIN) in NS on af_packet over gx (ext) and gi (int), its own
#       --file-prefix PREFIX, output to LOG; prints its PID once ready (recorded in $ST/pids
#       for topo_down); returns 1 with the log on stderr if it did not start.
#   ha_ka_config PRIORITY ADVERT EXT_IF INT_IF [EXT_TRACK INT_TRACK]
#       stock keepalived's config (stdout) of a gateway: the ext VIP 198.51.100.1/32 on
#       EXT_IF (virtual_router_id 51) and the int VIP 10.0.0.1/24 on INT_IF (52), in one
#       vrrp_sync_group, state BACKUP (preempt), PRIORITY, advert_int ADVERT (1: VRRPv2, as
#       stock; a sub-second one VRRPv3, which counts in centiseconds), each instance's
#       track_interface if given; with HA_KA_GARP="DELAY REPEAT", vrrp_garp_master_delay and
#       vrrp_garp_master_repeat (stock 5 and 5).
#   ha_sync_stat SOCK NAME
#       a session sync counter of the gateway whose CLI socket is SOCK (`show stats`, its
#       "sync" object), or -1 if it does not answer.
#   ha_flows_stop FILE T0_NS S
#       ends the flows of the client script FILE (it runs until FILE.stop exists) S s after
#       T0_NS (date +%s%N), not before: a failover is measured S s after its cause, however
#       long the steps before it took on a loaded machine.
# The caller sets ST (the state directory, from _topo_state) and STRAIT_BIN.

ha_sync_stat() {
	"$(dirname "$STRAIT_BIN")/straitctl" -s "$1" -j show stats 2>/dev/null |
		"$(_topo_python)" -c 'import json, sys; print(json.load(sys.stdin)["sync"][sys.argv[1]])' \
			"$2" || echo -1
}

ha_flows_stop() {
	local left=$((($3 * 1000000000 - ($(date +%s%N) - $2)) / 1000000))
	[ "$left" -le 0 ] || sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"
	: >"$1.stop"
}

ha_fabric_up() {
	local nsb=$1 up_ns=$2 up_if=$3 up_peer=$4 ns i
	shift 4
	mkdir -p "$ST"
	for ns in "${P}c" "${P}g" "$nsb" "${P}n" "${P}p0" "$@"; do
		ip netns add "$ns"
		_topo_ipv6_off "$ns" lo
		ip -n "$ns" link set lo up
	done
	ip -n "${P}n" link add bx type bridge forward_delay 0
	ip -n "${P}n" link add bi type bridge forward_delay 0
	_topo_sysctl "${P}n" net/bridge/bridge-nf-call-iptables=0 \
		net/bridge/bridge-nf-call-arptables=0
	ip -n "$up_ns" link add "$up_if" type veth peer name "$up_peer" netns "${P}n"
	ip -n "${P}p0" link add eth0 type veth peer name p0 netns "${P}n"
	ip -n "${P}g" link add gx type veth peer name ax netns "${P}n"
	ip -n "${P}g" link add gi type veth peer name ai netns "${P}n"
	ip -n "$nsb" link add gx type veth peer name bx0 netns "${P}n"
	ip -n "$nsb" link add gi type veth peer name bi0 netns "${P}n"
	for i in "$up_peer" ax bx0; do ip -n "${P}n" link set "$i" master bx; done
	for i in p0 ai bi0; do ip -n "${P}n" link set "$i" master bi; done
	for i in "$up_peer" p0 ax ai bx0 bi0; do
		ip netns exec "${P}n" ethtool -K "$i" gro off tx off tso off gso off >/dev/null
		_topo_ipv6_off "${P}n" "$i"
		ip -n "${P}n" link set "$i" up
	done
	ip -n "${P}n" link set bx up
	ip -n "${P}n" link set bi up
	for ns in "$up_ns:$up_if" "${P}p0:eth0"; do
		ip netns exec "${ns%%:*}" ethtool -K "${ns#*:}" tx off tso off gso off >/dev/null
		_topo_ipv6_off "${ns%%:*}" "${ns#*:}"
		ip -n "${ns%%:*}" link set "${ns#*:}" up
	done
	for ns in "${P}g" "$nsb"; do
		for i in gx gi; do
			ip netns exec "$ns" ethtool -K "$i" gro off tx off tso off gso off >/dev/null
			_topo_ipv6_off "$ns" "$i"
			ip -n "$ns" link set "$i" promisc on
			ip -n "$ns" link set "$i" up
		done
		# The kernel must not answer on strait's ports itself: with net_af_packet it sees
		# their frames too, and once a mapping address is on a TAP (keepalived's VIP, or
		# the /32 that BIRD announces) it is local to the gateway on every interface (it
		# answered the client's SYN with a RST). af_packet takes its copy before the
		# netdev ingress hook, which drops the rest.
		ip netns exec "$ns" nft -f - <<'NFT'
table netdev strait_ports {
	chain gx { type filter hook ingress device "gx" priority 0; policy drop; }
	chain gi { type filter hook ingress device "gi" priority 0; policy drop; }
}
NFT
	done
}

ha_gw_start() {
	local ns=$1 prefix=$2 config=$3 log=$4 pid i
	# Empty the log first: the redirect below truncates it only once the child runs, and the
	# wait for "strait: ready" must not find a previous run's line (a restarted gateway's
	# keepalived would start before its TAP exists, and exit on the missing interface).
	: >"$log"
	ip netns exec "$ns" setsid env --default-signal=INT "$STRAIT_BIN" -l 0,1 --no-pci --no-huge \
		-m 256 --file-prefix "$prefix" \
		--vdev "net_af_packet0,iface=gx,framecnt=1024" \
		--vdev "net_af_packet1,iface=gi,framecnt=1024" -- --config "$config" \
		>"$log" 2>&1 </dev/null &
	pid=$!
	echo "$pid strait" >>"$ST/pids"
	for ((i = 0; i < 200; i++)); do
		grep -qsF 'strait: ready' "$log" && { echo "$pid"; return 0; }
		_topo_alive "$pid" || break
		sleep 0.1
	done
	echo "strait in $ns did not start:" >&2
	sed 's/^/  | /' "$log" >&2
	return 1
}

ha_ka_config() {
	local tx='' ti='' g=''
	[ "$2" = 1 ] || g="	vrrp_version 3
"
	[ -n "${HA_KA_GARP:-}" ] && g="$g	vrrp_garp_master_delay ${HA_KA_GARP% *}
	vrrp_garp_master_repeat ${HA_KA_GARP#* }
"
	[ -n "$g" ] && printf 'global_defs {\n%s}\n' "$g"
	[ -n "${5:-}" ] && tx="track_interface {
		$5
	}"
	[ -n "${6:-}" ] && ti="track_interface {
		$6
	}"
	cat <<EOF
vrrp_sync_group G {
	group {
		EXT
		INT
	}
}
vrrp_instance EXT {
	state BACKUP
	interface $3
	virtual_router_id 51
	priority $1
	advert_int $2
	virtual_ipaddress {
		198.51.100.1/32
	}
	$tx
}
vrrp_instance INT {
	state BACKUP
	interface $4
	virtual_router_id 52
	priority $1
	advert_int $2
	virtual_ipaddress {
		10.0.0.1/24
	}
	$ti
}
EOF
}
