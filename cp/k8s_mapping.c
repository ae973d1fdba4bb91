/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mapping reconciler. The spec is checked by the config file's own Mapping parser
 * (cfg_mapping_parse()), so that a Mapping means exactly the same thing, and is refused for
 * exactly the same reasons with the same messages, whether it comes from the config file, the
 * CLI or Kubernetes. Two differences of the API are applied first: fields strait does not know
 * (not CRD keys of cfg_mapping_fields, the one list of a Mapping's keys) are dropped (the API
 * ignores unknown fields: a newer Mapping must not break an older gateway), and `mode` is
 * required, as in the CRD.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include <strait/k8s_json.h>
#include <strait/k8s_reconcile.h>

#include "k8s_build.h"
#include "k8s_perpod.h"
#include "k8s_service.h"
#include "k8s_source.h"

/*
 * A copy of @p v with only the CRD's keys of @p fields (cfg_mapping_fields and its sub-tables:
 * the one list of a Mapping's keys), into objects and lists of objects whose keys are CRD keys
 * too. Anything else is copied as it is: the parser says what is wrong with it.
 */
static json_t *only(const json_t *v, const struct cfg_field *fields)
{
	const struct cfg_field *f;
	const char *k;
	json_t *e, *out;
	size_t i;

	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach((json_t *)v, i, e)
			if (out)
				json_array_append_new(out, only(e, fields));
		return out;
	}
	if (!json_is_object(v))
		return json_deep_copy(v);
	out = json_object();
	json_object_foreach((json_t *)v, k, e) {
		f = cfg_field_find(fields, k);
		if (!out || !f || !(f->flags & CFG_F_CRD))
			continue;
		if (f->sub && (f->sub[0].flags & CFG_F_CRD))
			json_object_set_new(out, k, only(e, f->sub));
		else
			json_object_set(out, k, e);
	}
	return out;
}

/* The parser's "spec:1: ports[0].port: ..." (FILE:LINE: PATH) → "spec.ports[0].port: ...". */
static void spec_message(const char *in, char *out, size_t len)
{
	const char *p = in;

	if (strncmp(p, "spec:", 5) == 0) {
		p += 5;
		p += strspn(p, "0123456789");
		if (p[0] == ':' && p[1] == ' ')
			p += 2;
		snprintf(out, len, "spec.%s", p);
		return;
	}
	snprintf(out, len, "%s", in);
}

unsigned long k8s_mapping_parses;

/*
 * The specs parsed, by their text (the dumped spec the parser reads, compared whole: the
 * cache's keys): an endpoint change rebuilds a Mapping whose spec did not change, and the
 * parse is most of its decode. The parser reads nothing but the text, so a spec text parsed
 * once gives the same mapping every time. Only specs the parser took are kept; at most
 * DECODED_MAX, all forgotten when one more comes (a spec that changes makes a new text, the
 * old one stays until then). Control thread.
 */
#define DECODED_MAX 16384
static json_t *decoded; /* text → json_integer(struct cfg_mapping *) */

static struct cfg_mapping *decoded_of(const json_t *v)
{
	return (struct cfg_mapping *)(intptr_t)json_integer_value(v);
}

/*
 * The spec each Mapping last decoded to a kept parse, by "namespace/name": a copy of the spec
 * object and that parse (in decoded). A spec that is the same JSON, its keys in the same order,
 * makes the same text (json_dumps() writes keys in their order): its parse is taken without
 * the filtered copy and the text (k8s_mapping_texts), which were most of a kept spec's decode.
 * Cleared with decoded, and when it holds DECODED_MAX. Control thread.
 */
static json_t *seen; /* "namespace/name" → [the spec's deep copy, json_integer(its parse)] */

unsigned long k8s_mapping_texts;

static void seen_clear(void)
{
	json_decref(seen);
	seen = NULL;
}

void k8s_mapping_decoded_clear(void)
{
	const char *k;
	json_t *v;

	seen_clear(); // points into decoded
	json_object_foreach(decoded, k, v) {
		cfg_mapping_free(decoded_of(v));
		free(decoded_of(v));
	}
	json_decref(decoded);
	decoded = NULL;
}

/* Whether @p a and @p b are the same JSON with the keys of each object in the same order:
 * json_dumps() writes them the same. */
