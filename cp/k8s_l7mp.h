/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The l7mp VirtualService source (k8s_virtualservice.c) and its rules' match predicates
 * (k8s_l7mp_match.c). Control thread, no I/O.
 */
#ifndef STRAIT_K8S_L7MP_H
#define STRAIT_K8S_L7MP_H

#include <stdint.h>

#include <jansson.h>

#include <strait/config.h>

#define L7MP_MAX_BOXES CFG_MAX_RULES

/** A (client prefix, source port range) pair: host order, ports inclusive. */
struct l7mp_box {
	struct cfg_cidr src; /**< addr already masked */
	uint16_t lo, hi;
};

/** A union of boxes: the first packets a predicate admits. */
struct l7mp_set {
	struct l7mp_box b[L7MP_MAX_BOXES];
	unsigned int n;
};

/**
 * Flatten the JSONPredicate @p p (a VirtualService rule's `match`) on a listener of protocol
 * @p proto (IPPROTO_UDP or IPPROTO_TCP) into @p out.
 * @param path  where @p p is, for messages ("spec.listener.rules[0].match").
 * @param depth 0 (the nesting so far).
 * @return 0; -EINVAL with @p err ("PATH: what is not served") for anything outside the
 *         subset; -E2BIG when the union needs more than L7MP_MAX_BOXES boxes.
 */
int l7mp_match(const json_t *p, uint8_t proto, struct l7mp_set *out, char *err, size_t errlen,
	       const char *path, unsigned int depth);

#endif
