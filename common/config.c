/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config file (DESIGN §7) and Mapping spec (§5) loader.
 *
 * The document is loaded whole with yaml_parser_load() and then walked, rather than consumed
 * as an event stream, for two reasons: "required key missing" can only be said once a whole
 * mapping has been seen, and it must name that mapping's line; and whether a Mapping is
 * static depends on the type of its `backends`, which may come after the keys whose meaning
 * it changes. Every message is `FILE:LINE: KEY.PATH: what is wrong`, so each parse helper
 * takes the node (for the line) and the key path it is at.
 *
 * Pure libc + libyaml: the unit test links this without EAL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>
#include <sys/un.h>

#include <yaml.h>

#include <strait/config.h>

#define CFG_KEYPATH_MAX 128 /* "mappings[4095].backends[1023].weight" and then some */
#define CFG_SHOW_MAX 64	    /* bytes of user text echoed into a message */
#define CFG_SHOW_BUF (CFG_SHOW_MAX + 4)
#define CFG_PORT_NAME_MAX 15 /* IANA service name, as Kubernetes checks a port name */
// A year. Larger values are certainly typos, and this keeps seconds * TSC hz far from 2^64.
#define CFG_TIMEOUT_MAX 31536000

#define CFG_DEFAULT_SESSIONS 1048576
#define CFG_DEFAULT_TO_UDP 300	     /* RFC 4787 REQ-5 */
#define CFG_DEFAULT_TO_TCP_EST 7440  /* RFC 5382 REQ-5 */
#define CFG_DEFAULT_TO_TCP_TRANS 240 /* RFC 5382 REQ-5 */
#define CFG_DEFAULT_TO_ICMP 60	     /* RFC 5508 REQ-1 */

struct cfg_ctx {
	const char *file; /* for messages */
	const char *buf;  /* the whole input: reader errors give an offset, not a line */
	size_t len;
	yaml_document_t doc;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 4, 5)))
