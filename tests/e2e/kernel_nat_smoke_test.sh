#!/usr/bin/env bash
# kernel_nat_smoke_test.sh: the e2e topology with the Linux kernel (nftables) as the gateway.
#
# Proves that the topology itself is sound (namespaces, veths, bridge, offloads, servers,
# clients) independently of strait, so a failing strait e2e test points at strait. It is
# also the reference that the benchmark compares strait against, so it uses the very
# mappings of config/strait.yaml.
#
# Usage: kernel_nat_smoke_test.sh [STRAIT_BINARY]   (meson passes the binary; unused here)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_require_root
topo_require sha256sum:coreutils nft:nftables

NPODS=3
EXT=$TOPO_EXT_ADDR
topo_up "$NPODS"
topo_servers_start "$NPODS"
topo_kernel_nat
ST=$(_topo_state)

# The Service port: every connection is answered by some pod, and a dozen connections are
# not all pinned to one pod (all 12 on one pod by chance: 3 * 3^-12, about 6e-6).
declare -A seen=()
for ((i = 0; i < 12; i++)); do
	body=$(client_curl "http://$EXT:8080/" || true)
	check_match "http $EXT:8080 request $i answered by a pod" 'pod-[0-2]' "$body"
	if [ -n "$body" ]; then seen[$body]=1; fi
done
check "http :8080 spread over more than one pod (${!seen[*]})" test ${#seen[@]} -gt 1

# Port-to-broker: port 32000+i reaches pod i and no other.
for ((i = 0; i < NPODS; i++)); do
	check_eq "broker port $((32000 + i)) answered by pod-$i" "pod-$i" \
		"$(client_curl "http://$EXT:$((32000 + i))/" || true)"
done

# UDP echo: the exact bytes come back, text and binary (NULs, high bytes) alike.
check_eq "udp :7777 echoes text" "hello strait" \
	"$(printf 'hello strait' | client_udp "$EXT" 7777 || true)"
head -c 1400 /dev/urandom >"$ST/udp.in"
client_udp "$EXT" 7777 <"$ST/udp.in" >"$ST/udp.out" || true
check_eq "udp :7777 echoes 1400 random bytes" \
	"$(sha256sum <"$ST/udp.in")" "$(sha256sum <"$ST/udp.out")"

# redis through the tcp 6379 mapping to pod 0.
check_eq "redis set via $EXT:6379" OK \
	"$(in_client timeout 5 redis-cli -h "$EXT" -p 6379 set smoke "v-$$" || true)"
check_eq "redis get via $EXT:6379" "v-$$" \
	"$(in_client timeout 5 redis-cli -h "$EXT" -p 6379 get smoke || true)"

# 20 MB both ways over one TCP connection: POSTed to a pod, which reports the sha256 of what
# arrived (client -> pod) and echoes the body (pod -> client).
head -c 20M /dev/urandom >"$ST/blob.in"
want=$(sha256sum <"$ST/blob.in" | cut -d' ' -f1)
client_curl --max-time 60 -H 'Expect:' -H 'Content-Type: application/octet-stream' \
	--data-binary @"$ST/blob.in" -D "$ST/blob.hdr" -o "$ST/blob.out" \
	"http://$EXT:8080/upload" || true
got_pod=$(tr -d '\r' <"$ST/blob.hdr" 2>/dev/null | awk -F': ' 'tolower($1) == "x-body-sha256" {print $2}')
check_eq "20 MB upload arrives at the pod intact (sha256)" "$want" "$got_pod"
check_eq "20 MB echo arrives at the client intact (sha256)" "$want" \
	"$(sha256sum <"$ST/blob.out" 2>/dev/null | cut -d' ' -f1)"

# The traffic went through the NAT rules (not some other path): their counters moved.
rules=$(in_gw nft list chain ip strait_knat prerouting || true)
for port in 8080 32000 6379; do
	check_match "nft dnat rule for tcp $port counted packets" \
		'[1-9][0-9]*' "$(sed -n "s/.*tcp dport $port counter packets \([0-9]*\) .*/\1/p" <<<"$rules")"
done
check_match "nft dnat rule for udp 7777 counted packets" \
	'[1-9][0-9]*' "$(sed -n 's/.*udp dport 7777 counter packets \([0-9]*\) .*/\1/p' <<<"$rules")"

# Teardown leaves nothing of ours behind (e2e_finish's own topo_down is then a no-op).
topo_down
check_eq "topo_down removes every namespace of prefix $P" "" "$(_topo_namespaces)"

e2e_finish
