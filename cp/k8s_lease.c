/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's leaderelection.
 *
 * Every write carries the resourceVersion we read, so of two instances racing for the same
 * Lease the API server lets exactly one through and answers the other 409 Conflict. A holder
 * is presumed gone when its Lease has not changed for leaseDurationSeconds *as timed by our
 * own monotonic clock* from the moment we saw its current resourceVersion: comparing the
 * holder's renewTime with our wall clock would trust two hosts' clocks to agree.
 * A leader that cannot renew within the renew deadline (2/3 of the duration) stops writing
 * before another instance may take over: two writers must not overlap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <strait/k8s_json.h>
#include <strait/k8s_status.h>
#include <strait/log.h>

#include "k8s_lease.h"

static void lease_path(const struct k8s_lease *l, bool item, char *buf, size_t len)
{
	snprintf(buf, len, "/apis/coordination.k8s.io/v1/namespaces/%s/leases%s%s", l->ns,
		 item ? "/" : "", item ? l->name : "");
}

static void lease_log(struct k8s_lease *l, const char *op, const struct k8s_response *r)
{
	char what[640];
	long key = k8s_response_error_key(r);

	if (key == l->logged_err)
		return;
	l->logged_err = key;
	if (key == 0)
		return;
	K8S_LOG(WARNING, "lease %s/%s: %s: %s; retrying", l->ns, l->name, op,
		k8s_response_describe(r, what, sizeof(what)));
}

/* The spec we write: ours, renewed now. */
static json_t *lease_spec(const struct k8s_lease *l, const json_t *cur, bool takeover)
{
	char now[32];
	int64_t transitions = json_integer_value(k8s_get(cur, "spec", "leaseTransitions", NULL));
	const char *acquired = k8s_str(cur, "spec", "acquireTime", NULL);

	k8s_time_format(k8s_wall_us(), true, now);
	return json_pack("{s:s, s:i, s:s, s:s, s:I}", "holderIdentity", l->identity,
			 "leaseDurationSeconds", (int)l->duration_s, "acquireTime",
			 takeover || !acquired[0] ? now : acquired, "renewTime", now,
			 "leaseTransitions", (json_int_t)(transitions + (takeover && cur ? 1 : 0)));
}

/* PUT @p obj with @p spec; on 200 the response becomes the cached object. @return HTTP code
 * or 0 on a transfer failure. */
static long lease_put(struct k8s_lease *l, struct k8s_client *c, CURL *h, json_t *obj, json_t *spec,
		      struct k8s_response *r)
{
	char path[512], *body;
	json_t *o = json_deep_copy(obj);
	long code = 0;

	memset(r, 0, sizeof(*r));
	json_object_set_new(o, "spec", spec);
	json_object_del(json_object_get(o, "metadata"), "managedFields");
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	lease_path(l, true, path, sizeof(path));
	if (body && k8s_client_request(c, h, "PUT", path, "application/json", body, l->timeout_s,
				       l->cancel, r) == 0)
		code = r->code;
	free(body);
	if (code == 200) {
		json_t *n = json_loadb(r->body, r->len, 0, NULL);
		if (n) {
			json_decref(l->obj);
			l->obj = n;
		}
	}
	return code;
}

static bool lease_won(struct k8s_lease *l)
{
	l->renewed_ms = k8s_now_ms();
	snprintf(l->observed_rv, sizeof(l->observed_rv), "%s",
		 k8s_str(l->obj, "metadata", "resourceVersion", NULL));
	l->observed_ms = l->renewed_ms;
	return true;
}

static bool lease_keep(struct k8s_lease *l)
{
	// Still the leader only while a renewal is recent enough that nobody else may
	// have taken over.
	return l->leader && k8s_now_ms() - l->renewed_ms < l->duration_s * 1000u * 2 / 3;
}