cfg_err(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
	va_list ap;
	int off;

	if (x->err == NULL || x->errlen == 0)
		return -EINVAL;
	off = snprintf(x->err, x->errlen, "%s:%zu: %s%s", x->file, n->start_mark.line + 1, path,
		       *path ? ": " : "");
	if (off >= 0 && (size_t)off < x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err + off, x->errlen - off, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

// User text goes into a one-line message: cut it short and keep control characters out.
static const char *cfg_show(const yaml_node_t *n, char buf[CFG_SHOW_BUF])
{
	size_t len = n->data.scalar.length;
	size_t i;

	for (i = 0; i < len && i < CFG_SHOW_MAX; i++) {
		unsigned char ch = n->data.scalar.value[i];
		buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (len > CFG_SHOW_MAX) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static const char *cfg_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

// Paths are bounded by the schema's depth and limits; should one still not fit, it ends in
// "..." rather than silently naming a different key.
static const char *cfg_path_mark_cut(char dst[CFG_KEYPATH_MAX], int len)
{
	if (len >= CFG_KEYPATH_MAX)
		memcpy(dst + CFG_KEYPATH_MAX - 4, "...", 4);
	return dst;
}

static const char *cfg_key_path(char dst[CFG_KEYPATH_MAX], const char *path, const char *key)
{
	return cfg_path_mark_cut(
		dst, snprintf(dst, CFG_KEYPATH_MAX, "%s%s%s", path, *path ? "." : "", key));
}

static const char *cfg_idx_path(char dst[CFG_KEYPATH_MAX], const char *path, unsigned int i)
{
	return cfg_path_mark_cut(dst, snprintf(dst, CFG_KEYPATH_MAX, "%s[%u]", path, i));
}

// YAML 1.2 core schema nulls. Only plain scalars: a quoted "null" is the string.
static bool cfg_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

static int cfg_scalar(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
		      const char **out)
{
	const char *v = (const char *)n->data.scalar.value;

	*out = "";
	if (n->type != YAML_SCALAR_NODE)
		return cfg_err(x, n, path, "expected a scalar, got %s", cfg_kind(n));
	// A "\0" escape would silently cut every C string we copy it into.
	if (strlen(v) != n->data.scalar.length)
		return cfg_err(x, n, path, "contains a NUL byte");
	*out = v;
	return 0;
}

// A scalar that must have a value: int, bool, address, enum.
static int cfg_value(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
		     const char **out)
{
	int rc = cfg_scalar(x, n, path, out);

	if (rc == 0 && cfg_is_null(n))
		return cfg_err(x, n, path, "value missing");
	return rc;
}

static int cfg_str(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, char *dst,
		   size_t size)
{
	const char *v;
	int rc = cfg_scalar(x, n, path, &v);

	if (rc)
		return rc;
	if (cfg_is_null(n))
		v = "";
	if (strlen(v) >= size)
		return cfg_err(x, n, path, "longer than %zu bytes", size - 1);
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int cfg_int(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, long long min,
		   long long max, long long *out)
{
	char s[CFG_SHOW_BUF];
	const char *v, *d;
	long long val;
	int rc = cfg_value(x, n, path, &v);

	if (rc)
		return rc;
	d = v + (*v == '-' || *v == '+');
	if (*d == '\0' || strspn(d, "0123456789") != strlen(d))
		return cfg_err(x, n, path, "\"%s\" is not an integer", cfg_show(n, s));
	// YAML 1.1 (and so many other tools) reads 010 as 8: refuse to guess.
	if (d[0] == '0' && d[1] != '\0')
		return cfg_err(x, n, path, "\"%s\" has a leading zero (octal in YAML 1.1)",
			       cfg_show(n, s));
	errno = 0;
	val = strtoll(v, NULL, 10);
	if (errno == ERANGE || val < min || val > max)
		return cfg_err(x, n, path, "%s is out of range %lld%s%lld", cfg_show(n, s), min,
			       min < 0 ? " to " : "-", max);
	*out = val;
	return 0;
}

static int cfg_u16(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
		   unsigned int min, unsigned int max, uint16_t *out)
{
	long long v;
	int rc = cfg_int(x, n, path, min, max, &v);

	if (rc == 0)
		*out = (uint16_t)v;
	return rc;
}

static int cfg_u32(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, uint32_t min,
		   uint32_t max, uint32_t *out)
{
	long long v;
	int rc = cfg_int(x, n, path, min, max, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

static int cfg_bool(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, bool *out)
{
	static const char *const t[] = {"true", "True", "TRUE"};
	static const char *const f[] = {"false", "False", "FALSE"};
	char s[CFG_SHOW_BUF];
	const char *v;
	int rc = cfg_value(x, n, path, &v);

	if (rc)
		return rc;
	for (unsigned int i = 0; i < 3; i++) {
		if (!strcmp(v, t[i]) || !strcmp(v, f[i])) {
			*out = !strcmp(v, t[i]);
			return 0;
		}
	}
	return cfg_err(x, n, path, "\"%s\" is not true or false", cfg_show(n, s));
}

static int cfg_addr(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, uint32_t *out)
{
	char s[CFG_SHOW_BUF];
	const char *v;
	int rc = cfg_value(x, n, path, &v);

	if (rc)
		return rc;
	if (cfg_parse_ipv4(v, out))
		return cfg_err(x, n, path, "\"%s\" is not an IPv4 address", cfg_show(n, s));
	return 0;
}

static int cfg_prefix(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
		      struct cfg_cidr *out)
{
	char s[CFG_SHOW_BUF];
	const char *v;
	int rc = cfg_value(x, n, path, &v);

	if (rc)
		return rc;
	if (cfg_parse_cidr(v, out))
		return cfg_err(x, n, path, "\"%s\" is not an IPv4 prefix", cfg_show(n, s));
	return 0;
}

/** @p names is NULL-terminated; *out is the index of the match. */
static int cfg_enum(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
		    const char *const names[], bool nocase, int *out)
{
	char s[CFG_SHOW_BUF], list[128] = "";
	const char *v;
	int rc = cfg_value(x, n, path, &v);

	if (rc)
		return rc;
	for (int i = 0; names[i] != NULL; i++) {
		if (nocase ? !strcasecmp(v, names[i]) : !strcmp(v, names[i])) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	}
	return cfg_err(x, n, path, "\"%s\" is not one of %s", cfg_show(n, s), list);
}

static yaml_node_t *cfg_item(struct cfg_ctx *x, const yaml_node_t *seq, unsigned int i)
{
	return yaml_document_get_node(&x->doc, seq->data.sequence.items.start[i]);
}

/** Check that @p n is a list (null counts as empty) of at most @p max entries. */
static int cfg_seq(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
		   unsigned int max, unsigned int *count)
{
	unsigned int c;

	*count = 0;
	if (cfg_is_null(n))
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return cfg_err(x, n, path, "expected a list, got %s", cfg_kind(n));
	c = n->data.sequence.items.top - n->data.sequence.items.start;
	if (c > max)
		return cfg_err(x, n, path, "has %u entries, at most %u allowed", c, max);
	*count = c;
	return 0;
}

/**
 * Check that @p n is a mapping (null counts as empty) whose keys are all in @p keys
 * (NULL-terminated, at most 64), each once: libyaml itself accepts duplicate keys.
 */
static int cfg_map(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
		   const char *const keys[])
{
	char s[CFG_SHOW_BUF];
	yaml_node_pair_t *p;
	uint64_t seen = 0;

	if (cfg_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return cfg_err(x, n, path, "expected a mapping, got %s", cfg_kind(n));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&x->doc, p->key);
		const char *name;
		int i;

		if (k->type != YAML_SCALAR_NODE)
			return cfg_err(x, k, path, "a key must be a scalar, not %s", cfg_kind(k));
		name = (const char *)k->data.scalar.value;
		for (i = 0; keys[i] != NULL; i++)
			if (!strcmp(name, keys[i]))
				break;
		if (keys[i] == NULL)
			return cfg_err(x, k, path, "unknown key \"%s\"", cfg_show(k, s));
		if (seen & (1ull << i))
			return cfg_err(x, k, path, "duplicate key \"%s\"", cfg_show(k, s));
		seen |= 1ull << i;
	}
	return 0;
}

/** Value of @p key in mapping @p n (checked with cfg_map()), NULL when absent. */
static yaml_node_t *cfg_get(struct cfg_ctx *x, const yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *p;

	if (n->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&x->doc, p->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
			return yaml_document_get_node(&x->doc, p->value);
	}
	return NULL;
}

static int cfg_missing(const struct cfg_ctx *x, const yaml_node_t *map, const char *path,
		       const char *key, const char *why)
{
	char sub[CFG_KEYPATH_MAX];

	return cfg_err(x, map, cfg_key_path(sub, path, key), "required key missing%s", why);
}

static int cfg_need(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key)
{
	return cfg_get(x, map, key) ? 0 : cfg_missing(x, map, path, key, "");
}

// Optional keys: absent leaves the default that the caller put in *out.

static int cfg_key_str(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		       char *dst, size_t size)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_str(x, v, cfg_key_path(sub, path, key), dst, size) : 0;
}

static int cfg_key_u16(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		       unsigned int min, unsigned int max, uint16_t *out)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_u16(x, v, cfg_key_path(sub, path, key), min, max, out) : 0;
}

static int cfg_key_u32(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		       uint32_t min, uint32_t max, uint32_t *out)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_u32(x, v, cfg_key_path(sub, path, key), min, max, out) : 0;
}

static int cfg_key_addr(struct cfg_ctx *x, const yaml_node_t *map, const char *path,
			const char *key, uint32_t *out)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_addr(x, v, cfg_key_path(sub, path, key), out) : 0;
}

static int cfg_key_enum(struct cfg_ctx *x, const yaml_node_t *map, const char *path,
			const char *key, const char *const names[], int *out)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_enum(x, v, cfg_key_path(sub, path, key), names, false, out) : 0;
}

/**
 * Look up list @p key of @p map: *list is NULL when absent, *count 0 when absent or null,
 * @p sub receives the key path for the caller's messages.
 */
static int cfg_key_seq(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		       unsigned int max, yaml_node_t **list, unsigned int *count,
		       char sub[CFG_KEYPATH_MAX])
{
	cfg_key_path(sub, path, key);
	*list = cfg_get(x, map, key);
	*count = 0;
	return *list ? cfg_seq(x, *list, sub, max, count) : 0;
}

// Kubernetes metadata.name is a DNS-1123 subdomain; strait also needs it to fit a 63-byte
// label because names become metric labels and fixed-size table keys. Namespaces are labels.
static bool cfg_name_valid(const char *s, bool dots)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			continue;
		if ((ch == '-' || (dots && ch == '.')) && i > 0 && i < len - 1)
			continue;
		return false;
	}
	return len > 0;
}

