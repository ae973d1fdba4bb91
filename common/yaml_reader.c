/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The YAML reader shared by the config file and the Mapping schema: one document loaded whole
 * with yaml_parser_load() and then walked, and typed readers of its nodes that check a value
 * and, when it is wrong, say so as `FILE:LINE: KEY.PATH: what is wrong`.
 *
 * The document is loaded whole rather than consumed as an event stream, for two reasons:
 * "required key missing" can only be said once a whole mapping has been seen, and it must name
 * that mapping's line; and whether a Mapping is static depends on the type of its `backends`,
 * which may come after the keys whose meaning it changes. So each reader takes the node (for
 * the line) and the key path it is at.
 *
 * Pure libc + libyaml: the unit test links this without EAL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include <strait/config.h>

#include "yaml_reader.h"

int cfg_err(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, const char *fmt, ...)
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
const char *cfg_show(const yaml_node_t *n, char buf[CFG_SHOW_BUF])
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

const char *cfg_key_path(char dst[CFG_KEYPATH_MAX], const char *path, const char *key)
{
	return cfg_path_mark_cut(
		dst, snprintf(dst, CFG_KEYPATH_MAX, "%s%s%s", path, *path ? "." : "", key));
}

const char *cfg_idx_path(char dst[CFG_KEYPATH_MAX], const char *path, unsigned int i)
{
	return cfg_path_mark_cut(dst, snprintf(dst, CFG_KEYPATH_MAX, "%s[%u]", path, i));
}

// YAML 1.2 core schema nulls. Only plain scalars: a quoted "null" is the string.
bool cfg_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL");
}

int cfg_scalar(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, const char **out)
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
int cfg_value(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, const char **out)
{
	int rc = cfg_scalar(x, n, path, out);

	if (rc == 0 && cfg_is_null(n))
		return cfg_err(x, n, path, "value missing");
	return rc;
}

int cfg_str(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, char *dst, size_t size)
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

int cfg_int(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, long long min,
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

int cfg_u16(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, unsigned int min,
	    unsigned int max, uint16_t *out)
{
	long long v = 0;
	int rc = cfg_int(x, n, path, min, max, &v);

	if (rc == 0)
		*out = (uint16_t)v;
	return rc;
}

int cfg_u32(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, uint32_t min,
	    uint32_t max, uint32_t *out)
{
	long long v = 0;
	int rc = cfg_int(x, n, path, min, max, &v);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int cfg_bool(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, bool *out)
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

int cfg_addr(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, uint32_t *out)
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

int cfg_prefix(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
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
int cfg_enum(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
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

yaml_node_t *cfg_item(struct cfg_ctx *x, const yaml_node_t *seq, unsigned int i)
{
	return yaml_document_get_node(&x->doc, seq->data.sequence.items.start[i]);
}

/** Check that @p n is a list (null counts as empty) of at most @p max entries. */
int cfg_seq(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, unsigned int max,
	    unsigned int *count)
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

int cfg_map_table(struct cfg_ctx *x, const yaml_node_t *n, const char *path, const void *table,
		  size_t stride)
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
		const char *name, *key;
		int i;

		if (k->type != YAML_SCALAR_NODE)
			return cfg_err(x, k, path, "a key must be a scalar, not %s", cfg_kind(k));
		name = (const char *)k->data.scalar.value;
		for (i = 0; (key = *(const char *const *)((const char *)table + i * stride)); i++)
			if (!strcmp(name, key))
				break;
		if (key == NULL)
			return cfg_err(x, k, path, "unknown key \"%s\"", cfg_show(k, s));
		if (seen & (1ull << i))
			return cfg_err(x, k, path, "duplicate key \"%s\"", cfg_show(k, s));
		seen |= 1ull << i;
	}
	return 0;
}

int cfg_map(struct cfg_ctx *x, const yaml_node_t *n, const char *path, const char *const keys[])
{
	return cfg_map_table(x, n, path, keys, sizeof(keys[0]));
}

/** Value of @p key in mapping @p n (checked with cfg_map()), NULL when absent. */
yaml_node_t *cfg_get(struct cfg_ctx *x, const yaml_node_t *n, const char *key)
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

int cfg_missing(const struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		const char *why)
{
	char sub[CFG_KEYPATH_MAX];

	return cfg_err(x, map, cfg_key_path(sub, path, key), "required key missing%s", why);
}

int cfg_need(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key)
{
	return cfg_get(x, map, key) ? 0 : cfg_missing(x, map, path, key, "");
}

// Optional keys: absent leaves the default that the caller put in *out.

int cfg_key_str(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		char *dst, size_t size)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_str(x, v, cfg_key_path(sub, path, key), dst, size) : 0;
}

int cfg_key_u16(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		unsigned int min, unsigned int max, uint16_t *out)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_u16(x, v, cfg_key_path(sub, path, key), min, max, out) : 0;
}

