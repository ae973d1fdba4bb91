/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Mapping schema (DESIGN §5): the field tables built from CFG_MAPPING_FIELDS and its
 * sub-lists, the reader that walks them, the checks that involve several fields, and the
 * public cfg_mapping_* functions. One parser for the config file's `mappings:`, the CLI's
 * `add mapping {...}` and the Kubernetes CRD decoder, so that a Mapping means the same thing
 * and is refused with the same messages whichever way it comes.
 *
 * Pure libc + libyaml: the unit test links this without EAL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <strait/config.h>
#include <strait/maglev.h>

#include "yaml_reader.h"

const char *const cfg_mode_names[] = {"service", "perPod", NULL};
const char *const cfg_nat_names[] = {"fullNat", "preserveSource", NULL};
const char *const cfg_backend_kind_names[] = {"pods", "nodePorts", NULL};
const char *const cfg_affinity_names[] = {"fiveTuple", "clientIP", "clientIPAndPort", NULL};
const char *const cfg_proto_names[] = {"tcp", "udp", NULL};

/* ---- The tables -------------------------------------------------------------------------- */

// What each type takes from a line's last columns: an entry count (n_<member>), names, a
// sub-table. A type that is not listed here does not compile.
#define CFG_FIELD_(st, k, t, member, cnt, lo, hi, nm, sb, fl)                                      \
	{.key = (k),                                                                               \
	 .type = CFG_FT_##t,                                                                       \
	 .off = offsetof(st, member),                                                              \
	 .size = sizeof(((st *)0)->member),                                                        \
	 .count_off = (cnt),                                                                       \
	 .min = (lo),                                                                              \
	 .max = (hi),                                                                              \
	 .names = (nm),                                                                            \
	 .sub = (sb),                                                                              \
	 .flags = (fl)},
#define CFG_FT_NAME_(st, k, m, lo, hi, a, fl) CFG_FIELD_(st, k, NAME, m, 0, lo, hi, NULL, NULL, fl)
#define CFG_FT_LABEL_(st, k, m, lo, hi, a, fl)                                                     \
	CFG_FIELD_(st, k, LABEL, m, 0, lo, hi, NULL, NULL, fl)
#define CFG_FT_ADDR_(st, k, m, lo, hi, a, fl) CFG_FIELD_(st, k, ADDR, m, 0, lo, hi, NULL, NULL, fl)
#define CFG_FT_INT_(st, k, m, lo, hi, a, fl)  CFG_FIELD_(st, k, INT, m, 0, lo, hi, NULL, NULL, fl)
#define CFG_FT_SERVICE_PORT_(st, k, m, lo, hi, a, fl)                                              \
	CFG_FIELD_(st, k, SERVICE_PORT, m, 0, lo, hi, NULL, NULL, fl)