/** A name (@p dots) or a namespace; a namespace may be "" (none, or all). */
static int cfg_name(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, bool dots,
		    char dst[CFG_NAME_MAX])
{
	char s[CFG_SHOW_BUF];
	int rc = cfg_str(x, n, path, dst, CFG_NAME_MAX);

	if (rc || (!dots && dst[0] == '\0') || cfg_name_valid(dst, dots))
		return rc;
	return cfg_err(x, n, path,
		       "\"%s\" is not a valid name: use a-z, 0-9, '-'%s, and begin and end "
		       "with a letter or digit",
		       cfg_show(n, s), dots ? " and '.'" : "");
}

// Kubernetes' IANA_SVC_NAME rule for a port name, so that what we accept the API also does.
static bool cfg_port_name_valid(const char *s)
{
	size_t len = strlen(s);
	bool letter = false;

	if (len == 0 || len > CFG_PORT_NAME_MAX || s[0] == '-' || s[len - 1] == '-' ||
	    strstr(s, "--"))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] >= 'a' && s[i] <= 'z')
			letter = true;
		else if (!(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	}
	return letter;
}

/* ---- Mapping (DESIGN §5) ---- */

static const char *const cfg_mapping_keys[] = {
	"name",	     "namespace",   "addresses",     "allowedSources",
	"mode",	     "serviceName", "ports",	     "statefulSetName",
	"startPort", "targetPort",  "bootstrapPort", "nat",
	"backends",  "timeouts",    "ordinal",	     NULL,
};
static const char *const cfg_map_port_keys[] = {"port", "endPort", "servicePort", "protocol", NULL};
static const char *const cfg_backend_keys[] = {"address", "port", "weight", NULL};
static const char *const cfg_map_timeout_keys[] = {"udp", "tcpEstablished", "tcpTransitory", "icmp",
						   NULL};
static const char *const cfg_mode_names[] = {"service", "perPod", NULL};
static const char *const cfg_nat_names[] = {"fullNat", "preserveSource", NULL};
static const char *const cfg_backend_kind_names[] = {"pods", "nodePorts", NULL};
static const char *const cfg_proto_names[] = {"tcp", "udp", NULL};

