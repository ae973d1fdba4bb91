/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers of the builders: grow the desired mappings, fill a result, small decoders.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <strait/k8s_json.h>

#include "k8s_build.h"

const char *k8s_proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

int k8s_build_reserve(struct k8s_build *b, unsigned int n)
{
	if (b->cap_maps - b->n_maps >= n)
		return 0;
	unsigned int cap = b->cap_maps ? b->cap_maps : 64;
	while (cap - b->n_maps < n)
		cap *= 2;
	struct cfg_mapping *m = realloc(b->maps, cap * sizeof(*m));
	if (!m)
		return -ENOMEM;
	b->maps = m;
	uint64_t *ids = realloc(b->ids, cap * sizeof(*ids));
	if (!ids)
		return -ENOMEM; // b->maps is grown: cap_maps says what both hold
	b->ids = ids;
	bool *borrowed = realloc(b->borrowed, cap * sizeof(*borrowed));
	if (!borrowed)
		return -ENOMEM;
	// Every entry's flag is true only where the entry is a memo'd mapping whose id is
	// ids[]: memo_emit() takes such an entry as it is, so the new room says none.
	memset(borrowed + b->cap_maps, 0, (cap - b->cap_maps) * sizeof(*borrowed));
	b->borrowed = borrowed;
	b->cap_maps = cap;
	return 0;
}

int k8s_build_map(struct k8s_build *b)
{
	if (k8s_build_reserve(b, 1) < 0)
		return -ENOMEM;
	memset(&b->maps[b->n_maps], 0, sizeof(b->maps[0]));
	b->maps[b->n_maps].ordinal = -1;
	b->ids[b->n_maps] = 0;
	b->borrowed[b->n_maps] = false;
	return (int)b->n_maps++;
}

int k8s_map_set_backends(struct cfg_mapping *m, const struct cfg_backend *be, unsigned int n)
{
	free(m->backends);
	m->backends = NULL;
	m->n_backends = 0;
	if (n == 0)
		return 0;
	m->backends = malloc(n * sizeof(*be));
	if (!m->backends)
		return -ENOMEM;
	memcpy(m->backends, be, n * sizeof(*be));
	m->n_backends = n;
	return 0;
}

int k8s_result_fail(struct k8s_result *r, const char *reason, const char *fmt, ...)
{
	va_list ap;

	r->valid = false;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(r->message, sizeof(r->message), fmt, ap);
	va_end(ap);
	return 0;
}

int k8s_result_advertise(struct k8s_result *r, const char *name, const char *pod, int32_t ordinal,
			 uint32_t addr, uint16_t port, uint16_t end_port, uint8_t proto)
{
	char a[16];
	json_t *e = json_object();

	if (!e)
		return -ENOMEM;
	if (name)
		json_object_set_new(e, "name", json_string(name));
	if (pod)
		json_object_set_new(e, "pod", json_string(pod));
	if (ordinal >= 0)
		json_object_set_new(e, "ordinal", json_integer(ordinal));
	json_object_set_new(e, "address", json_string(cfg_ipv4_str(addr, a)));
	json_object_set_new(e, "port", json_integer(port));
	if (end_port)
		json_object_set_new(e, "endPort", json_integer(end_port));
	json_object_set_new(e, "protocol", json_string(k8s_proto_name(proto)));
	return json_array_append_new(r->advertised, e) ? -ENOMEM : 0;
}

bool k8s_ipv4(const char *s, uint32_t *addr)
{
	return s && cfg_parse_ipv4(s, addr) == 0;
}

const char *k8s_age_created(const json_t *obj)
{
	return k8s_str(obj, "metadata", "creationTimestamp", NULL);
}

const char *k8s_build_dep_key(enum k8s_kind kind, const char *key, char *buf, size_t len)
{
	// Formatted by hand: a pass looks up every source object's entry (thousands).
	size_t n = strlen(key), at = 0;
	unsigned int k = (unsigned int)kind;

	if (len < 4 + n + 1 || k > 99) {
		snprintf(buf, len, "%u:%s", k, key);
		return buf;
	}
	if (k >= 10)
		buf[at++] = (char)('0' + k / 10);
	buf[at++] = (char)('0' + k % 10);
	buf[at++] = ':';
	memcpy(buf + at, key, n + 1);
	return buf;
}

void k8s_build_dep(struct k8s_build *b, enum k8s_kind kind, const char *ns, const char *name)
{
	char key[2 * K8S_NAME_MAX + 2], dep[2 * K8S_NAME_MAX + 16];

	if (!b->deps)
		return;
	snprintf(key, sizeof(key), "%s%s%s", ns, ns[0] ? "/" : "", name);
	if (json_array_append_new(b->deps,
				  json_string(k8s_build_dep_key(kind, key, dep, sizeof(dep)))) < 0)
		b->dep_lost = true;
}

void k8s_build_dep_kind(struct k8s_build *b, enum k8s_kind kind)
{
	b->dep_kinds |= 1ull << kind;
}
