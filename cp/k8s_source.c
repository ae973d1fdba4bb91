/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tables of source rows and of the informers' keeps, one entry per kind, from the
 * K8S_KINDS rows.
 */
#include <stddef.h>

#include "k8s_source.h"

/* The row of the kinds that are only read. */
const struct k8s_source k8s_source_none = {.invalid_reason = NULL};

static const struct k8s_source *const sources[K8S_KIND_MAX] = {
#define SOURCE_ROW(id, kind, av, res, gr, prefix, fb_prefix, fb_av, namespaced, sel, name, keep)   \
	[K8S_KIND_##id] = &k8s_source_##name,
	K8S_KINDS(SOURCE_ROW)
#undef SOURCE_ROW
};

const struct k8s_source *k8s_source_of(enum k8s_kind k)
{
	return sources[k] == &k8s_source_none ? NULL : sources[k];
}

/* The keep of the kinds whose objects are kept whole: no anchor, so nothing filtered. */
const struct k8s_keep k8s_keep_all[] = {{NULL, NULL}};

static const struct k8s_keep *const keeps[K8S_KIND_MAX] = {
#define KEEP_ROW(id, kind, av, res, gr, prefix, fb_prefix, fb_av, namespaced, sel, name, keep)     \
	[K8S_KIND_##id] = k8s_keep_##keep,
	K8S_KINDS(KEEP_ROW)
#undef KEEP_ROW
};

const struct k8s_keep *k8s_keep_of(enum k8s_kind k)
{
	return keeps[k] == k8s_keep_all ? NULL : keeps[k];
}