static int cfg_map_port_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			      struct cfg_map_port *mp)
{
	char s[CFG_SHOW_BUF], sub[CFG_KEYPATH_MAX];
	yaml_node_t *v;
	int proto = 0;
	int rc;

	if ((rc = cfg_map(x, n, path, cfg_map_port_keys)) || (rc = cfg_need(x, n, path, "port")) ||
	    (rc = cfg_key_u16(x, n, path, "port", 1, 65535, &mp->port)))
		return rc;
	mp->end_port = mp->port;
	if ((rc = cfg_key_u16(x, n, path, "endPort", 1, 65535, &mp->end_port)))
		return rc;
	if (mp->end_port < mp->port)
		return cfg_err(x, cfg_get(x, n, "endPort"), cfg_key_path(sub, path, "endPort"),
			       "%u is less than port %u", mp->end_port, mp->port);

	v = cfg_get(x, n, "servicePort");
	if (v != NULL) {
		const char *sp;

		cfg_key_path(sub, path, "servicePort");
		if ((rc = cfg_value(x, v, sub, &sp)))
			return rc;
		// Kubernetes' IntOrString: a number, or the name of a Service port.
		if ((sp[0] >= '0' && sp[0] <= '9') || sp[0] == '-' || sp[0] == '+')
			rc = cfg_u16(x, v, sub, 1, 65535, &mp->service_port);
		else if (cfg_port_name_valid(sp))
			memcpy(mp->service_port_name, sp, strlen(sp) + 1);
		else
			rc = cfg_err(x, v, sub, "\"%s\" is not a port number or a port name",
				     cfg_show(v, s));
		if (rc)
			return rc;
	}

	v = cfg_get(x, n, "protocol");
	// Kubernetes writes TCP/UDP, the §5 spec tcp/udp: take both.
	if (v && (rc = cfg_enum(x, v, cfg_key_path(sub, path, "protocol"), cfg_proto_names, true,
				&proto)))
		return rc;
	mp->proto = proto == 0 ? IPPROTO_TCP : IPPROTO_UDP;
	return 0;
}

static int cfg_backend_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			     struct cfg_backend *b)
{
	int rc;

	b->weight = 1;
	if ((rc = cfg_map(x, n, path, cfg_backend_keys)) ||
	    (rc = cfg_need(x, n, path, "address")) ||
	    (rc = cfg_key_addr(x, n, path, "address", &b->addr)) ||
	    (rc = cfg_key_u16(x, n, path, "port", 1, 65535, &b->port)))
		return rc;
	// Maglev fills its lookup table in proportion to weight: 256 bounds the table size.
	return cfg_key_u16(x, n, path, "weight", 1, 256, &b->weight);
}