static bool same_ordered(const json_t *a, const json_t *b)
{
	if (json_typeof(a) != json_typeof(b))
		return false;
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same_ordered(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (!json_is_object(a))
		return json_equal(a, b);
	void *i = json_object_iter((json_t *)a), *j = json_object_iter((json_t *)b);
	for (; i && j;
	     i = json_object_iter_next((json_t *)a, i), j = json_object_iter_next((json_t *)b, j)) {
		const size_t n = json_object_iter_key_len(i);
		if (n != json_object_iter_key_len(j) ||
		    memcmp(json_object_iter_key(i), json_object_iter_key(j), n) != 0 ||
		    !same_ordered(json_object_iter_value(i), json_object_iter_value(j)))
			return false;
	}
	return !i && !j;
}

/* Keep @p m, parsed from @p text (a copy; without memory, nothing). */
static void decoded_put(const char *text, const struct cfg_mapping *m)
{
	struct cfg_mapping *c;

	if (decoded && json_object_size(decoded) >= DECODED_MAX)
		k8s_mapping_decoded_clear();
	if (!decoded && !(decoded = json_object()))
		return;
	if (!(c = malloc(sizeof(*c))))
		return;
	if (cfg_mapping_copy(c, m) < 0) {
		free(c);
		return;
	}
	if (json_object_set_new(decoded, text, json_integer((json_int_t)(intptr_t)c)) < 0) {
		cfg_mapping_free(c);
		free(c);
	}
}

/* Remember that Mapping @p key's spec @p spec gave the kept parse of @p text, if any. */
static void seen_put(const char *key, const json_t *spec, const char *text)
{
	json_t *v = decoded ? json_object_get(decoded, text) : NULL;
	json_t *e;

	if (!v)
		return;
	if (seen && json_object_size(seen) >= DECODED_MAX && !json_object_get(seen, key))
		seen_clear();
	if (!seen && !(seen = json_object()))
		return;
	// The spec copied with its key order; the parse is decoded's (seen_clear() goes first).
	e = json_array();
	if (!e || json_array_append_new(e, json_deep_copy(spec)) < 0 ||
	    json_array_append_new(e, json_integer((json_int_t)(intptr_t)decoded_of(v))) < 0) {
		json_decref(e);
		return;
	}
	json_object_set_new(seen, key, e); // the old entry decref'd; on failure, kept as it was
}

/* cfg_mapping_parse() of @p text, or the copy of what it gave before. */
static int spec_parse(const char *text, struct cfg_mapping *m, char *msg, size_t len)
{
	json_t *v = decoded ? json_object_get(decoded, text) : NULL;
	int rc;

	if (v) {
		if (cfg_mapping_copy(m, decoded_of(v)) < 0) {
			memset(m, 0, sizeof(*m));
			return -ENOMEM;
		}
		return 0;
	}
	k8s_mapping_parses++;
	rc = cfg_mapping_parse("spec", text, strlen(text), m, msg, len);
	if (rc == 0)
		decoded_put(text, m);
	return rc;
}

/* The parse of @p spec, Mapping @p key's, when it is the spec it last decoded (seen):
 * copied into @p m. @return 1 (taken), 0 (not seen), -ENOMEM. */
static int seen_take(const char *key, const json_t *spec, struct cfg_mapping *m)
{
	json_t *v = seen ? json_object_get(seen, key) : NULL;

	if (!v || !same_ordered(json_array_get(v, 0), spec))
		return 0;
	if (cfg_mapping_copy(m, decoded_of(json_array_get(v, 1))) < 0) {
		memset(m, 0, sizeof(*m));
		return -ENOMEM;
	}
	return 1;
}

int k8s_mapping_decode(const json_t *obj, struct cfg_mapping *m, uint8_t *proto, char *err,
		       size_t errlen)
{
	json_t *spec = json_object_get(obj, "spec"), *f, *v;
	char *text, msg[K8S_MESSAGE_MAX];
	int rc;

	memset(m, 0, sizeof(*m));
	*proto = IPPROTO_TCP;
	if (!json_is_object(spec)) {
		snprintf(err, errlen, "spec: required, an object");
		return -EINVAL;
	}
	if (!json_object_get(spec, "mode")) {
		snprintf(err, errlen, "spec.mode: required key missing (service or perPod)");
		return -EINVAL;
	}
	char key[2 * K8S_NAME_MAX + 2];
	snprintf(key, sizeof(key), "%s/%s", k8s_str(obj, "metadata", "namespace", NULL),
		 k8s_str(obj, "metadata", "name", NULL));
	if (!(rc = seen_take(key, spec, m))) {
		f = only(spec, cfg_mapping_fields);
		if (!f)
			return -ENOMEM;
		// The parser wants a name; the real ones are the derived mappings' (checked
		// later).
		json_object_set_new(f, "name", json_string("x"));
		// ", " and ": " separators: JSON that is also YAML 1.1 flow syntax for libyaml.
		text = json_dumps(f, 0);
		json_decref(f);
		if (!text)
			return -ENOMEM;
		k8s_mapping_texts++;
		rc = spec_parse(text, m, msg, sizeof(msg));
		if (rc == 0)
			seen_put(key, spec, text);
		free(text);
	} else if (rc > 0) {
		rc = 0;
	}
	if (rc == -ENOMEM)
		return rc;
	if (rc < 0) {
		spec_message(msg, err, errlen);
		return rc;
	}
	if (m->mode == CFG_MODE_STATIC) {
		cfg_mapping_free(m);
		snprintf(err, errlen, "spec.backends: must be pods or nodePorts");
		return -EINVAL;
	}
	v = json_object_get(spec, "protocol");
	if (v && m->mode == CFG_MODE_PER_POD) {
		const char *p = json_string_value(v);
		if (p && strcasecmp(p, "udp") == 0) {
			*proto = IPPROTO_UDP;
		} else if (!p || strcasecmp(p, "tcp") != 0) {
			snprintf(err, errlen, "spec.protocol: must be tcp or udp");
			return -EINVAL;
		}
	}
	snprintf(m->name, sizeof(m->name), "%.*s", (int)sizeof(m->name) - 1,
		 k8s_str(obj, "metadata", "name", NULL));
	snprintf(m->ns, sizeof(m->ns), "%s", k8s_str(obj, "metadata", "namespace", NULL));
	return 0;
}

/* The decoded spec of a Mapping. */
struct mapping_spec {
	struct cfg_mapping tmpl; /* no backends; name and ns from metadata */
	uint8_t proto;		 /* mode perPod's spec.protocol */
};

static int mapping_decode(const json_t *obj, void *spec, char *err, size_t errlen)
{
	struct mapping_spec *s = spec;
	int rc = k8s_mapping_decode(obj, &s->tmpl, &s->proto, err, errlen);

	return rc < 0 ? rc : 1;
}

static void mapping_spec_free(void *spec)
{
	cfg_mapping_free(&((struct mapping_spec *)spec)->tmpl);
}

static int mapping_build(struct k8s_build *b, struct k8s_result *r, void *spec)
{
	struct mapping_spec *s = spec;
	struct cfg_mapping *tmpl = &s->tmpl;
	char prefix[K8S_NAME_MAX + 1];
	int rc;

	snprintf(tmpl->name, sizeof(tmpl->name), "%.*s", (int)sizeof(tmpl->name) - 1, r->name);
	snprintf(tmpl->ns, sizeof(tmpl->ns), "%s", r->ns);
	if (tmpl->mode == CFG_MODE_SERVICE) {
		if (strlen(r->name) >= CFG_NAME_MAX) {
			rc = k8s_result_fail(r, "InvalidSpec",
					     "metadata.name: strait serves names of at most %d "
					     "characters",
					     CFG_NAME_MAX - 1);
		} else {
			rc = k8s_service_build(b, r, tmpl);
		}
	} else {
		struct k8s_perpod pp = {
			.tmpl = tmpl,
			.sts_name = tmpl->statefulset_name,
			.map_prefix = prefix,
			.name_is_pod = true,
			.start_port = tmpl->start_port,
			.target_port = tmpl->target_port,
			.bootstrap_port = tmpl->bootstrap_port,
			.proto = s->proto,
			.invalid_reason = "InvalidSpec",
		};
		snprintf(prefix, sizeof(prefix), "%s-", r->name);
		rc = k8s_perpod_build(b, r, &pp);
	}
	return rc;
}

const struct k8s_source k8s_source_mapping = {
	.invalid_reason = "InvalidSpec",
	.spec_size = sizeof(struct mapping_spec),
	.decode = mapping_decode,
	.spec_free = mapping_spec_free,
	.build = mapping_build,
	.memo = true,
	.age = k8s_age_created,
	.report = k8s_report_status,
	.report_own = true,
};
