/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building block of the source kinds: a Service's ports and endpoints (k8s_service.c).
 */
#ifndef STRAIT_K8S_SERVICE_H
#define STRAIT_K8S_SERVICE_H

#include <strait/config.h>

#include "k8s_build.h"

/**
 * Mode service: resolve the Service @p tmpl->service_name, its ports and endpoints, into one
 * mapping, or one per ports entry when their endpoints differ.
 * @return 0 (@p r failed when the Service or a port is missing) or -ENOMEM.
 */
int k8s_service_build(struct k8s_build *b, struct k8s_result *r, const struct cfg_mapping *tmpl);

/**
 * The endpoints of port @p port/@p proto (by number) of Service @p ns/@p name, each with its
 * resolved target port (EndpointSlice ports, as kube-proxy) and weight 1, sorted by address.
 * @param be  receives a malloc'd array (NULL when none), the caller frees it.
 * @return 1 (found; *n may be 0: no endpoint yet), 0 with @p why when the Service or the port
 *         is missing, -ENOMEM.
 */
int k8s_service_endpoints(struct k8s_build *b, const char *ns, const char *name, uint16_t port,
			  uint8_t proto, struct cfg_backend **be, unsigned int *n, char *why,
			  size_t len);

/**
 * What strait keeps of an EndpointSlice as it decodes one from the API server (the watch's and
 * the lists' struct k8s_keep): of each endpoint, its addresses, conditions.ready and
 * .terminating, targetRef.kind and .name, all that k8s_service_endpoints() reads; not nodeName,
 * zone, hostname, hints, conditions.serving, targetRef's other fields (13 of the 34 blocks of
 * an endpoint as the EndpointSlice controller writes it). Everything outside `endpoints` is
 * kept.
 */
extern const struct k8s_keep k8s_keep_endpointslice[];

/**
 * How the informers keep an EndpointSlice's `endpoints` (k8s_keep_endpointslice): packed, one
 * JSON string of what endpoints_collect() reads, 11 bytes and a name an endpoint, instead of
 * ~20 values (cp/k8s_service.c gives the format). Its reader also reads an array, packing it
 * first (a file's slices, a test's). Pure: any thread (the watch threads decode with it).
 */
extern const struct k8s_pack k8s_pack_endpoints;

/** The Service EndpointSlice @p slice belongs to, "namespace/service-name" into @p k (@p size
 * bytes): the key of k8s_build_dep(K8S_KIND_ENDPOINTSLICE). */
void k8s_service_slice_key(const json_t *slice, char *k, size_t size);

#endif
