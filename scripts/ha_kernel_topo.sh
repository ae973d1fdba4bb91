# shellcheck shell=bash
# scripts/ha_kernel_topo.sh: the VRRP active/standby pieces of scripts/ha-demo.sh, on the BGP
# demo's topology (scripts/ha_bgp_topo.sh: client ── router ── bx ── gateways A ${P}g and B
# ${P}h ── bi ── pod), for strait (`ha: {mode: vrrp}`) and for the Linux kernel baseline
# (nftables NAT + stock keepalived, no strait). Source it after scripts/ha_bgp_topo.sh; it
# defines functions and runs nothing.
#
# The ext VIP (the mapping address) is 198.51.100.1, on the router's link, so the router
# finds the master by ARP (and follows its gratuitous ARPs); the int VIP 10.0.0.1 is the pod's
# default route and, with `nat: fullNat`, the SNAT address. A: ext 198.51.100.11, int
# 10.0.0.3, keepalived priority 150; B: 198.51.100.12, 10.0.0.4, priority 100.
#
#   hak_ka_config PRIORITY EXT_IF INT_IF [EXT_TRACK INT_TRACK]   scripts/ha_topo.sh's
#                               ha_ka_config with advert_int $HAK_ADVERT (1 by default:
#                               VRRPv2; a sub-second one is VRRPv3) (stdout)
#   hak_ka_start NS NAME PRIORITY EXT_IF INT_IF [EXT_TRACK INT_TRACK]   keepalived
#                               --dont-fork in NS; sets
#                               HAK_KA_PID[NAME] (its parent process; the VRRP child's PID is in
#                               $ST/ka-NAME-vrrp.pid)
#   hak_ka_stop NAME            SIGTERM, then SIGKILL after 5 s, of both processes (by PID)
#   hak_ka_freeze NAME          SIGSTOP of both: keepalived says nothing more, not even the
#                               priority 0 advert of a graceful stop
#   hak_ka_kill NAME            SIGKILL of both (also when frozen)
#   hak_holds_vip NS IF         IF in NS holds the ext VIP
#   hak_vrrp_gw_config OWN_EXT OWN_INT NAT [PEER_INT]  strait's config of a gateway in `ha:
#                               {mode: vrrp}` (TAPs strait-ext/strait-int; mappings web :8080 →
#                               pod:80 TCP and echo :7777 → pod:7 UDP with `nat: NAT`, `pickup:
#                               true` unless NAT is fullNat; with PEER_INT, session sync to the
#                               other gateway's int address, `ha.sync` on UDP 3780); CLI socket
#                               $ST/gw-OWN_INT.sock (stdout)
#   hak_kernel_gw_up NS OWN_EXT OWN_INT NAT  a plain Linux gateway: ha_fabric_up's drop chain
#                               removed, addresses on gx/gi, forwarding, and the same two
#                               mappings in nftables: DNAT to the pod, and with NAT fullNat SNAT
#                               of the DNATed flows to the int VIP
#   hak_crash NS / hak_uncrash NS  a netdev ingress chain that drops everything arriving on
#                               gx and gi (with hak_ka_freeze: the gateway host is dead)
# The caller sets ST and P.

HAK_VIP=198.51.100.1
HAK_INT_VIP=10.0.0.1
declare -A HAK_KA_PID=()
: "${HAK_ADVERT:=1}"

hak_ka_config() { ha_ka_config "$1" "$HAK_ADVERT" "$2" "$3" "${4:-}" "${5:-}"; }

hak_ka_start() {
	local ns=$1 name=$2
	hak_ka_config "$3" "$4" "$5" "${6:-}" "${7:-}" >"$ST/ka-$name.conf"
	rm -f "$ST/ka-$name.pid" "$ST/ka-$name-vrrp.pid"
	ip netns exec "$ns" keepalived --dont-fork --log-console --log-detail --vrrp --no-syslog \
		--use-file "$ST/ka-$name.conf" --pid "$ST/ka-$name.pid" \
		--vrrp_pid "$ST/ka-$name-vrrp.pid" >>"$ST/ka-$name.log" 2>&1 </dev/null &
	HAK_KA_PID[$name]=$!
	disown "$!" # no "Killed" notice from bash when a fault kills it
	echo "$! keepalived-$name" >>"$ST/pids"
}