bool k8s_lease_step(struct k8s_lease *l, struct k8s_client *c, CURL *h)
{
	struct k8s_response r;
	char path[512];
	json_t *obj;
	long code;

	// Fast path: renew what we hold with the resourceVersion of our last write.
	if (l->leader && l->obj) {
		code = lease_put(l, c, h, l->obj, lease_spec(l, l->obj, false), &r);
		lease_log(l, "renew", &r);
		k8s_response_free(&r);
		if (code == 200)
			return lease_won(l);
		if (code != 409)
			return lease_keep(l);
		// 409: somebody wrote it; read it again below.
	}
	lease_path(l, true, path, sizeof(path));
	if (k8s_client_request(c, h, "GET", path, NULL, NULL, l->timeout_s, l->cancel, &r) < 0 ||
	    (r.code != 200 && r.code != 404)) {
		lease_log(l, "get", &r);
		k8s_response_free(&r);
		return lease_keep(l);
	}
	if (r.code == 404) {
		char *body;
		k8s_response_free(&r);
		obj = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "coordination.k8s.io/v1",
				"kind", "Lease", "metadata", "name", l->name, "namespace", l->ns);
		json_object_set_new(obj, "spec", lease_spec(l, NULL, true));
		body = json_dumps(obj, JSON_COMPACT);
		json_decref(obj);
		lease_path(l, false, path, sizeof(path));
		code = 0;
		memset(&r, 0, sizeof(r));
		if (body && k8s_client_request(c, h, "POST", path, "application/json", body,
					       l->timeout_s, l->cancel, &r) == 0)
			code = r.code;
		free(body);
		lease_log(l, "create", &r);
		if (code == 201 || code == 200) {
			json_decref(l->obj);
			l->obj = json_loadb(r.body, r.len, 0, NULL);
			k8s_response_free(&r);
			return lease_won(l);
		}
		k8s_response_free(&r);
		return false; // 409: another instance created it first
	}
	obj = json_loadb(r.body, r.len, 0, NULL);
	lease_log(l, "get", &r);
	k8s_response_free(&r);
	if (!obj)
		return lease_keep(l);
	json_decref(l->obj);
	l->obj = obj;

	const char *rv = k8s_str(obj, "metadata", "resourceVersion", NULL);
	const char *holder = k8s_str(obj, "spec", "holderIdentity", NULL);
	json_int_t dur = json_integer_value(k8s_get(obj, "spec", "leaseDurationSeconds", NULL));
	uint64_t now = k8s_now_ms();

	if (strcmp(rv, l->observed_rv) != 0) {
		snprintf(l->observed_rv, sizeof(l->observed_rv), "%s", rv);
		l->observed_ms = now;
	}
	if (dur <= 0)
		dur = l->duration_s;
	snprintf(l->holder, sizeof(l->holder), "%s", holder);
	bool mine = strcmp(holder, l->identity) == 0;
	if (!mine && holder[0] && now < l->observed_ms + (uint64_t)dur * 1000u)
		return false;
	code = lease_put(l, c, h, obj, lease_spec(l, obj, !mine), &r);
	lease_log(l, mine ? "renew" : "acquire", &r);
	k8s_response_free(&r);
	if (code == 200) {
		snprintf(l->holder, sizeof(l->holder), "%s", l->identity);
		return lease_won(l);
	}
	return mine ? lease_keep(l) : false;
}

void k8s_lease_release(struct k8s_lease *l, struct k8s_client *c, CURL *h)
{
	struct k8s_response r;
	char now[32];
	json_t *spec;

	if (!l->leader || !l->obj)
		return;
	// Best effort on the way out: an unreachable server must not hold up the stop.
	l->cancel = NULL;
	l->timeout_s = 2;
	// client-go's ReleaseOnCancel: an empty holder lets the next instance take over at once.
	k8s_time_format(k8s_wall_us(), true, now);
	spec = json_pack("{s:s, s:i, s:s, s:s, s:I}", "holderIdentity", "", "leaseDurationSeconds",
			 1, "acquireTime", k8s_str(l->obj, "spec", "acquireTime", NULL),
			 "renewTime", now, "leaseTransitions",
			 json_integer_value(k8s_get(l->obj, "spec", "leaseTransitions", NULL)));
	if (lease_put(l, c, h, l->obj, spec, &r) == 200)
		K8S_LOG(NOTICE, "lease %s/%s released", l->ns, l->name);
	k8s_response_free(&r);
	l->leader = false;
}

void k8s_lease_fini(struct k8s_lease *l)
{
	json_decref(l->obj);
	l->obj = NULL;
}