int cfg_key_u32(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		uint32_t min, uint32_t max, uint32_t *out)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_u32(x, v, cfg_key_path(sub, path, key), min, max, out) : 0;
}

int cfg_key_addr(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		 uint32_t *out)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_addr(x, v, cfg_key_path(sub, path, key), out) : 0;
}

int cfg_key_enum(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		 const char *const names[], int *out)
{
	char sub[CFG_KEYPATH_MAX];
	yaml_node_t *v = cfg_get(x, map, key);

	return v ? cfg_enum(x, v, cfg_key_path(sub, path, key), names, false, out) : 0;
}

/**
 * Look up list @p key of @p map: *list is NULL when absent, *count 0 when absent or null,
 * @p sub receives the key path for the caller's messages.
 */
int cfg_key_seq(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
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
int cfg_name(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, bool dots,
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
bool cfg_port_name_valid(const char *s)
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

/* ---- Documents ---- */

/* The alias budget (cfg_yaml_check_expansion()): the walk's state. */
struct cfg_expand {
	const yaml_document_t *doc;
	const uint8_t *refs;	    /* references to each node (index id - 1), saturated at 2 */
	size_t seen, budget;	    /* nodes counted so far, the most allowed */
	const yaml_node_t *culprit; /* the outermost aliased node on the failing path */
	bool deep;		    /* failed on depth rather than size */
};

/* Count node @p id and what it contains, once per reference; false when over a limit. */
static bool cfg_expand_walk(struct cfg_expand *e, int id, int depth)
{
	const yaml_node_t *n = yaml_document_get_node((yaml_document_t *)e->doc, id);
	bool ok = true;

	if (n == NULL)
		return true;
	if (++e->seen > e->budget || depth > YAML_DEPTH_MAX) {
		e->deep = depth > YAML_DEPTH_MAX;
		e->culprit = n;
		return false;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     ok && it < n->data.sequence.items.top; it++)
			ok = cfg_expand_walk(e, *it, depth + 1);
	} else if (n->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     ok && p < n->data.mapping.pairs.top; p++)
			ok = cfg_expand_walk(e, p->key, depth + 1) &&
			     cfg_expand_walk(e, p->value, depth + 1);
	}
	// Unwinding: the outermost node that is referenced more than once (an anchor) wins.
	if (!ok && e->refs[id - 1] > 1)
		e->culprit = n;
	return ok;
}

static void cfg_expand_ref(uint8_t *refs, size_t n_nodes, int id)
{
	if (id >= 1 && (size_t)id <= n_nodes && refs[id - 1] < 2)
		refs[id - 1]++;
}

int cfg_yaml_check_expansion(const struct yaml_document_s *doc, const char *name, char *err,
			     size_t errlen)
{
	size_t n_nodes = (size_t)(doc->nodes.top - doc->nodes.start);
	struct cfg_expand e = {
		.doc = doc,
		.budget = YAML_EXPAND_RATIO * n_nodes + YAML_EXPAND_SLACK,
	};
	uint8_t *refs;
	bool ok;

	if (n_nodes == 0)
		return 0;
	refs = calloc(n_nodes, 1);
	if (refs == NULL) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	for (const yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++) {
		if (n->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = n->data.sequence.items.start;
			     it < n->data.sequence.items.top; it++)
				cfg_expand_ref(refs, n_nodes, *it);
		} else if (n->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top; p++) {
				cfg_expand_ref(refs, n_nodes, p->key);
				cfg_expand_ref(refs, n_nodes, p->value);
			}
		}
	}
	e.refs = refs;
	ok = cfg_expand_walk(&e, 1, 0); // libyaml's root is node 1
	free(refs);
	if (ok)
		return 0;
	if (err && errlen) {
		if (e.deep)
			snprintf(err, errlen, "%s:%zu: nested deeper than %d levels", name,
				 e.culprit->start_mark.line + 1, YAML_DEPTH_MAX);
		else
			snprintf(err, errlen,
				 "%s:%zu: aliases expand the document past %zu nodes (%d times "
				 "its %zu, plus %d): refused as an alias bomb",
				 name, e.culprit->start_mark.line + 1, e.budget, YAML_EXPAND_RATIO,
				 n_nodes, YAML_EXPAND_SLACK);
	}
	return -EINVAL;
}

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
	// The schema follows aliases wherever it reads: a few lines must not become gigabytes.
	if ((rc = cfg_yaml_check_expansion(&x->doc, x->file, x->err, x->errlen)))
		goto err_doc;
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
int cfg_begin(struct cfg_ctx *x, const char *name, const char *buf, size_t len, char *err,
	      size_t errlen, yaml_node_t **root)
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
