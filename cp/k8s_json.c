/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * JSON paths into Kubernetes objects, and the "namespace/name" key the caches use.
 */
#include <stdarg.h>
#include <stdio.h>

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
