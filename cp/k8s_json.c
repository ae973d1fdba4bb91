/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON paths into Kubernetes objects, and the "namespace/name" key the caches use.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <strait/k8s_json.h>

static json_t *vget(const json_t *obj, va_list ap)
{
	const char *key;
	json_t *v = (json_t *)obj;

	while (v && (key = va_arg(ap, const char *)) != NULL)
		v = json_object_get(v, key);
	return v;
}

json_t *k8s_get(const json_t *obj, ...)
{
	va_list ap;
	json_t *v;

	va_start(ap, obj);
	v = vget(obj, ap);
	va_end(ap);
	return v;
}

const char *k8s_str(const json_t *obj, ...)
{
	va_list ap;
	const char *s;

	va_start(ap, obj);
	s = json_string_value(vget(obj, ap));
	va_end(ap);
	return s ? s : "";
}

const char *k8s_obj_key(const json_t *obj, char *buf, size_t len)
{
	const char *ns = k8s_str(obj, "metadata", "namespace", NULL);

	snprintf(buf, len, "%s%s%s", ns, ns[0] ? "/" : "", k8s_str(obj, "metadata", "name", NULL));
	return buf;
}

unsigned long k8s_json_equal_lookups;

bool k8s_json_equal(const json_t *a, const json_t *b)
{
	if (!a || !b || json_typeof(a) != json_typeof(b))
		return false;
	if (a == b)
		return true;
	if (json_is_array(a)) {
		const size_t n = json_array_size(a);
		if (n != json_array_size(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!k8s_json_equal(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (!json_is_object(a))
		return json_equal(a, b);
	if (json_object_size(a) != json_object_size(b))
		return false;
	json_t *x = (json_t *)a, *y = (json_t *)b;
	void *i = json_object_iter(x), *j = json_object_iter(y);
	for (; i && j; i = json_object_iter_next(x, i), j = json_object_iter_next(y, j)) {
		const size_t n = json_object_iter_key_len(i);
		if (n != json_object_iter_key_len(j) ||
		    memcmp(json_object_iter_key(i), json_object_iter_key(j), n) != 0)
			break; // another order from here
		if (!k8s_json_equal(json_object_iter_value(i), json_object_iter_value(j)))
			return false;
	}
	if (!i)
		return true; // as many keys: j ended too
	// The keys before matched in place; as many keys, all distinct: each of the others
	// found in @p b among its others, with an equal value, makes the same object.
	k8s_json_equal_lookups++;
	for (; i; i = json_object_iter_next(x, i))
		if (!k8s_json_equal(json_object_iter_value(i),
				    json_object_getn(y, json_object_iter_key(i),
						     json_object_iter_key_len(i))))
			return false;
	return true;
}
