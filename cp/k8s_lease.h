/* SPDX-License-Identifier: BSD-3-Clause */
/* Leader election on a Lease (k8s_lease.c), run by the writer thread (k8s_writer.c). */
#ifndef STRAIT_K8S_LEASE_H
#define STRAIT_K8S_LEASE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include <strait/config.h>
#include <strait/k8s_client.h>

struct k8s_lease {
	char ns[CFG_NAME_MAX], name[CFG_NAME_MAX];
	char identity[128];
	uint32_t duration_s;
	bool leader;	       /**< set by the caller from k8s_lease_step()'s result */
	json_t *obj;	       /**< the Lease as last read or written */
	char observed_rv[128]; /**< its resourceVersion when we first saw it... */
	uint64_t observed_ms;  /**< ...at this monotonic time */
	uint64_t renewed_ms;   /**< our last successful write */
	char holder[128];      /**< holderIdentity last seen */
	long logged_err;
	long timeout_s;		   /**< per request */
	const atomic_bool *cancel; /**< abandons a request in flight when set (shutdown) */
};

/** One election round (a GET and at most one write). Blocks. @return whether we lead. */
bool k8s_lease_step(struct k8s_lease *l, struct k8s_client *c, CURL *h);

/** Give the Lease up (holder cleared) if we hold it. Blocks. */
void k8s_lease_release(struct k8s_lease *l, struct k8s_client *c, CURL *h);

void k8s_lease_fini(struct k8s_lease *l);

#endif