static int cfg_mapping_node(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			    struct cfg_mapping *m)
{
	char sub[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX];
	yaml_node_t *list, *v, *backends;
	unsigned int count;
	bool is_static;
	int rc, e;

	memset(m, 0, sizeof(*m));
	m->ordinal = -1;
	m->nat = CFG_NAT_FULL;
	m->backend_kind = CFG_BACKENDS_PODS;
	m->line = n->start_mark.line + 1;

	if ((rc = cfg_map(x, n, path, cfg_mapping_keys)))
		return rc;

	if ((rc = cfg_need(x, n, path, "name")) ||
	    (rc = cfg_name(x, cfg_get(x, n, "name"), cfg_key_path(sub, path, "name"), true,
			   m->name)))
		return rc;
	v = cfg_get(x, n, "namespace");
	if (v && (rc = cfg_name(x, v, cfg_key_path(sub, path, "namespace"), false, m->ns)))
		return rc;

	if ((rc = cfg_need(x, n, path, "addresses")) ||
	    (rc = cfg_key_seq(x, n, path, "addresses", CFG_MAX_ADDRS, &list, &count, sub)))
		return rc;
	if (count == 0)
		return cfg_err(x, list, sub, "at least one entry is required");
	for (unsigned int i = 0; i < count; i++)
		if ((rc = cfg_addr(x, cfg_item(x, list, i), cfg_idx_path(item, sub, i),
				   &m->addrs[i])))
			return rc;
	m->n_addrs = count;

	if ((rc = cfg_key_seq(x, n, path, "allowedSources", CFG_MAX_CIDRS, &list, &count, sub)))
		return rc;
	for (unsigned int i = 0; i < count; i++)
		if ((rc = cfg_prefix(x, cfg_item(x, list, i), cfg_idx_path(item, sub, i),
				     &m->allowed[i])))
			return rc;
	m->n_allowed = count;

	// A backends list is what makes a mapping static: nothing in Kubernetes to resolve.
	backends = cfg_get(x, n, "backends");
	is_static = backends && backends->type == YAML_SEQUENCE_NODE;
	v = cfg_get(x, n, "mode");
	if (v && is_static)
		return cfg_err(x, v, cfg_key_path(sub, path, "mode"),
			       "a mapping with a backends list is static and takes no mode");
	e = 0;
	if ((rc = cfg_key_enum(x, n, path, "mode", cfg_mode_names, &e)))
		return rc;
	m->mode = is_static ? CFG_MODE_STATIC : e == 0 ? CFG_MODE_SERVICE : CFG_MODE_PER_POD;

	// A Service name is a DNS label, a StatefulSet name a subdomain, as the API checks them.
	v = cfg_get(x, n, "serviceName");
	if (v &&
	    (rc = cfg_name(x, v, cfg_key_path(sub, path, "serviceName"), false, m->service_name)))
		return rc;
	v = cfg_get(x, n, "statefulSetName");
	if (v && (rc = cfg_name(x, v, cfg_key_path(sub, path, "statefulSetName"), true,
				m->statefulset_name)))
		return rc;
	if ((rc = cfg_key_u16(x, n, path, "startPort", 1, 65535, &m->start_port)) ||
	    (rc = cfg_key_u16(x, n, path, "targetPort", 1, 65535, &m->target_port)) ||
	    (rc = cfg_key_u16(x, n, path, "bootstrapPort", 1, 65535, &m->bootstrap_port)))
		return rc;

	if ((rc = cfg_key_seq(x, n, path, "ports", CFG_MAX_MAP_PORTS, &list, &count, sub)))
		return rc;
	for (unsigned int i = 0; i < count; i++)
		if ((rc = cfg_map_port_parse(x, cfg_item(x, list, i), cfg_idx_path(item, sub, i),
					     &m->ports[i])))
			return rc;
	m->n_ports = count;

	e = 0;
	if ((rc = cfg_key_enum(x, n, path, "nat", cfg_nat_names, &e)))
		return rc;
	m->nat = e == 0 ? CFG_NAT_FULL : CFG_NAT_PRESERVE_SOURCE;

	v = cfg_get(x, n, "timeouts");
	if (v != NULL) {
		cfg_key_path(sub, path, "timeouts");
		// 0 is allowed here: it means "the global timeout".
		if ((rc = cfg_map(x, v, sub, cfg_map_timeout_keys)) ||
		    (rc = cfg_key_u32(x, v, sub, "udp", 0, CFG_TIMEOUT_MAX, &m->timeouts.udp)) ||
		    (rc = cfg_key_u32(x, v, sub, "tcpEstablished", 0, CFG_TIMEOUT_MAX,
				      &m->timeouts.tcp_established)) ||
		    (rc = cfg_key_u32(x, v, sub, "tcpTransitory", 0, CFG_TIMEOUT_MAX,
				      &m->timeouts.tcp_transitory)) ||
		    (rc = cfg_key_u32(x, v, sub, "icmp", 0, CFG_TIMEOUT_MAX, &m->timeouts.icmp)))
			return rc;
	}

	v = cfg_get(x, n, "ordinal");
	if (v != NULL) {
		long long ord;

		if ((rc = cfg_int(x, v, cfg_key_path(sub, path, "ordinal"), -1, INT32_MAX, &ord)))
			return rc;
		m->ordinal = (int32_t)ord;
	}

	cfg_key_path(sub, path, "backends");
	if (backends && !is_static) {
		if (backends->type == YAML_MAPPING_NODE)
			return cfg_err(x, backends, sub,
				       "expected pods, nodePorts or a list, got a mapping");
		if ((rc = cfg_enum(x, backends, sub, cfg_backend_kind_names, false, &e)))
			return rc;
		m->backend_kind = e == 0 ? CFG_BACKENDS_PODS : CFG_BACKENDS_NODEPORTS;
	}
	if (is_static) {
		if ((rc = cfg_seq(x, backends, sub, CFG_MAX_BACKENDS, &count)))
			return rc;
		if (count == 0)
			return cfg_err(x, backends, sub, "at least one entry is required");
		m->backends = calloc(count, sizeof(*m->backends));
		if (m->backends == NULL)
			return -ENOMEM;
		for (unsigned int i = 0; i < count; i++) {
			if ((rc = cfg_backend_parse(x, cfg_item(x, backends, i),
						    cfg_idx_path(item, sub, i), &m->backends[i])))
				return rc;
			m->n_backends++;
		}
	}

	// What each mode cannot work without; checked last so that a bad value inside a key
	// is reported before a key that the mode needs.
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

/* ---- Config file (DESIGN §7) ---- */

static const char *const cfg_top_keys[] = {"ports",	 "workers",	   "sessions", "kubernetes",
					   "cli_socket", "metrics_listen", "mappings", NULL};
static const char *const cfg_ports_keys[] = {"ext", "int", NULL};
static const char *const cfg_port_keys[] = {"device", "addresses", "gateway", "routes", NULL};
static const char *const cfg_route_keys[] = {"prefix", "via", NULL};
static const char *const cfg_sessions_keys[] = {"max", "timeouts", NULL};
static const char *const cfg_timeout_keys[] = {"udp", "tcp_established", "tcp_transitory", "icmp",
					       NULL};
static const char *const cfg_k8s_keys[] = {"enabled", "kubeconfig", "namespace", NULL};

static int cfg_port_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			  struct cfg_port *p)
{
	char sub[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX], rpath[CFG_KEYPATH_MAX];
	yaml_node_t *list;
	unsigned int count;
	int rc;

	p->present = true;
	if ((rc = cfg_map(x, n, path, cfg_port_keys)) || (rc = cfg_need(x, n, path, "device")) ||
	    (rc = cfg_key_str(x, n, path, "device", p->device, sizeof(p->device))))
		return rc;
	p->device_line = (unsigned int)cfg_get(x, n, "device")->start_mark.line + 1;
	if (p->device[0] == '\0')
		return cfg_err(x, cfg_get(x, n, "device"), cfg_key_path(sub, path, "device"),
			       "must not be empty");

	// The gateway's own address on each arm: ARP answers and, on `int`, the full-NAT source.
	if ((rc = cfg_need(x, n, path, "addresses")) ||
	    (rc = cfg_key_seq(x, n, path, "addresses", CFG_MAX_ADDRS, &list, &count, sub)))
		return rc;
	if (count == 0)
		return cfg_err(x, list, sub, "at least one entry is required");
	for (unsigned int i = 0; i < count; i++)
		if ((rc = cfg_prefix(x, cfg_item(x, list, i), cfg_idx_path(item, sub, i),
				     &p->addrs[i])))
			return rc;
	p->n_addrs = count;

	if ((rc = cfg_key_addr(x, n, path, "gateway", &p->gateway)))
		return rc;

	if ((rc = cfg_key_seq(x, n, path, "routes", CFG_MAX_ROUTES, &list, &count, rpath)))
		return rc;
	for (unsigned int i = 0; i < count; i++) {
		yaml_node_t *r = cfg_item(x, list, i);

		cfg_idx_path(item, rpath, i);
		if ((rc = cfg_map(x, r, item, cfg_route_keys)) ||
		    (rc = cfg_need(x, r, item, "prefix")) || (rc = cfg_need(x, r, item, "via")) ||
		    (rc = cfg_prefix(x, cfg_get(x, r, "prefix"), cfg_key_path(sub, item, "prefix"),
				     &p->routes[i].prefix)) ||
		    (rc = cfg_key_addr(x, r, item, "via", &p->routes[i].via)))
			return rc;
	}
	p->n_routes = count;
	return 0;
}

