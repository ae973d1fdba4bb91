/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Names of the IP protocols strait translates, as every interface spells them (CLI, telemetry,
 * metrics labels, error messages). Header-only: the data plane, the control plane and the
 * Kubernetes side can all use it.
 */
#ifndef STRAIT_PROTO_H
#define STRAIT_PROTO_H

#include <stdint.h>

#include <netinet/in.h>

/**
 * The lower-case name of IP protocol number @p proto.
 * @return "tcp", "udp", "icmp", or "?" for any other number (a static string). Any thread.
 */
static inline const char *strait_proto_name(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	default:
		return "?";
	}
}

#endif