#define CFG_FT_PROTO_(st, k, m, lo, hi, a, fl)	CFG_FIELD_(st, k, PROTO, m, 0, lo, hi, a, NULL, fl)
#define CFG_FT_ENUM_(st, k, m, lo, hi, a, fl)	CFG_FIELD_(st, k, ENUM, m, 0, lo, hi, a, NULL, fl)
#define CFG_FT_MODE_(st, k, m, lo, hi, a, fl)	CFG_FIELD_(st, k, MODE, m, 0, lo, hi, a, NULL, fl)
#define CFG_FT_OBJECT_(st, k, m, lo, hi, a, fl) CFG_FIELD_(st, k, OBJECT, m, 0, lo, hi, NULL, a, fl)
#define CFG_FT_ADDRS_(st, k, m, lo, hi, a, fl)                                                     \
	CFG_FIELD_(st, k, ADDRS, m, offsetof(st, n_##m), lo, hi, NULL, NULL, fl)
#define CFG_FT_CIDRS_(st, k, m, lo, hi, a, fl)                                                     \
	CFG_FIELD_(st, k, CIDRS, m, offsetof(st, n_##m), lo, hi, NULL, NULL, fl)
#define CFG_FT_PORTS_(st, k, m, lo, hi, a, fl)                                                     \
	CFG_FIELD_(st, k, PORTS, m, offsetof(st, n_##m), lo, hi, NULL, a, fl)
#define CFG_FT_BOOL_(st, k, m, lo, hi, a, fl) CFG_FIELD_(st, k, BOOL, m, 0, lo, hi, NULL, NULL, fl)
#define CFG_FT_BACKENDS_(st, k, m, lo, hi, a, fl)                                                  \
	CFG_FIELD_(st, k, BACKENDS, m, offsetof(st, n_##m), lo, hi, cfg_backend_kind_names, a, fl)

#define CFG_MAPPING_FIELD_(k, t, m, lo, hi, a, fl)                                                 \
	CFG_FT_##t##_(struct cfg_mapping, k, m, lo, hi, a, fl)
#define CFG_MAP_PORT_FIELD_(k, t, m, lo, hi, a, fl)                                                \
	CFG_FT_##t##_(struct cfg_map_port, k, m, lo, hi, a, fl)
#define CFG_BACKEND_FIELD_(k, t, m, lo, hi, a, fl)                                                 \
	CFG_FT_##t##_(struct cfg_backend, k, m, lo, hi, a, fl)
#define CFG_LIMIT_FIELD_(k, t, m, lo, hi, a, fl)                                                   \
	CFG_FT_##t##_(struct cfg_limits, k, m, lo, hi, a, fl)
#define CFG_MAGLEV_FIELD_(k, t, m, lo, hi, a, fl)                                                  \
	CFG_FT_##t##_(struct cfg_maglev, k, m, lo, hi, a, fl)
// In a mapping 0 is allowed: it means "the global timeout".
#define CFG_TIMEOUT_FIELD_(member, ckey, crdkey, word, def, states)                                \
	CFG_FT_INT_(struct cfg_timeouts, crdkey, member, 0, CFG_TIMEOUT_MAX, NULL, CFG_F_CRD)

const struct cfg_field cfg_timeout_fields[] = {CFG_TIMEOUTS(CFG_TIMEOUT_FIELD_){NULL}};
const struct cfg_field cfg_limit_fields[] = {CFG_LIMIT_FIELDS(CFG_LIMIT_FIELD_){NULL}};
const struct cfg_field cfg_maglev_fields[] = {CFG_MAGLEV_FIELDS(CFG_MAGLEV_FIELD_){NULL}};
const struct cfg_field cfg_map_port_fields[] = {CFG_MAP_PORT_FIELDS(CFG_MAP_PORT_FIELD_){NULL}};
const struct cfg_field cfg_backend_fields[] = {CFG_BACKEND_FIELDS(CFG_BACKEND_FIELD_){NULL}};
const struct cfg_field cfg_mapping_fields[] = {CFG_MAPPING_FIELDS(CFG_MAPPING_FIELD_){NULL}};

// cfg_map_table() tracks keys in a 64-bit mask.
_Static_assert(sizeof(cfg_mapping_fields) / sizeof(cfg_mapping_fields[0]) <= 65,
	       "at most 64 Mapping keys");
// ENUM and MODE store an index into an enum member.
_Static_assert(sizeof(enum cfg_nat_mode) == sizeof(int) &&
		       sizeof(enum cfg_mapping_mode) == sizeof(int),
	       "enums are ints");

const struct cfg_field *cfg_field_find(const struct cfg_field *fields, const char *key)
{
	for (; fields && fields->key; fields++)
		if (strcmp(fields->key, key) == 0)
			return fields;
	return NULL;
}

const char *cfg_mode_name(enum cfg_mapping_mode mode)
{
	if (mode == CFG_MODE_STATIC)
		return "static";
	if (mode == CFG_MODE_SERVICE || mode == CFG_MODE_PER_POD)
		return cfg_mode_names[mode - 1];
	return "?";
}

const char *cfg_nat_name(enum cfg_nat_mode nat)
{
	return nat == CFG_NAT_FULL || nat == CFG_NAT_PRESERVE_SOURCE ? cfg_nat_names[nat] : "?";
}

const char *cfg_affinity_name(enum cfg_affinity a)
{
	return (unsigned int)a <= CFG_AFFINITY_CLIENT_IP_AND_PORT ? cfg_affinity_names[a] : "?";
}

int cfg_affinity_parse(const char *s, enum cfg_affinity *out)
{
	for (int i = 0; s && cfg_affinity_names[i]; i++) {
		if (strcmp(s, cfg_affinity_names[i]) == 0) {
			*out = (enum cfg_affinity)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- The reader -------------------------------------------------------------------------- */

/** What a field's reader needs besides the field: the mapping-wide facts. */
struct cfg_walk {
	struct cfg_ctx *x;
	bool is_static; /* the mapping has a backends list */
	// Called after each field of an object has been read (cross-field checks in order).
	int (*after)(struct cfg_walk *w, const yaml_node_t *obj, const char *path,
		     const struct cfg_field *f, void *base);
};

static void cfg_store_int(void *p, size_t size, long long v)
{
	switch (size) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)p = (uint32_t)v; // int32_t members: the same bits
		break;
	default:
		*(uint64_t *)p = (uint64_t)v;
		break;
	}
}

static unsigned int *cfg_count(void *base, const struct cfg_field *f)
{
	return (unsigned int *)((char *)base + f->count_off);
}

static int cfg_fields_read(struct cfg_walk *w, const yaml_node_t *n, const char *path,
			   const struct cfg_field *fields, void *base);

/** A list field (ADDRS, CIDRS, PORTS) @p f with value @p v into @p base, and its count. */
static int cfg_list_read(struct cfg_walk *w, const yaml_node_t *v, const char *sub,
			 const struct cfg_field *f, void *base)
{
	struct cfg_ctx *x = w->x;
	char item[CFG_KEYPATH_MAX];
	char *dst = (char *)base + f->off;
	unsigned int count;
	int rc;

	if ((rc = cfg_seq(x, v, sub, (unsigned int)f->max, &count)))
		return rc;
	if (count < f->min)
		return cfg_err(x, v, sub, "at least one entry is required");
	for (unsigned int i = 0; i < count; i++) {
		yaml_node_t *it = cfg_item(x, v, i);

		cfg_idx_path(item, sub, i);
		switch (f->type) {
		case CFG_FT_ADDRS:
			rc = cfg_addr(x, it, item, (uint32_t *)dst + i);
			break;
		case CFG_FT_CIDRS:
			rc = cfg_prefix(x, it, item, (struct cfg_cidr *)dst + i);
			break;
		default: // PORTS
			rc = cfg_fields_read(w, it, item, f->sub, (struct cfg_map_port *)dst + i);
			break;
		}
		if (rc)
			return rc;
	}
	*cfg_count(base, f) = count;
	return 0;
}

/** `backends`: pods or nodePorts, or (static) a list of backend objects. */
static int cfg_backends_read(struct cfg_walk *w, const yaml_node_t *v, const char *sub,
			     const struct cfg_field *f, struct cfg_mapping *m)
{
	struct cfg_ctx *x = w->x;
	char item[CFG_KEYPATH_MAX];
	unsigned int count;
	int rc, e;

	if (!w->is_static) {
		if (v->type == YAML_MAPPING_NODE)
			return cfg_err(x, v, sub,
				       "expected pods, nodePorts or a list, got a mapping");
		if ((rc = cfg_enum(x, v, sub, f->names, false, &e)))
			return rc;
		m->backend_kind = e == 0 ? CFG_BACKENDS_PODS : CFG_BACKENDS_NODEPORTS;
		return 0;
	}
	if ((rc = cfg_seq(x, v, sub, (unsigned int)f->max, &count)))
		return rc;
	if (count < f->min)
		return cfg_err(x, v, sub, "at least one entry is required");
	m->backends = calloc(count, sizeof(*m->backends));
	if (m->backends == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < count; i++) {
		m->backends[i].weight = 1;
		if ((rc = cfg_fields_read(w, cfg_item(x, v, i), cfg_idx_path(item, sub, i), f->sub,
					  &m->backends[i])))
			return rc;
		m->n_backends++;
	}
	return 0;
}

/** Field @p f of object @p obj into @p base; @p v is its value, NULL when absent. */
static int cfg_field_read(struct cfg_walk *w, const yaml_node_t *obj, const char *path,
			  const struct cfg_field *f, const yaml_node_t *v, void *base)
{
	struct cfg_ctx *x = w->x;
	char s[CFG_SHOW_BUF], sub[CFG_KEYPATH_MAX];
	void *dst = (char *)base + f->off;
	const char *str;
	long long val;
	int rc, e = 0;

	cfg_key_path(sub, path, f->key);
	if (v == NULL) {
		if (f->flags & CFG_F_REQUIRED)
			return cfg_missing(x, obj, path, f->key, "");
		// Absent, but with a meaning.
		if (f->type == CFG_FT_MODE)
			*(int *)dst = w->is_static ? CFG_MODE_STATIC : CFG_MODE_SERVICE;
		else if (f->type == CFG_FT_PROTO)
			*(uint8_t *)dst = IPPROTO_TCP;
		else if (f->type == CFG_FT_BOOL)
			*(bool *)dst = f->min != 0;
		return 0;
	}
	switch (f->type) {
	case CFG_FT_NAME:
	case CFG_FT_LABEL:
		return cfg_name(x, v, sub, f->type == CFG_FT_NAME, dst);
	case CFG_FT_ADDR:
		return cfg_addr(x, v, sub, dst);
	case CFG_FT_INT:
		if ((rc = cfg_int(x, v, sub, f->min, f->max, &val)))
			return rc;
		cfg_store_int(dst, f->size, val);
		return 0;
	case CFG_FT_ENUM:
		if ((rc = cfg_enum(x, v, sub, f->names, false, &e)))
			return rc;
		*(int *)dst = e;
		return 0;
	case CFG_FT_MODE:
		if (w->is_static)
			return cfg_err(
				x, v, sub,
				"a mapping with a backends list is static and takes no mode");
		if ((rc = cfg_enum(x, v, sub, f->names, false, &e)))
			return rc;
		*(int *)dst = e + 1; // static has no name
		return 0;
	case CFG_FT_SERVICE_PORT:
		if ((rc = cfg_value(x, v, sub, &str)))
			return rc;
		// Kubernetes' IntOrString: a number, or the name of a Service port.
		if ((str[0] >= '0' && str[0] <= '9') || str[0] == '-' || str[0] == '+')
			return cfg_u16(x, v, sub, (unsigned int)f->min, (unsigned int)f->max, dst);
		if (!cfg_port_name_valid(str))
			return cfg_err(x, v, sub, "\"%s\" is not a port number or a port name",
				       cfg_show(v, s));
		memcpy(((struct cfg_map_port *)base)->service_port_name, str, strlen(str) + 1);
		return 0;
	case CFG_FT_PROTO:
		// Kubernetes writes TCP/UDP, the §5 spec tcp/udp: take both.
		if ((rc = cfg_enum(x, v, sub, f->names, true, &e)))
			return rc;
		*(uint8_t *)dst = e == 0 ? IPPROTO_TCP : IPPROTO_UDP;
		return 0;
	case CFG_FT_OBJECT:
		return cfg_fields_read(w, v, sub, f->sub, dst);
	case CFG_FT_ADDRS:
	case CFG_FT_CIDRS:
	case CFG_FT_PORTS:
		return cfg_list_read(w, v, sub, f, base);
	case CFG_FT_BACKENDS:
		return cfg_backends_read(w, v, sub, f, base);
	case CFG_FT_BOOL:
		return cfg_bool(x, v, sub, dst);
	}
	return cfg_err(x, v, sub, "unhandled field type %d", (int)f->type);
}

/** Object @p n of @p fields into @p base: its keys checked, then each field in table order. */
static int cfg_fields_read(struct cfg_walk *w, const yaml_node_t *n, const char *path,
			   const struct cfg_field *fields, void *base)
{
	int rc;

	if ((rc = cfg_map_table(w->x, n, path, fields, sizeof(*fields))))
		return rc;
	for (const struct cfg_field *f = fields; f->key; f++) {
		if ((rc = cfg_field_read(w, n, path, f, cfg_get(w->x, n, f->key), base)))
			return rc;
		if (w->after && (rc = w->after(w, n, path, f, base)))
			return rc;
	}
	return 0;
}

/*
 * A port range ends at or after its start; without endPort it is the one port. A numeric
 * servicePort is the target of the first port, and the data plane adds dport - port to it:
 * the range's last port must map to at most 65535 too.
 */
static int cfg_map_port_after(struct cfg_walk *w, const yaml_node_t *obj, const char *path,
			      const struct cfg_field *f, void *base)
{
	struct cfg_map_port *mp = base;
	char sub[CFG_KEYPATH_MAX];
	unsigned int span = (unsigned int)mp->end_port - mp->port;

	if (f == cfg_field_find(cfg_map_port_fields, "port")) {
		mp->end_port = mp->port;
	} else if (f == cfg_field_find(cfg_map_port_fields, "endPort") && mp->end_port < mp->port) {
		return cfg_err(w->x, cfg_get(w->x, obj, f->key), cfg_key_path(sub, path, f->key),
			       "%u is less than port %u", mp->end_port, mp->port);
	} else if (f == cfg_field_find(cfg_maglev_fields, "tableSize") &&
		   ((const struct cfg_maglev *)base)->table_size != 0 && // 0: not given
		   !maglev_table_size_ok(((const struct cfg_maglev *)base)->table_size)) {
		return cfg_err(w->x, cfg_get(w->x, obj, f->key), cfg_key_path(sub, path, f->key),
			       "%u is not one of " MAGLEV_TABLE_SIZES,
			       ((const struct cfg_maglev *)base)->table_size);
	} else if (f == cfg_field_find(cfg_map_port_fields, "servicePort") &&
		   mp->service_port != 0 && mp->service_port + span > 65535) {
		return cfg_err(w->x, cfg_get(w->x, obj, f->key), cfg_key_path(sub, path, f->key),
			       "%u + (endPort %u - port %u) = %u is past 65535", mp->service_port,
			       mp->end_port, mp->port, mp->service_port + span);
	}
	return 0;
}

/* What each mode cannot work without; checked last so that a bad value inside a key is
 * reported before a key that the mode needs. */
static int cfg_mode_check(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			  const struct cfg_mapping *m)
{
	char sub[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX];
	yaml_node_t *list;

	switch (m->mode) {
	case CFG_MODE_STATIC:
		if (!cfg_get(x, n, "ports"))
			return cfg_missing(x, n, path, "ports", " for a static mapping");
		if (m->n_ports == 0)
			return cfg_err(x, cfg_get(x, n, "ports"), cfg_key_path(sub, path, "ports"),
				       "at least one entry is required");
		for (unsigned int i = 0; i < m->n_ports; i++) {
			if (m->ports[i].service_port_name[0] == '\0')
				continue;
			list = cfg_item(x, cfg_get(x, n, "ports"), i);
			cfg_idx_path(item, cfg_key_path(sub, path, "ports"), i);
			return cfg_err(x, cfg_get(x, list, "servicePort"),
				       cfg_key_path(sub, item, "servicePort"),
				       "a port name needs a Service: use a number in a static "
				       "mapping");
		}
		break;
	case CFG_MODE_SERVICE:
		if (m->service_name[0] == '\0')
			return cfg_missing(x, n, path, "serviceName", " for mode service");
		if (m->n_ports == 0)
			return cfg_missing(x, n, path, "ports", " for mode service");
		break;
	case CFG_MODE_PER_POD:
		if (m->statefulset_name[0] == '\0')
			return cfg_missing(x, n, path, "statefulSetName", " for mode perPod");
		if (m->start_port == 0)
			return cfg_missing(x, n, path, "startPort", " for mode perPod");
		if (m->target_port == 0)
			return cfg_missing(x, n, path, "targetPort", " for mode perPod");
		break;
	}
	return 0;
}

int cfg_mapping_node(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
		     struct cfg_mapping *m)
{
	struct cfg_walk w = {.x = x, .after = cfg_map_port_after};
	yaml_node_t *backends;
	int rc;

	memset(m, 0, sizeof(*m));
	m->ordinal = -1;
	m->nat = CFG_NAT_FULL;
	m->backend_kind = CFG_BACKENDS_PODS;
	m->line = n->start_mark.line + 1;

	// A backends list is what makes a mapping static: nothing in Kubernetes to resolve.
	backends = n->type == YAML_MAPPING_NODE ? cfg_get(x, n, "backends") : NULL;
	w.is_static = backends && backends->type == YAML_SEQUENCE_NODE;
	if ((rc = cfg_fields_read(&w, n, path, cfg_mapping_fields, m)))
		return rc;
	if ((rc = cfg_mode_check(x, n, path, m)))
		return rc;
	if (m->pickup && m->nat != CFG_NAT_PRESERVE_SOURCE) {
		char sub[CFG_KEYPATH_MAX];
		// Under full NAT the pod saw this gateway's SNAT address and port: another
		// gateway cannot continue the flow without the session (session sync).
		return cfg_err(x, cfg_get(x, n, "pickup"), cfg_key_path(sub, path, "pickup"),
			       "needs nat: preserveSource (a fullNat flow cannot move)");
	}
	return 0;
}

/* ---- Public ------------------------------------------------------------------------------ */

int cfg_mapping_parse(const char *name, const char *buf, size_t len, struct cfg_mapping *out,
		      char *err, size_t errlen)
{
	struct cfg_ctx x;
	yaml_node_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cfg_begin(&x, name, buf, len, err, errlen, &root);
	if (rc)
		return rc;
	rc = cfg_mapping_node(&x, root, "", out);
	yaml_document_delete(&x.doc);
	if (rc) {
		cfg_mapping_free(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

void cfg_mapping_free(struct cfg_mapping *m)
{
	free(m->backends);
	m->backends = NULL;
	m->n_backends = 0;
}

int cfg_mapping_copy(struct cfg_mapping *dst, const struct cfg_mapping *src)
{
	struct cfg_backend *b = NULL;

	if (src->n_backends > 0) {
		b = malloc(src->n_backends * sizeof(*b));
		if (b == NULL)
			return -ENOMEM;
		memcpy(b, src->backends, src->n_backends * sizeof(*b));
	}
	*dst = *src;
	dst->backends = b;
	return 0;
}