static int cfg_timeouts_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			      struct cfg_timeouts *t)
{
	int rc;

	if ((rc = cfg_map(x, n, path, cfg_timeout_keys)) ||
	    (rc = cfg_key_u32(x, n, path, "udp", 1, CFG_TIMEOUT_MAX, &t->udp)) ||
	    (rc = cfg_key_u32(x, n, path, "tcp_established", 1, CFG_TIMEOUT_MAX,
			      &t->tcp_established)) ||
	    (rc = cfg_key_u32(x, n, path, "tcp_transitory", 1, CFG_TIMEOUT_MAX,
			      &t->tcp_transitory)) ||
	    (rc = cfg_key_u32(x, n, path, "icmp", 1, CFG_TIMEOUT_MAX, &t->icmp)))
		return rc;
	return 0;
}

static int cfg_metrics_listen_check(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
				    const char *v)
{
	char s[CFG_SHOW_BUF];
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (*v == '\0')
		return 0;
	if (colon != NULL && colon != v && colon[1] >= '1' && colon[1] <= '9') {
		port = strtol(colon + 1, &end, 10);
		if (*end == '\0' && port <= 65535)
			return 0;
	}
	return cfg_err(x, n, path, "\"%s\" is not host:port", cfg_show(n, s));
}

static int cfg_mappings_parse(struct cfg_ctx *x, const yaml_node_t *root, struct cfg *c)
{
	char sub[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX], name_path[CFG_KEYPATH_MAX];
	yaml_node_t *list;
	unsigned int count;
	int rc;

	if ((rc = cfg_key_seq(x, root, "", "mappings", CFG_MAX_MAPPINGS, &list, &count, sub)))
		return rc;
	if (count == 0)
		return 0;
	c->mappings = calloc(count, sizeof(*c->mappings));
	if (c->mappings == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < count; i++) {
		struct cfg_mapping *m = &c->mappings[i];
		yaml_node_t *n = cfg_item(x, list, i);

		rc = cfg_mapping_node(x, n, cfg_idx_path(item, sub, i), m);
		c->n_mappings++; // even on failure: cfg_free() releases its backends
		if (rc)
			return rc;
		// Kubernetes identifies a Mapping by namespace and name; so do the CLI's
		// `del mapping` and the metrics labels.
		for (unsigned int j = 0; j < i; j++) {
			if (strcmp(m->name, c->mappings[j].name) ||
			    strcmp(m->ns, c->mappings[j].ns))
				continue;
			return cfg_err(x, cfg_get(x, n, "name"),
				       cfg_key_path(name_path, item, "name"),
				       "duplicate mapping name \"%s\" (first at line %u)", m->name,
				       c->mappings[j].line);
		}
	}
	return 0;
}

