/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSONPredicate subset of an l7mp VirtualService's rules[].match that strait serves at L4
 * (draft-snell-json-test: `and`, `or`, `not` over `apply`), flattened to the data plane's
 * boxes: (client prefix, source port range), whose union is the set of first packets the
 * predicate admits. Leaves:
 *   /IP/src_addr   op starts (whole octets: "10.0.0" = 10.0.0.0/24), op test (an address or
 *                  a CIDR);
 *   /UDP/src_port, /TCP/src_port
 *                  op test (a port, or "LO-HI"), op more, op less (l7mp's MSM example);
 *                  the other protocol's path matches nothing.
 * `not` is JSONPredicate's: true when every one of its predicates is false.
 * Anything else is refused with the path of what is not served: a predicate that strait
 * cannot evaluate must never widen or narrow access silently.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include <strait/k8s_json.h>

#include "k8s_l7mp.h"

static const struct l7mp_box BOX_ALL = {{0, 0}, 0, 65535};

static int fail(char *err, size_t errlen, const char *path, const char *fmt, const char *arg)
{
	char what[256];

	snprintf(what, sizeof(what), fmt, arg);
	snprintf(err, errlen, "%s: %s", path, what);
	return -EINVAL;
}

static int push(struct l7mp_set *s, const struct l7mp_box *b, char *err, size_t errlen,
		const char *path)
{
	if (s->n >= L7MP_MAX_BOXES) {
		snprintf(err, errlen, "%s: more than %d (source prefix, port range) pairs", path,
			 L7MP_MAX_BOXES);
		return -E2BIG;
	}
	s->b[s->n++] = *b;
	return 0;
}

static uint32_t mask_of(uint8_t len)
{
	return len ? ~0u << (32 - len) : 0;
}

/* The intersection of two boxes: @return false when empty. */
static bool box_and(const struct l7mp_box *x, const struct l7mp_box *y, struct l7mp_box *out)
{
	const struct l7mp_box *longer = x->src.len >= y->src.len ? x : y;
	const struct l7mp_box *shorter = longer == x ? y : x;
	uint32_t m = mask_of(shorter->src.len);

	if ((longer->src.addr & m) != (shorter->src.addr & m))
		return false;
	out->src = longer->src;
	out->lo = x->lo > y->lo ? x->lo : y->lo;
	out->hi = x->hi < y->hi ? x->hi : y->hi;
	return out->lo <= out->hi;
}

static int set_and(struct l7mp_set *a, const struct l7mp_set *b, char *err, size_t errlen,
		   const char *path)
{
	struct l7mp_set out = {0};
	struct l7mp_box r;
	int rc;

	for (unsigned int i = 0; i < a->n; i++)
		for (unsigned int j = 0; j < b->n; j++)
			if (box_and(&a->b[i], &b->b[j], &r) &&
			    (rc = push(&out, &r, err, errlen, path)))
				return rc;
	*a = out;
	return 0;
}

/* The complement of one box, as boxes: (not the prefix) x any port, or the prefix x (not the
 * range). */
static int box_not(const struct l7mp_box *x, struct l7mp_set *out, char *err, size_t errlen,
		   const char *path)
{
	struct l7mp_box b;
	int rc;

	out->n = 0;
	// Not in addr/len: for each bit of the prefix, the sibling subtree at that depth.
	for (uint8_t l = 1; l <= x->src.len; l++) {
		b = BOX_ALL;
		b.src.len = l;
		b.src.addr = (x->src.addr ^ (1u << (32 - l))) & mask_of(l);
		if ((rc = push(out, &b, err, errlen, path)))
			return rc;
	}
	b = (struct l7mp_box){x->src, 0, 0};
	if (x->lo > 0) {
		b.hi = (uint16_t)(x->lo - 1);
		if ((rc = push(out, &b, err, errlen, path)))
			return rc;
	}
	if (x->hi < 65535) {
		b.lo = (uint16_t)(x->hi + 1);
		b.hi = 65535;
		if ((rc = push(out, &b, err, errlen, path)))
			return rc;
	}
	return 0;
}

static int port_value(const json_t *v, long *lo, long *hi)
{
	const char *s = json_string_value(v);
	char *end;

	if (json_is_integer(v)) {
		*lo = *hi = (long)json_integer_value(v);
	} else if (s) {
		*lo = strtol(s, &end, 10);
		*hi = *lo;
		if (end == s)
			return -EINVAL;
		if (*end == '-') {
			const char *h = end + 1;
			*hi = strtol(h, &end, 10);
			if (end == h)
				return -EINVAL;
		}
		if (*end != '\0')
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	return *lo >= 0 && *hi <= 65535 && *lo <= *hi ? 0 : -EINVAL;
}

/* "10", "10.0", "10.0.0" or "10.0.0.1", with or without a trailing dot: whole octets. */
static int starts_prefix(const char *s, struct cfg_cidr *c)
{
	char buf[20], *p;
	unsigned int octets = 1;

	if (!s || strlen(s) >= sizeof(buf) - 6 || !s[0])
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", s);
	if (buf[strlen(buf) - 1] == '.')
		buf[strlen(buf) - 1] = '\0';
	for (p = buf; *p; p++)
		octets += *p == '.';
	if (octets > 4)
		return -EINVAL;
	for (unsigned int i = octets; i < 4; i++)
		strcat(buf, ".0");
	if (cfg_parse_ipv4(buf, &c->addr) < 0)
		return -EINVAL;
	// "10.0.1" starts 10.0.1.x but also 10.0.10-19.x and 10.0.100-199.x: only a last octet
	// that no digit can follow is whole (0, 26 or more, or one followed by a dot).
	uint32_t last = c->addr >> (8 * (4 - octets)) & 0xff;
	if (last != 0 && last < 26 && s[strlen(s) - 1] != '.')
		return -ERANGE;
	c->len = (uint8_t)(8 * octets);
	return 0;
}

static int leaf(const json_t *p, uint8_t proto, struct l7mp_set *out, char *err, size_t errlen,
		const char *path)
{
	const char *op = k8s_str(p, "op", NULL), *at = k8s_str(p, "path", NULL);
	const json_t *v = json_object_get(p, "value");
	struct l7mp_box b = BOX_ALL;
	char sub[192];
	long lo, hi;
	int rc;

	out->n = 0;
	if (strcmp(at, "/IP/src_addr") == 0) {
		snprintf(sub, sizeof(sub), "%s.value", path);
		if (strcmp(op, "starts") == 0) {
			rc = starts_prefix(json_string_value(v), &b.src);
			if (rc == -ERANGE)
				return fail(err, errlen, sub,
					    "\"%s\" ends in a partial octet (write \"10.0.0.\" for "
					    "10.0.0.0/24, or op test with a CIDR)",
					    json_string_value(v));
			if (rc < 0)
				return fail(err, errlen, sub, "\"%s\" is not dotted whole octets",
					    json_string_value(v) ? json_string_value(v) : "?");
		} else if (strcmp(op, "test") == 0) {
			// A value that is no string (a number, an object) is no address either.
			if (!json_is_string(v))
				return fail(err, errlen, sub, "%s",
					    "must be an IPv4 address or CIDR, as a string");
			if (cfg_parse_cidr(json_string_value(v), &b.src) < 0)
				return fail(err, errlen, sub, "%s is not an IPv4 address or CIDR",
					    json_string_value(v));
			b.src.addr &= mask_of(b.src.len);
		} else {
			snprintf(sub, sizeof(sub), "%s.op", path);
			return fail(err, errlen, sub,
				    "\"%s\" on /IP/src_addr is not served (starts, test)", op);
		}
		return push(out, &b, err, errlen, path);
	}
	if (strcmp(at, "/UDP/src_port") == 0 || strcmp(at, "/TCP/src_port") == 0) {
		snprintf(sub, sizeof(sub), "%s.value", path);
		if (strcmp(op, "test") == 0) {
			if (port_value(v, &lo, &hi) < 0)
				return fail(err, errlen, sub, "%s",
					    "must be a port or a range \"LO-HI\" within 0-65535");
		} else if (strcmp(op, "more") == 0 || strcmp(op, "less") == 0) {
			if (!json_is_integer(v) || port_value(v, &lo, &hi) < 0)
				return fail(err, errlen, sub, "%s", "must be a port number");
			if (op[0] == 'm') {
				lo = lo + 1;
				hi = 65535;
			} else {
				hi = hi - 1;
				lo = 0;
			}
			if (lo > hi)
				return 0; // matches nothing
		} else {
			snprintf(sub, sizeof(sub), "%s.op", path);
			return fail(err, errlen, sub,
				    "\"%s\" on a source port is not served (test, "
				    "more, less)",
				    op);
		}
		if ((at[1] == 'U') != (proto == IPPROTO_UDP))
			return 0; // the other protocol's port: matches nothing on this listener
		b.lo = (uint16_t)lo;
		b.hi = (uint16_t)hi;
		return push(out, &b, err, errlen, path);
	}
	snprintf(sub, sizeof(sub), "%s.path", path);
	return fail(err, errlen, sub,
		    "\"%s\" is not served at L4 (/IP/src_addr, /UDP/src_port, /TCP/src_port)", at);
}

int l7mp_match(const json_t *p, uint8_t proto, struct l7mp_set *out, char *err, size_t errlen,
	       const char *path, unsigned int depth)
{
	const char *op = k8s_str(p, "op", NULL);
	const json_t *apply = json_object_get(p, "apply"), *e;
	struct l7mp_set sub, acc;
	char at[192];
	size_t i;
	int rc;

	if (!json_is_object(p))
		return fail(err, errlen, path, "%s",
			    "must be an object {op, path, value} or {op, apply}");
	if (depth > 8)
		return fail(err, errlen, path, "%s", "nested deeper than 8");
	if (strcmp(op, "and") != 0 && strcmp(op, "or") != 0 && strcmp(op, "not") != 0)
		return leaf(p, proto, out, err, errlen, path);
	if (!json_is_array(apply) || json_array_size(apply) == 0) {
		snprintf(at, sizeof(at), "%s.apply", path);
		return fail(err, errlen, at, "%s", "must be a non-empty list of predicates");
	}
	// and: start from everything and intersect; or, not: the union of the predicates.
	acc.n = 0;
	if (op[0] == 'a')
		push(&acc, &BOX_ALL, err, errlen, path);
	json_array_foreach(apply, i, e) {
		snprintf(at, sizeof(at), "%s.apply[%zu]", path, i);
		if ((rc = l7mp_match(e, proto, &sub, err, errlen, at, depth + 1)))
			return rc;
		if (op[0] == 'a') {
			rc = set_and(&acc, &sub, err, errlen, path);
		} else {
			rc = 0;
			for (unsigned int k = 0; k < sub.n && !rc; k++)
				rc = push(&acc, &sub.b[k], err, errlen, path);
		}
		if (rc)
			return rc;
	}
	if (op[0] == 'n') {
		// not(union) = the intersection of every box's complement.
		struct l7mp_set res = {0};
		push(&res, &BOX_ALL, err, errlen, path);
		for (unsigned int k = 0; k < acc.n; k++) {
			if ((rc = box_not(&acc.b[k], &sub, err, errlen, path)) ||
			    (rc = set_and(&res, &sub, err, errlen, path)))
				return rc;
		}
		acc = res;
	}
	*out = acc;
	return 0;
}
