/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What strait says back about a source object: its status (Mappings), its advertised
 * annotation (StatefulSets) and Events. Pure builders: the writer thread sends them.
 *
 * The "Programmed" message names the table generation in which the object's own mappings
 * last changed, not the current one: the current one moves with every change anywhere, and
 * writing every object's status on every table push would turn one change into N writes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <strait/k8s_json.h>
#include <strait/k8s_kinds.h>
#include <strait/k8s_status.h>

struct cond {
	const char *type;
	bool status;
	const char *reason;
	char message[K8S_MESSAGE_MAX];
};

unsigned long k8s_status_conditions_built;
unsigned long k8s_status_conditions_kept;

/* Whether string @p v is @p s, with no NUL inside (which its text would show). */
static bool str_is(const json_t *v, const char *s)
{
	return json_is_string(v) && s && json_string_length(v) == strlen(s) &&
	       strcmp(json_string_value(v), s) == 0;
}

/* Whether @p o is the condition cond_json() builds of @p c (status @p st, generation @p gen,
 * the transition time @p o's own), key for key in that order and no other key: the same
 * text. */
static bool cond_is(const json_t *o, const struct cond *c, const char *st, int64_t gen)
{
	static const char *const keys[] = {
		"type", "status", "observedGeneration", "lastTransitionTime", "reason", "message"};
	const char *want[] = {c->type, st, NULL, NULL, c->reason, c->message};
	void *it = json_object_iter((json_t *)o);

	for (unsigned int i = 0; i < 6; i++, it = json_object_iter_next((json_t *)o, it)) {
		const json_t *v = it ? json_object_iter_value(it) : NULL;

		if (!it || strcmp(json_object_iter_key(it), keys[i]) != 0)
			return false;
		if (i == 2 ? !json_is_integer(v) || json_integer_value(v) != (json_int_t)gen
			   : !str_is(v, i == 3 ? json_string_value(v) : want[i]))
			return false;
	}
	return it == NULL;
}

