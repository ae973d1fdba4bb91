#!/usr/bin/env bash
# tests/e2e/ha_sync_test.sh STRAIT_BINARY: session sync for full NAT (docs/ha.md, "Session
# sync"): ha_vrrp_test.sh's two gateways with full-NAT mappings and `ha.sync` on both; the
# master's sessions stream to the standby, so that its flows survive the master's SIGKILL
# although the pod saw the master's SNAT address and port; a restarted master gets the
# standby's sessions back by a bulk resync. The topology, flows and checks are
# ha_vrrp_test.sh's, in its sync mode.
HA_VRRP_SYNC=1 exec bash "$(dirname "${BASH_SOURCE[0]}")/ha_vrrp_test.sh" "$@"