static int cfg_root_parse(struct cfg_ctx *x, const yaml_node_t *root, struct cfg *c)
{
	yaml_node_t *v;
	int rc;

	if ((rc = cfg_map(x, root, "", cfg_top_keys)) || (rc = cfg_need(x, root, "", "ports")))
		return rc;

	v = cfg_get(x, root, "ports");
	if ((rc = cfg_map(x, v, "ports", cfg_ports_keys)) ||
	    (rc = cfg_need(x, v, "ports", "ext")) ||
	    (rc = cfg_port_parse(x, cfg_get(x, v, "ext"), "ports.ext", &c->ext)))
		return rc;
	if (cfg_get(x, v, "int") &&
	    (rc = cfg_port_parse(x, cfg_get(x, v, "int"), "ports.int", &c->intl)))
		return rc;

	if ((rc = cfg_key_u32(x, root, "", "workers", 1, CFG_MAX_WORKERS, &c->workers)))
		return rc;

	v = cfg_get(x, root, "sessions");
	if (v != NULL) {
		if ((rc = cfg_map(x, v, "sessions", cfg_sessions_keys)) ||
		    (rc = cfg_key_u32(x, v, "sessions", "max", 1, UINT32_MAX, &c->sessions_max)))
			return rc;
		if (cfg_get(x, v, "timeouts") &&
		    (rc = cfg_timeouts_parse(x, cfg_get(x, v, "timeouts"), "sessions.timeouts",
					     &c->timeouts)))
			return rc;
	}

	v = cfg_get(x, root, "kubernetes");
	if (v != NULL) {
		yaml_node_t *ns;

		if ((rc = cfg_map(x, v, "kubernetes", cfg_k8s_keys)) ||
		    (rc = cfg_key_str(x, v, "kubernetes", "kubeconfig", c->k8s.kubeconfig,
				      sizeof(c->k8s.kubeconfig))))
			return rc;
		if (cfg_get(x, v, "enabled") &&
		    (rc = cfg_bool(x, cfg_get(x, v, "enabled"), "kubernetes.enabled",
				   &c->k8s.enabled)))
			return rc;
		ns = cfg_get(x, v, "namespace");
		if (ns && (rc = cfg_name(x, ns, "kubernetes.namespace", false, c->k8s.ns)))
			return rc;
	}

	v = cfg_get(x, root, "cli_socket");
	if (v != NULL) {
		// bind() takes at most sun_path's size with the NUL: say so now, not at start-up.
		if ((rc = cfg_str(x, v, "cli_socket", c->cli_socket,
				  sizeof(((struct sockaddr_un *)0)->sun_path))))
			return rc;
	}
	if ((rc = cfg_key_str(x, root, "", "metrics_listen", c->metrics_listen,
			      sizeof(c->metrics_listen))))
		return rc;
	v = cfg_get(x, root, "metrics_listen");
	if (v && (rc = cfg_metrics_listen_check(x, v, "metrics_listen", c->metrics_listen)))
		return rc;

	return cfg_mappings_parse(x, root, c);
}

/* ---- Documents ---- */

static int cfg_syntax_error(const struct cfg_ctx *x, const yaml_parser_t *p)
{
	size_t line = p->problem_mark.line + 1, last;

	if (p->error == YAML_MEMORY_ERROR) {
		if (x->err && x->errlen)
			snprintf(x->err, x->errlen, "%s: out of memory", x->file);
		return -ENOMEM;
	}
	// The reader (bad UTF-8, a NUL byte) reports a byte offset and leaves the mark unset.
	if (p->error == YAML_READER_ERROR) {
		line = 1;
		for (size_t i = 0; i < p->problem_offset && i < x->len; i++)
			line += x->buf[i] == '\n';
	}
	// At the end of the input libyaml moves its mark to a line after the last one; an
	// unclosed `{` on the one line of `add mapping {...` is on line 1, not 2.
	last = 1;
	for (size_t i = 0; i + 1 < x->len; i++)
		last += x->buf[i] == '\n';
	if (line > last)
		line = last;
	if (x->err && x->errlen)
		snprintf(x->err, x->errlen, "%s:%zu: syntax error: %s", x->file, line,
			 p->problem ? p->problem : "unknown");
	return -EINVAL;
}

/**
 * Load the one document of @p x->buf into @p x->doc and return its root in @p root.
 * On success the caller deletes x->doc.
 */
static int cfg_doc_load(struct cfg_ctx *x, yaml_node_t **root)
{
	yaml_document_t extra;
	yaml_parser_t p;
	yaml_node_t *second;
	int rc = 0;

	if (!yaml_parser_initialize(&p)) {
		if (x->err && x->errlen)
			snprintf(x->err, x->errlen, "%s: out of memory", x->file);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)(x->buf ? x->buf : ""), x->len);
	// yaml_parser_load() deletes the document itself when it fails.
	if (!yaml_parser_load(&p, &x->doc)) {
		rc = cfg_syntax_error(x, &p);
		goto out;
	}
	*root = yaml_document_get_root_node(&x->doc);
	if (*root == NULL) {
		if (x->err && x->errlen)
			snprintf(x->err, x->errlen, "%s:1: document is empty", x->file);
		rc = -EINVAL;
		goto err_doc;
	}
	// A `---` further down would otherwise be ignored along with everything after it.
	if (!yaml_parser_load(&p, &extra)) {
		rc = cfg_syntax_error(x, &p);
		goto err_doc;
	}
	second = yaml_document_get_root_node(&extra);
	if (second != NULL)
		rc = cfg_err(x, second, "", "only one YAML document is allowed");
	yaml_document_delete(&extra);
	if (rc == 0)
		goto out;