_hak_ka_pids() { # NAME: the parent, then the VRRP child if known
	local child=''
	[ -n "${HAK_KA_PID[$1]:-}" ] || return 0
	[ -f "$ST/ka-$1-vrrp.pid" ] && read -r child <"$ST/ka-$1-vrrp.pid"
	echo "${HAK_KA_PID[$1]}" "$child"
}

hak_ka_stop() {
	local pid i alive
	# shellcheck disable=SC2046 # the PIDs
	set -- $(_hak_ka_pids "$1")
	[ $# -gt 0 ] || return 0
	kill -TERM "$1" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		alive=0
		for pid; do _topo_alive "$pid" && alive=1; done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for pid; do kill -KILL "$pid" 2>/dev/null || true; done
	{ wait "$1"; } 2>/dev/null || true
}

hak_ka_freeze() {
	local pid
	# Parent first: it would restart a child that stopped answering.
	for pid in $(_hak_ka_pids "$1"); do kill -STOP "$pid" 2>/dev/null || true; done
}

hak_ka_kill() {
	local pid i
	for pid in $(_hak_ka_pids "$1"); do kill -KILL "$pid" 2>/dev/null || true; done
	for ((i = 0; i < 50; i++)); do
		_topo_alive "${HAK_KA_PID[$1]}" || break
		sleep 0.1
	done
	{ wait "${HAK_KA_PID[$1]}"; } 2>/dev/null || true
}

hak_holds_vip() {
	ip -n "$1" -4 addr show dev "$2" 2>/dev/null | grep -qF "$HAK_VIP/32"
}

hak_vrrp_gw_config() {
	local pickup='' ha='{mode: vrrp}'
	[ "$3" = fullNat ] || pickup=', pickup: true'
	[ -n "${4:-}" ] && ha="{mode: vrrp, sync: {peers: [$4], port: 3780}}"
	cat <<EOF
ports:
  ext: {device: net_af_packet0, addresses: [$1/24], gateway: 198.51.100.254,
        kernel: {tap: strait-ext}}
  int: {device: net_af_packet1, addresses: [$2/24, $HAK_INT_VIP/24],
        snat: {addresses: [$HAK_INT_VIP]}, kernel: {tap: strait-int}}
ha: $ha
cli_socket: $ST/gw-$2.sock
workers: 1
sessions: {max: 65536}
mappings:
- {name: web, addresses: [$HAK_VIP], ports: [{port: 8080, servicePort: 80}],
   backends: [{address: 10.0.0.11}], nat: $3$pickup}
- {name: echo, addresses: [$HAK_VIP], ports: [{port: 7777, servicePort: 7, protocol: udp}],
   backends: [{address: 10.0.0.11}], nat: $3}
EOF
}

hak_kernel_gw_up() {
	local ns=$1 snat=''
	ip netns exec "$ns" nft delete table netdev strait_ports
	ip -n "$ns" link set gx promisc off
	ip -n "$ns" link set gi promisc off
	ip -n "$ns" addr add "$2/24" dev gx
	ip -n "$ns" addr add "$3/24" dev gi
	ip -n "$ns" route add default via 198.51.100.254
	_topo_sysctl "$ns" net/ipv4/ip_forward=1 net/ipv4/conf/all/rp_filter=0 \
		net/ipv4/conf/default/rp_filter=0 net/ipv4/conf/gx/rp_filter=0 \
		net/ipv4/conf/gi/rp_filter=0
	# What a user replacing strait writes: DNAT of the mapping address and port to the pod;
	# for full NAT, SNAT of those flows to the int VIP (the pods answer whoever is master).
	[ "$4" = fullNat ] && snat="chain post { type nat hook postrouting priority srcnat; policy accept;
		oifname \"gi\" ct status dnat snat to $HAK_INT_VIP
	}"
	ip netns exec "$ns" nft -f - <<EOF
table ip strait_kernel {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $HAK_VIP tcp dport 8080 dnat to 10.0.0.11:80
		ip daddr $HAK_VIP udp dport 7777 dnat to 10.0.0.11:7
	}
	$snat
}
EOF
}

hak_crash() {
	ip netns exec "$1" nft -f - <<'NFT'
table netdev crash {
	chain gx { type filter hook ingress device "gx" priority -100; policy drop; }
	chain gi { type filter hook ingress device "gi" priority -100; policy drop; }
}
NFT
}

hak_uncrash() { ip netns exec "$1" nft delete table netdev crash 2>/dev/null || true; }
