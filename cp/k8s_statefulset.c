/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * StatefulSet source: a StatefulSet annotated with a port-mapper spec (strait.io/port-mapper,
 * or the psc-portmapper ones) gets one port per ordinal, as a Mapping in mode perPod does
 * (k8s_perpod.c), and its advertised list written back as an annotation. A StatefulSet
 * without such an annotation is no source; one with a bad annotation is, reported invalid.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <netinet/in.h>

#include <strait/k8s_json.h>
#include <strait/k8s_reconcile.h>

#include "k8s_build.h"
#include "k8s_perpod.h"
#include "k8s_source.h"

static int ann_port(const json_t *spec, const char *key, uint16_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(spec, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535) {
		snprintf(err, errlen, "%s: must be a port number 1-65535", key);
		return -EINVAL;
	}
	*out = (uint16_t)json_integer_value(v);
	return 0;
}

/* `limits` of the annotation: its snake_case keys, the ranges of CFG_LIMIT_FIELDS. */
static int ann_limits(const json_t *doc, struct cfg_limits *out, char *err, size_t errlen)
{
	static const struct {
		const char *key;
		size_t off;
		long long max;
	} keys[] = {
		{"sessions", offsetof(struct cfg_limits, sessions), CFG_MAX_SESSIONS},
		{"sessions_per_source", offsetof(struct cfg_limits, sessions_per_source), 65535},
		{"new_sessions_per_second", offsetof(struct cfg_limits, new_per_second),
		 CFG_MAX_SESSIONS},
	};
	json_t *l = json_object_get(doc, "limits"), *v;
	const char *k;

	if (!l)
		return 0;
	if (!json_is_object(l)) {
		snprintf(err, errlen, "limits: must be an object");
		return -EINVAL;
	}
	json_object_foreach(l, k, v) {
		size_t i = 0;
		while (i < (sizeof(keys) / sizeof(keys[0])) && strcmp(keys[i].key, k) != 0)
			i++;
		if (i == (sizeof(keys) / sizeof(keys[0]))) {
			snprintf(err, errlen,
				 "limits.%s: unknown key (sessions, sessions_per_source, "
				 "new_sessions_per_second)",
				 k);
			return -EINVAL;
		}
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > keys[i].max) {
			snprintf(err, errlen, "limits.%s: must be an integer 0-%lld", k,
				 keys[i].max);
			return -EINVAL;
		}
		*(uint32_t *)(void *)((char *)out + keys[i].off) = (uint32_t)json_integer_value(v);
	}
	return 0;
}