static json_t *cond_json(const struct cond *c, const json_t *cur_conds, int64_t gen, int64_t now_us)
{
	const char *st = c->status ? "True" : "False";
	const char *ltt = NULL;
	char now[32];
	json_t *it, *last = NULL;
	size_t i;

	// metav1.Condition: lastTransitionTime is when status last changed, not when we wrote.
	json_array_foreach(cur_conds, i, it)
		if (strcmp(k8s_str(it, "type", NULL), c->type) == 0 &&
		    strcmp(k8s_str(it, "status", NULL), st) == 0) {
			ltt = k8s_str(it, "lastTransitionTime", NULL);
			last = it;
		}
	// The one whose time it keeps already says all the rest: that one, not a copy.
	if (last && ltt && ltt[0] && cond_is(last, c, st, gen)) {
		k8s_status_conditions_kept++;
		return json_incref(last);
	}
	k8s_status_conditions_built++;
	if (!ltt || !ltt[0])
		ltt = k8s_time_format(now_us, false, now);
	// As json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}") made it, key for key in that order,
	// NULL for a string that is not UTF-8 (or NULL) or without memory, but without reading
	// a format each time: several conditions per status built, a status per changed result.
	json_t *o = json_object();
	if (!o || json_object_set_new_nocheck(o, "type", json_string(c->type)) < 0 ||
	    json_object_set_new_nocheck(o, "status", json_string(st)) < 0 ||
	    json_object_set_new_nocheck(o, "observedGeneration", json_integer((json_int_t)gen)) <
		    0 ||
	    json_object_set_new_nocheck(o, "lastTransitionTime", json_string(ltt)) < 0 ||
	    json_object_set_new_nocheck(o, "reason", json_string(c->reason)) < 0 ||
	    json_object_set_new_nocheck(o, "message", json_string(c->message)) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static void addresses(const struct k8s_result *r, char *buf, size_t len)
{
	json_t *it;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(r->advertised, i, it) {
		const char *a = k8s_str(it, "address", NULL);
		if (strstr(buf, a))
			continue;
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? ", " : "", a);
	}
}

json_t *k8s_status_build(const struct k8s_result *r, const json_t *cur, bool programmed,
			 uint64_t table_gen, const char *publish_error, int64_t now_us)
{
	const json_t *cur_conds = json_object_get(cur, "conditions");
	bool live = programmed && r->accepted;
	struct cond ready = {"Ready", false, NULL, ""};
	struct cond prog = {"Programmed", false, NULL, ""};
	struct cond conf = {"Conflict", r->conflict, NULL, ""};
	char addrs[256];
	json_t *out, *conds;

	addresses(r, addrs, sizeof(addrs));
	if (!r->valid || r->conflict) {
		ready.reason = prog.reason = r->reason;
		snprintf(ready.message, sizeof(ready.message), "%s", r->message);
		snprintf(prog.message, sizeof(prog.message), "%s", r->message);
	} else if (!live) {
		ready.reason = prog.reason = "PublishFailed";
		snprintf(prog.message, sizeof(prog.message), "%s",
			 publish_error ? publish_error : "the tables were not published");
		snprintf(ready.message, sizeof(ready.message), "%s", prog.message);
	} else {
		prog.status = true;
		prog.reason = "TablesPublished";
		snprintf(prog.message, sizeof(prog.message), "mapping table generation %llu",
			 (unsigned long long)table_gen);
		if (r->n_ports > 0 && r->n_ports_ready == r->n_ports) {
			ready.status = true;
			ready.reason = "Programmed";
			snprintf(ready.message, sizeof(ready.message), "%u port%s programmed on %s",
				 r->n_ports, r->n_ports == 1 ? "" : "s", addrs);
		} else {
			ready.reason = "NoReadyEndpoints";
			snprintf(ready.message, sizeof(ready.message),
				 "%u of %u port%s have a ready backend", r->n_ports_ready,
				 r->n_ports, r->n_ports == 1 ? "" : "s");
		}
	}
	conf.reason = r->conflict ? "PortConflict" : "NoConflict";
	snprintf(conf.message, sizeof(conf.message), "%s", r->conflict ? r->conflict_message : "");

	conds = json_array();
	out = json_object();
	if (!conds || !out)
		goto nomem;
	// Unsupported: only on objects that have fields strait leaves out (l7mp's rewrite...).
	struct cond unsup = {"Unsupported", true, "UnsupportedField", ""};
	snprintf(unsup.message, sizeof(unsup.message), "not served at L4, ignored: %.480s",
		 r->unsupported);
	const struct cond *all[] = {&ready, &prog, &conf, &unsup};
	for (unsigned int i = 0; i < (r->unsupported[0] ? 4u : 3u); i++)
		if (json_array_append_new(conds,
					  cond_json(all[i], cur_conds, r->generation, now_us)))
			goto nomem;
	if (json_object_set_new(out, "observedGeneration", json_integer(r->generation)) ||
	    json_object_set_new(out, "conditions", conds) ||
	    json_object_set_new(out, "advertised",
				live ? json_incref(r->advertised) : json_array()))
		goto nomem_out;
	return out;
nomem:
	json_decref(conds);
nomem_out:
	json_decref(out);
	errno = ENOMEM;
	return NULL;
}

bool k8s_status_same(const json_t *cur, const json_t *want)
{
	const char *k;
	json_t *v;

	if (!json_is_object(cur))
		return false;
	json_object_foreach((json_t *)want, k, v)
		if (!k8s_json_equal(json_object_get(cur, k), v))
			return false;
	return true;
}

char *k8s_status_summary(const json_t *status, bool brief, char *buf, size_t len)
{
	json_t *it;
	size_t i, n = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(status, "conditions"), i, it) {
		const char *m = k8s_str(it, "message", NULL);

		if (brief && strcmp(k8s_str(it, "type", NULL), "Programmed") == 0)
			m = "";
		n += snprintf(buf + n, n < len ? len - n : 0, "%s%s=%s (%s%s%s)", i ? ", " : "",
			      k8s_str(it, "type", NULL), k8s_str(it, "status", NULL),
			      k8s_str(it, "reason", NULL), m[0] ? ": " : "", m);
	}
	n += snprintf(buf + n, n < len ? len - n : 0, "; advertised:");
	json_t *adv = json_object_get(status, "advertised");
	json_array_foreach(adv, i, it) {
		json_t *ord = json_object_get(it, "ordinal");
		n += snprintf(buf + n, n < len ? len - n : 0, " %s:%lld/%s",
			      k8s_str(it, "address", NULL),
			      (long long)json_integer_value(json_object_get(it, "port")),
			      k8s_str(it, "protocol", NULL));
		if (ord)
			n += snprintf(buf + n, n < len ? len - n : 0, "=%s#%lld",
				      k8s_str(it, "name", NULL),
				      (long long)json_integer_value(ord));
		else if (json_object_get(it, "name"))
			n += snprintf(buf + n, n < len ? len - n : 0, "=%s",
				      k8s_str(it, "name", NULL));
	}
	if (json_array_size(adv) == 0)
		snprintf(buf + n, n < len ? len - n : 0, " none");
	return buf;
}

char *k8s_result_path(const struct k8s_result *r, char *buf, size_t len)
{
	const struct k8s_kind_info *ki = k8s_kind_info(r->kind);

	snprintf(buf, len, "%s/%s%s%s%s/%s", ki->prefix, ki->namespaced ? "namespaces/" : "",
		 ki->namespaced ? r->ns : "", ki->namespaced ? "/" : "", ki->resource, r->name);
	return buf;
}

json_t *k8s_event_build(const struct k8s_result *r, const char *reason, const char *note,
			const char *instance, int64_t now_us)
{
	char name[K8S_NAME_MAX], t[32];
	char short_note[1024];

	// client-go names events "<object>.<unix nanoseconds in hex>"; 253 characters at most.
	snprintf(name, sizeof(name), "%.200s.%llx", r->name, (unsigned long long)now_us * 1000ull);
	// The API refuses a note over 1 kB.
	snprintf(short_note, sizeof(short_note), "%s", note);
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
			 " s:{s:s, s:s, s:s, s:s, s:s}}",
			 "apiVersion", "events.k8s.io/v1", "kind", "Event", "metadata", "name",
			 name, "namespace", r->ns, "eventTime", k8s_time_format(now_us, true, t),
			 "reportingController", "strait.io/gateway", "reportingInstance", instance,
			 "action", "Reconcile", "reason", reason, "type", "Warning", "note",
			 short_note, "regarding", "apiVersion", k8s_kind_info(r->kind)->api_version,
			 "kind", k8s_kind_info(r->kind)->kind, "namespace", r->ns, "name", r->name,
			 "uid", r->uid);
}