err_doc:
	yaml_document_delete(&x->doc);
out:
	yaml_parser_delete(&p);
	return rc;
}

/* The start shared by every entry point: the context, an empty message, the document. */
static int cfg_begin(struct cfg_ctx *x, const char *name, const char *buf, size_t len,
		     char *err, size_t errlen, yaml_node_t **root)
{
	*x = (struct cfg_ctx){
		.file = name ? name : "<string>",
		.buf = buf,
		.len = buf ? len : 0,
		.err = err,
		.errlen = errlen,
	};
	if (err && errlen)
		err[0] = '\0';
	return cfg_doc_load(x, root);
}

int cfg_load_string(const char *name, const char *buf, size_t len, struct cfg *out, char *err,
		    size_t errlen)
{
	struct cfg_ctx x;
	yaml_node_t *root;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = cfg_begin(&x, name, buf, len, err, errlen, &root);
	if (rc)
		return rc;

	snprintf(out->path, sizeof(out->path), "%s", x.file);
	out->workers = 1;
	out->sessions_max = CFG_DEFAULT_SESSIONS;
	out->timeouts = (struct cfg_timeouts){
		.udp = CFG_DEFAULT_TO_UDP,
		.tcp_established = CFG_DEFAULT_TO_TCP_EST,
		.tcp_transitory = CFG_DEFAULT_TO_TCP_TRANS,
		.icmp = CFG_DEFAULT_TO_ICMP,
	};
	rc = cfg_root_parse(&x, root, out);
	yaml_document_delete(&x.doc);
	if (rc) {
		cfg_free(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

int cfg_load_file(const char *path, struct cfg *out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	FILE *f;
	int rc;

	memset(out, 0, sizeof(*out));
	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(-rc));
		return rc;
	}
	// Read it all first: libyaml's file reader turns an I/O error into a bare "input error".
	for (;;) {
		if (len == cap) {
			char *nbuf = realloc(buf, cap ? cap * 2 : 65536);

			if (nbuf == NULL) {
				rc = -ENOMEM;
				goto err;
			}
			buf = nbuf;
			cap = cap ? cap * 2 : 65536;
		}
		len += fread(buf + len, 1, cap - len, f);
		if (ferror(f)) {
			rc = errno ? -errno : -EIO;
			goto err;
		}
		if (feof(f))
			break;
	}
	fclose(f);
	rc = cfg_load_string(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
err:
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-rc));
	fclose(f);
	free(buf);
	return rc;
}

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

void cfg_free(struct cfg *c)
{
	for (unsigned int i = 0; i < c->n_mappings; i++)
		cfg_mapping_free(&c->mappings[i]);
	free(c->mappings);
	c->mappings = NULL;
	c->n_mappings = 0;
}

/* ---- Address helpers ---- */

// Strict where inet_aton() is lenient: exactly four decimal octets, nothing around them, and
// no leading zeros, which inet_aton() would read as octal.
int cfg_parse_ipv4(const char *s, uint32_t *addr)
{
	uint32_t a = 0;

	for (int i = 0; i < 4; i++) {
		unsigned int v = 0, digits = 0;
		const char *start;

		if (i > 0 && *s++ != '.')
			return -EINVAL;
		start = s;
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && *start == '0'))
			return -EINVAL;
		a = a << 8 | v;
	}
	if (*s != '\0')
		return -EINVAL;
	*addr = a;
	return 0;
}

int cfg_parse_cidr(const char *s, struct cfg_cidr *c)
{
	const char *slash = strchr(s, '/');
	char ip[16];
	size_t iplen = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int len = 32;
	uint32_t addr;

	if (iplen >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	if (cfg_parse_ipv4(ip, &addr))
		return -EINVAL;
	if (slash != NULL) {
		const char *l = slash + 1;

		if (!(l[0] >= '0' && l[0] <= '9') || (l[0] == '0' && l[1] != '\0'))
			return -EINVAL;
		len = (unsigned int)(l[0] - '0');
		if (l[1] != '\0') {
			if (!(l[1] >= '0' && l[1] <= '9') || l[2] != '\0')
				return -EINVAL;
			len = len * 10 + (unsigned int)(l[1] - '0');
		}
		if (len > 32)
			return -EINVAL;
	}
	// Host bits stay as written: `10.0.0.1/24` on a port is an address plus its subnet.
	c->addr = addr;
	c->len = (uint8_t)len;
	return 0;
}

char *cfg_ipv4_str(uint32_t addr, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
		 addr & 0xff);
	return buf;
}