int k8s_portmap_parse(const json_t *sts, struct k8s_portmap_spec *spec, char *err, size_t errlen)
{
	static const char *const keys[] = {K8S_ANN_PORT_MAPPER, K8S_ANN_PSC, K8S_ANN_PSC_SPEC};
	json_t *ann = k8s_get(sts, "metadata", "annotations", NULL), *doc, *v;
	const char *text = NULL, *s;
	char msg[K8S_MESSAGE_MAX];
	json_error_t jerr;
	int rc = -EINVAL;

	memset(spec, 0, sizeof(*spec));
	spec->proto = IPPROTO_TCP;
	for (unsigned int i = 0; i < 3 && !text; i++) {
		text = json_string_value(json_object_get(ann, keys[i]));
		spec->annotation = keys[i];
	}
	if (!text)
		return 0;
	doc = json_loads(text, 0, &jerr);
	if (!json_is_object(doc)) {
		snprintf(err, errlen, "annotation %s: not a JSON object%s%s", spec->annotation,
			 doc ? "" : ": ", doc ? "" : jerr.text);
		json_decref(doc);
		return -EINVAL;
	}
	msg[0] = '\0';
	v = json_object_get(doc, "prefix");
	if (v && (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof(spec->prefix))) {
		snprintf(msg, sizeof(msg), "prefix: must be a string of at most %zu characters",
			 sizeof(spec->prefix) - 1);
		goto out;
	}
	snprintf(spec->prefix, sizeof(spec->prefix), "%s", v ? json_string_value(v) : "");
	for (const char *p = spec->prefix; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '.')) {
			snprintf(msg, sizeof(msg),
				 "prefix: \"%s\" must be lower-case letters, "
				 "digits, '-' or '.'",
				 spec->prefix);
			goto out;
		}
	}
	if (!json_object_get(doc, "start_port")) {
		snprintf(msg, sizeof(msg), "start_port: required");
		goto out;
	}
	if (ann_port(doc, "start_port", &spec->start_port, msg, sizeof(msg)) ||
	    ann_port(doc, "target_port", &spec->target_port, msg, sizeof(msg)) ||
	    ann_port(doc, "bootstrap_port", &spec->bootstrap_port, msg, sizeof(msg)))
		goto out;
	v = json_object_get(doc, "address");
	if (v && !k8s_ipv4(json_string_value(v), &spec->addr)) {
		snprintf(msg, sizeof(msg), "address: must be an IPv4 address");
		goto out;
	}
	if (ann_limits(doc, &spec->limits, msg, sizeof(msg)))
		goto out;
	v = json_object_get(doc, "affinity");
	if (v && cfg_affinity_parse(json_string_value(v), &spec->affinity) < 0) {
		snprintf(msg, sizeof(msg),
			 "affinity: must be fiveTuple, clientIP or clientIPAndPort");
		goto out;
	}
	v = json_object_get(doc, "protocol");
	s = json_string_value(v);
	if (v && s && strcasecmp(s, "udp") == 0) {
		spec->proto = IPPROTO_UDP;
	} else if (v && (!s || strcasecmp(s, "tcp") != 0)) {
		snprintf(msg, sizeof(msg), "protocol: must be tcp or udp");
		goto out;
	}
	rc = 1;
out:
	if (rc < 0)
		snprintf(err, errlen, "annotation %s: %s", spec->annotation, msg);
	json_decref(doc);
	return rc;
}

static int sts_decode(const json_t *sts, void *spec, char *err, size_t errlen)
{
	return k8s_portmap_parse(sts, spec, err, errlen);
}

static int sts_build(struct k8s_build *b, struct k8s_result *r, void *spec_)
{
	const struct k8s_portmap_spec *spec = spec_;
	struct cfg_mapping tmpl;
	char prefix[CFG_NAME_MAX + 2];

	memset(&tmpl, 0, sizeof(tmpl));
	snprintf(tmpl.ns, sizeof(tmpl.ns), "%s", r->ns);
	tmpl.addrs[0] = spec->addr ? spec->addr : b->p->default_addr;
	tmpl.n_addrs = 1;
	tmpl.ordinal = -1;
	tmpl.limits = spec->limits;
	tmpl.affinity = spec->affinity;
	if (!tmpl.addrs[0])
		return k8s_result_fail(r, "InvalidAnnotation",
				       "annotation %s: no address given and the config's ext port "
				       "has none",
				       spec->annotation);
	if (spec->prefix[0])
		snprintf(prefix, sizeof(prefix), "%s", spec->prefix);
	else if ((size_t)snprintf(prefix, sizeof(prefix), "%s-", r->name) >= sizeof(prefix))
		return k8s_result_fail(r, "InvalidAnnotation",
				       "annotation %s: the StatefulSet's name is too long for "
				       "mapping names: give a prefix",
				       spec->annotation);
	struct k8s_perpod pp = {
		.tmpl = &tmpl,
		.sts_name = r->name,
		.map_prefix = prefix,
		.name_is_pod = false,
		.start_port = spec->start_port,
		.target_port = spec->target_port,
		.bootstrap_port = spec->bootstrap_port,
		.proto = spec->proto,
		.invalid_reason = "InvalidAnnotation",
	};
	return k8s_perpod_build(b, r, &pp);
}

const struct k8s_source k8s_source_statefulset = {
	.invalid_reason = "InvalidAnnotation",
	.spec_size = sizeof(struct k8s_portmap_spec),
	.decode = sts_decode,
	.build = sts_build,
	.memo = true,
	.age = k8s_age_created,
	.report = k8s_report_annotation,
	.report_own = true,
	.orphan = k8s_report_annotation_orphan,
};
