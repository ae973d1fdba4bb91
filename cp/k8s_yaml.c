/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * YAML → JSON, so that objects from files (manifests, kubeconfig) go through the same jansson
 * decoders as objects from the API server. libyaml's document loader resolves aliases to node
 * ids, and the JSON gets a copy of the aliased node at every reference: each document is first
 * checked against an alias bomb (cfg_yaml_check_expansion(): a budget of nodes and a depth, so
 * that a crafted alias cycle or a deep nesting cannot recurse without bound either).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <strait/config.h>
#include <strait/k8s_manifests.h>

static bool yj_plain(const yaml_node_t *n)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

// YAML 1.2 core schema integers: decimal, 0o octal, 0x hex. A leading zero is decimal in 1.2
// but octal in 1.1; kubectl (go-yaml v2, 1.1) would read 010 as 8, so it stays a string here
// rather than silently become either.
static bool yj_int(const char *s, json_int_t *out)
{
	const char *d = s + (*s == '-' || *s == '+');
	char *end;

	if (*d == '\0')
		return false;
	errno = 0;
	if (d[0] == '0' && (d[1] == 'x' || d[1] == 'o')) {
		if (d[2] == '\0')
			return false;
		long long v = strtoll(d + 2, &end, d[1] == 'x' ? 16 : 8);
		if (*end || errno)
			return false;
		*out = *s == '-' ? -v : v;
		return true;
	}
	if (strspn(d, "0123456789") != strlen(d) || (d[0] == '0' && d[1] != '\0'))
		return false;
	long long v = strtoll(s, &end, 10);
	if (*end || errno)
		return false;
	*out = v;
	return true;
}

static bool yj_float(const char *s, double *out)
{
	const char *d = s + (*s == '-' || *s == '+');
	char *end;

	// Digits, at most one dot, an optional exponent; no hex floats, inf or nan words.
	if (!((*d >= '0' && *d <= '9') || (*d == '.' && d[1] >= '0' && d[1] <= '9')))
		return false;
	if (strpbrk(d, "xXpPnNiI"))
		return false;
	// 010 and 01.5: a leading zero is the same ambiguity as for integers.
	if (d[0] == '0' && d[1] >= '0' && d[1] <= '9')
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return *end == '\0' && errno == 0;
}

static json_t *yj_scalar(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	json_int_t i;
	double f;

	// libyaml's loader gives every untagged scalar the default tag !!str, so an explicit
	// one cannot be told apart: the style decides, as it does for nearly every manifest.
	if (!yj_plain(n) || strlen(v) != len)
		return json_stringn(v, len);
	if (len == 0 || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	    !strcmp(v, "NULL"))
		return json_null();
	if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
		return json_true();
	if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
		return json_false();
	if (yj_int(v, &i))
		return json_integer(i);
	if (yj_float(v, &f))
		return json_real(f);
	return json_stringn(v, len);
}

struct yj_ctx {
	const char *name;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

/* Whether scalar @p n holds a NUL (YAML's "\0" escape), *rc and the error set if so: refused,
 * as the JSON decoders refuse "\u0000" (the mark of a packed value, strait/k8s_json.h, is
 * one). */
static bool yj_nul(struct yj_ctx *x, const yaml_node_t *n, int *rc)
{
	if (!memchr(n->data.scalar.value, '\0', n->data.scalar.length))
		return false;
	snprintf(x->err, x->errlen, "%s:%zu: a scalar holds a NUL (\\0)", x->name,
		 n->start_mark.line + 1);
	*rc = -EINVAL;
	return true;
}

static json_t *yj_node(struct yj_ctx *x, yaml_node_t *n, int depth, int *rc)
{
	json_t *out;

	if (depth > YAML_DEPTH_MAX) {
		snprintf(x->err, x->errlen, "%s:%zu: nested deeper than %d levels", x->name,
			 n->start_mark.line + 1, YAML_DEPTH_MAX);
		*rc = -EINVAL;
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if (yj_nul(x, n, rc))
			return NULL;
		out = yj_scalar(n);
		break;
	case YAML_SEQUENCE_NODE:
		out = json_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     out && it < n->data.sequence.items.top; it++) {
			json_t *v = yj_node(x, yaml_document_get_node(x->doc, *it), depth + 1, rc);
			if (!v || json_array_append_new(out, v)) {
				json_decref(out);
				return NULL;
			}
		}
		break;
	case YAML_MAPPING_NODE:
		out = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     out && p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
			json_t *v;

			if (k->type != YAML_SCALAR_NODE) {
				snprintf(x->err, x->errlen,
					 "%s:%zu: a mapping key must be a scalar", x->name,
					 k->start_mark.line + 1);
				*rc = -EINVAL;
				json_decref(out);
				return NULL;
			}
			if (yj_nul(x, k, rc)) {
				json_decref(out);
				return NULL;
			}
			v = yj_node(x, yaml_document_get_node(x->doc, p->value), depth + 1, rc);
			if (!v || json_object_setn_new(out, (const char *)k->data.scalar.value,
						       k->data.scalar.length, v)) {
				json_decref(out);
				return NULL;
			}
		}
		break;
	default:
		out = json_null();
		break;
	}
	if (!out && *rc == 0)
		*rc = -ENOMEM;
	return out;
}

int k8s_yaml_to_json(const char *name, const char *buf, size_t len, json_t **docs, char *err,
		     size_t errlen)
{
	struct yj_ctx x = {.name = name, .err = err, .errlen = errlen};
	yaml_document_t doc;
	yaml_parser_t p;
	json_t *arr;
	int rc = 0;

	*docs = NULL;
	if (err && errlen)
		err[0] = '\0';
	arr = json_array();
	if (!arr || !yaml_parser_initialize(&p)) {
		json_decref(arr);
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	for (;;) {
		yaml_node_t *root;

		if (!yaml_parser_load(&p, &doc)) {
			snprintf(err, errlen, "%s:%zu: syntax error: %s", name,
				 p.problem_mark.line + 1, p.problem ? p.problem : "unknown");
			rc = p.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
			break;
		}
		root = yaml_document_get_root_node(&doc);
		if (!root) {
			// No root: the end of the stream ("---" with nothing after it is one too).
			yaml_document_delete(&doc);
			if (p.stream_end_produced)
				break;
			continue;
		}
		rc = cfg_yaml_check_expansion(&doc, name, err, errlen);
		if (rc) {
			yaml_document_delete(&doc);
			break;
		}
		x.doc = &doc;
		json_t *v = yj_node(&x, root, 0, &rc);
		yaml_document_delete(&doc);
		if (!v)
			break;
		if (json_array_append_new(arr, v)) {
			rc = -ENOMEM;
			break;
		}
	}
	yaml_parser_delete(&p);
	if (rc) {
		json_decref(arr);
		return rc;
	}
	*docs = arr;
	return 0;
}
