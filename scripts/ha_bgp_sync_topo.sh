# shellcheck shell=bash
# scripts/ha_bgp_sync_topo.sh: full NAT in BGP mode (docs/ha.md, "Full NAT in BGP mode: SNAT
# addresses on VRRP and session sync") on the ECMP topology of scripts/ha_bgp_topo.sh (source
# that first); it defines functions and runs nothing.
#
#   each gateway's SNAT address is a VRRP address on its int TAP: A masters 10.0.0.13 and
#   backs up B's 10.0.0.14, B the other way round (keepalived, two VRRPv3 instances, adverts
#   every HABS_ADVERT s, 0.1 by default); both list both in ports.int.snat.addresses, their
#   own first; ha.sync streams each gateway's sessions to the other (UDP 3780 between 10.0.0.3
#   and 10.0.0.4).
#
#   habs_gw_config OWN_EXT OWN_INT OWN_VIP PEER_VIP PEER_INT SOCKET  a gateway's config
#   habs_ka_start NS NAME OWN_VIP OWN_VRID PEER_VIP PEER_VRID [TRACK_IF...]  keepalived on NS's
#                               int TAP, master of OWN_VIP, backup of PEER_VIP, both
#                               instances down while a TRACK_IF is down (pid in HABS_KA_PID)
#   habs_ka_stop NAME           stop that keepalived (SIGTERM, then SIGKILL)
#   habs_holds NS VIP           whether NS's int TAP holds VIP (keepalived put it there)
#   habs_own_vips_only          each gateway holds its own SNAT address and not the other's

# shellcheck disable=SC2034 # used by the tests that source this
HABS_VIP_A=10.0.0.13
# shellcheck disable=SC2034
HABS_VIP_B=10.0.0.14
: "${HABS_ADVERT:=0.1}"
declare -A HABS_KA_PID=()

habs_gw_config() {
	cat <<EOF2
ports:
  ext: {device: net_af_packet0, addresses: [$1/24], gateway: 198.51.100.254,
        kernel: {tap: strait-ext}}
  int: {device: net_af_packet1, addresses: [$2/24, $3/24, $4/24],
        snat: {addresses: [$3, $4]}, kernel: {tap: strait-int}}
ha: {mode: bgp, sync: {peers: [$5], port: 3780}}
cli_socket: $6
EOF2
	hab_gw_config_tail
}

# keepalived's config: two instances on the int TAP, no sync group (each address moves alone).
_habs_ka_config() {
	local own=$1 own_id=$2 peer=$3 peer_id=$4 track='' i
	shift 4
	if [ $# -gt 0 ]; then
		track="track_interface {"
		for i in "$@"; do track+=$'\n\t\t'"$i"; done
		track+=$'\n\t}'
	fi
	cat <<EOF2
global_defs {
	vrrp_version 3
	vrrp_garp_master_delay 1
	vrrp_garp_master_repeat 2
}
vrrp_instance OWN {
	state BACKUP
	interface strait-int
	virtual_router_id $own_id
	priority 150
	advert_int $HABS_ADVERT
	$track
	virtual_ipaddress {
		$own/24
	}
}
vrrp_instance PEER {
	state BACKUP
	interface strait-int
	virtual_router_id $peer_id
	priority 100
	advert_int $HABS_ADVERT
	$track
	virtual_ipaddress {
		$peer/24
	}
}
EOF2
}

habs_ka_start() {
	local ns=$1 name=$2
	shift 2
	_habs_ka_config "$@" >"$ST/ka-$name.conf"
	ip netns exec "$ns" keepalived --dont-fork --log-console --log-detail --vrrp --no-syslog \
		--use-file "$ST/ka-$name.conf" --pid "$ST/ka-$name.pid" \
		--vrrp_pid "$ST/ka-$name-vrrp.pid" >>"$ST/ka-$name.log" 2>&1 </dev/null &
	HAB_PIDS+=($!)
	HABS_KA_PID[$name]=$!
	echo "$! keepalived-$name" >>"$ST/pids"
}

# keepalived's VRRP child can outlive its parent by seconds (after strait's TAPs went it may
# not end until forced, docs/ha.md): as hak_ka_stop does, the child is waited for and killed
# too, so that no old VRRP process still speaks for the gateway when the next one starts.
habs_ka_stop() {
	local pid=${HABS_KA_PID[$1]:-} child='' i
	[ -n "$pid" ] || return 0
	[ -f "$ST/ka-$1-vrrp.pid" ] && read -r child <"$ST/ka-$1-vrrp.pid"
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 30; i++)); do
		if ! _topo_alive "$pid" && { [ -z "$child" ] || ! _topo_alive "$child"; }; then
			break
		fi
		sleep 0.1
	done
	kill -9 "$pid" ${child:+"$child"} 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for ((i = 0; i < 30; i++)); do
		if [ -z "$child" ] || ! _topo_alive "$child"; then break; fi
		sleep 0.1
	done
	rm -f "$ST/ka-$1.pid" "$ST/ka-$1-vrrp.pid"
	unset "HABS_KA_PID[$1]"
}

habs_holds() {
	ip -n "$1" -4 addr show dev strait-int 2>/dev/null | grep -qF "inet $2/"
}

habs_own_vips_only() {
	habs_holds "${P}g" "$HABS_VIP_A" && habs_holds "$HAB_NS_B" "$HABS_VIP_B" &&
		! habs_holds "${P}g" "$HABS_VIP_B" && ! habs_holds "$HAB_NS_B" "$HABS_VIP_A"
}
