/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the Kubernetes targets share: the reconcile pass the control thread runs over the
 * caches after each batch of updates (cp/k8s.c), with a default address and one reserved
 * mapping from the config file, as in the daemon; its output is checked for consistency.
 */
#ifndef STRAIT_FUZZ_K8S_H
#define STRAIT_FUZZ_K8S_H

#include <netinet/in.h>

#include <strait/k8s_cache.h>
#include <strait/k8s_reconcile.h>

#include "fuzz_util.h"

#define FUZZ_EXT_ADDR 0xc6336401u /* 198.51.100.1 */

/* Reconcile @p s; check what came out; free it. */
static inline void fuzz_reconcile(struct k8s_store *s)
{
	static struct cfg_mapping reserved = {
		.name = "web",
		.addrs = {FUZZ_EXT_ADDR},
		.n_addrs = 1,
		.ports = {{.port = 8080,
			   .end_port = 8080,
			   .service_port = 80,
			   .proto = IPPROTO_TCP}},
		.n_ports = 1,
		.ordinal = -1,
	};
	const struct cfg_mapping *res[] = {&reserved};
	struct k8s_reconcile_params p = {
		.default_addr = FUZZ_EXT_ADDR, .reserved = res, .n_reserved = 1};
	struct k8s_desired d;

	memset(&d, 0, sizeof(d));
	if (k8s_reconcile(s, &p, &d) == 0) {
		unsigned int n = 0;
		for (unsigned int i = 0; i < d.n_res; i++) {
			const struct k8s_result *r = &d.res[i];
			FUZZ_CHECK(!r->accepted || (r->valid && !r->conflict));
			FUZZ_CHECK(memchr(r->message, '\0', sizeof(r->message)) != NULL);
			if (r->accepted) {
				FUZZ_CHECK(r->first_map + r->n_maps <= d.n_maps);
				n += r->n_maps;
			}
		}
		FUZZ_CHECK(n == d.n_maps);
		for (unsigned int i = 0; i < d.n_maps; i++) {
			const struct cfg_mapping *m = &d.maps[i];
			FUZZ_CHECK(m->n_ports <= CFG_MAX_MAP_PORTS && m->n_addrs <= CFG_MAX_ADDRS);
			FUZZ_CHECK(m->n_backends == 0 || m->backends);
		}
	}
	k8s_desired_free(&d);
}

#endif
