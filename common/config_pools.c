/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config file's `addressPools:` (strait/config.h struct cfg_pool) and the pool entry
 * syntax shared with the AddressPool objects (cp/k8s_pools.c): IPv4 CIDRs, bare addresses and
 * MetalLB's ranges `A.B.C.D-E.F.G.H`.
 *
 * Pure libc + libyaml.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <strait/config.h>

#include "yaml_reader.h"

static const char *const cfg_pool_keys[] = {"name", "addresses", "namespaces", "autoAssign", NULL};

bool cfg_pool_contains(const struct cfg_pool *p, uint32_t addr)
{
	for (unsigned int i = 0; i < p->n_ranges; i++)
		if (addr >= p->ranges[i].first && addr <= p->ranges[i].last)
			return true;
	return false;
}

bool cfg_pool_admits_ns(const struct cfg_pool *p, const char *ns)
{
	if (p->n_namespaces == 0)
		return true;
	for (unsigned int i = 0; i < p->n_namespaces; i++)
		if (strcmp(p->namespaces[i], ns) == 0)
			return true;
	return false;
}

/* An address alone, spaces around it allowed (MetalLB trims them). */
static int range_end(const char *s, size_t n, uint32_t *a)
{
	char ip[16];

	while (n && *s == ' ')
		s++, n--;
	while (n && s[n - 1] == ' ')
		n--;
	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, s, n);
	ip[n] = '\0';
	return cfg_parse_ipv4(ip, a);
}

int cfg_pool_range_parse(const char *s, struct cfg_pool_range *r, char *why, size_t whylen)
{
	const char *dash = strchr(s, '-');
	char a[16], b[16];

	memset(r, 0, sizeof(*r));
	if (dash) {
		if (range_end(s, (size_t)(dash - s), &r->first) ||
		    range_end(dash + 1, strlen(dash + 1), &r->last))
			goto syntax;
		if (r->first > r->last) {
			snprintf(why, whylen, "is a reversed range: %s comes after %s",
				 cfg_ipv4_str(r->first, a), cfg_ipv4_str(r->last, b));
			return -EINVAL;
		}
	} else {
		struct cfg_cidr c;
		uint32_t mask;

		if (cfg_parse_cidr(s, &c))
			goto syntax;
		mask = c.len ? ~0u << (32 - c.len) : 0;
		if (c.addr & ~mask) {
			snprintf(why, whylen, "has host bits set: the network is %s/%u",
				 cfg_ipv4_str(c.addr & mask, a), c.len);
			return -EINVAL;
		}
		r->first = c.addr;
		r->last = c.addr | ~mask;
		r->len = c.len;
	}
	if (r->first == 0) {
		snprintf(why, whylen, "includes 0.0.0.0, which is never an address");
		return -EINVAL;
	}
	return 0;
syntax:
	snprintf(why, whylen, "is not an IPv4 CIDR or range (A.B.C.D-E.F.G.H)");
	return -EINVAL;
}

char *cfg_pool_range_str(const struct cfg_pool_range *r, char buf[CFG_POOL_RANGE_STR])
{
	char a[16], b[16];

	if (r->len)
		snprintf(buf, CFG_POOL_RANGE_STR, "%s/%u", cfg_ipv4_str(r->first, a), r->len);
	else
		snprintf(buf, CFG_POOL_RANGE_STR, "%s-%s", cfg_ipv4_str(r->first, a),
			 cfg_ipv4_str(r->last, b));
	return buf;
}

static int cfg_pool_parse(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
			  struct cfg_pool *p)
{
	char sub[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX];
	yaml_node_t *list, *v;
	unsigned int count;
	int rc;

	p->line = (unsigned int)n->start_mark.line + 1;
	p->auto_assign = true;
	if ((rc = cfg_map(x, n, path, cfg_pool_keys)) || (rc = cfg_need(x, n, path, "name")) ||
	    (rc = cfg_name(x, cfg_get(x, n, "name"), cfg_key_path(sub, path, "name"), true,
			   p->name)))
		return rc;
	if ((rc = cfg_need(x, n, path, "addresses")) ||
	    (rc = cfg_key_seq(x, n, path, "addresses", CFG_MAX_POOL_CIDRS, &list, &count, sub)))
		return rc;
	if (count == 0)
		return cfg_err(x, list, sub, "at least one entry is required");
	for (unsigned int i = 0; i < count; i++) {
		yaml_node_t *e = cfg_item(x, list, i);
		char s[CFG_SHOW_BUF], why[96];
		const char *val;

		cfg_idx_path(item, sub, i);
		if ((rc = cfg_value(x, e, item, &val)))
			return rc;
		if (cfg_pool_range_parse(val, &p->ranges[i], why, sizeof(why)) < 0)
			return cfg_err(x, e, item,
				       strncmp(why, "is not", 6) ? "%s %s" : "\"%s\" %s",
				       cfg_show(e, s), why);
		// Within one pool too: an address listed twice is a mistake.
		for (unsigned int j = 0; j < i; j++)
			if (p->ranges[i].first <= p->ranges[j].last &&
			    p->ranges[j].first <= p->ranges[i].last) {
				char s2[CFG_POOL_RANGE_STR];
				return cfg_err(x, e, item, "%s overlaps %s, entry %u of this pool",
					       cfg_show(e, s),
					       cfg_pool_range_str(&p->ranges[j], s2), j);
			}
	}
	p->n_ranges = count;
	if ((rc = cfg_key_seq(x, n, path, "namespaces", CFG_MAX_POOL_NAMESPACES, &list, &count,
			      sub)))
		return rc;
	for (unsigned int i = 0; i < count; i++)
		if ((rc = cfg_name(x, cfg_item(x, list, i), cfg_idx_path(item, sub, i), false,
				   p->namespaces[i])))
			return rc;
	p->n_namespaces = count;
	v = cfg_get(x, n, "autoAssign");
	if (v && (rc = cfg_bool(x, v, cfg_key_path(sub, path, "autoAssign"), &p->auto_assign)))
		return rc;
	return 0;
}

/*
 * `addressPools:` (strait/config.h struct cfg_pool). Two pools may not share an address: the
 * namespaces admitted to an address would depend on which pool was read first.
 */
int cfg_pools_parse(struct cfg_ctx *x, const yaml_node_t *root, struct cfg *c)
{
	char sub[CFG_KEYPATH_MAX], item[CFG_KEYPATH_MAX], at[CFG_KEYPATH_MAX];
	yaml_node_t *list;
	unsigned int count;
	int rc;

	if ((rc = cfg_key_seq(x, root, "", "addressPools", CFG_MAX_POOLS, &list, &count, sub)))
		return rc;
	for (unsigned int i = 0; i < count; i++) {
		yaml_node_t *n = cfg_item(x, list, i);
		struct cfg_pool *p = &c->pools[i];

		if ((rc = cfg_pool_parse(x, n, cfg_idx_path(item, sub, i), p)))
			return rc;
		for (unsigned int j = 0; j < i; j++) {
			const struct cfg_pool *q = &c->pools[j];

			if (strcmp(p->name, q->name) == 0)
				return cfg_err(x, cfg_get(x, n, "name"),
					       cfg_key_path(at, item, "name"),
					       "duplicate pool name \"%s\" (first at line %u)",
					       p->name, q->line);
			for (unsigned int a = 0; a < p->n_ranges; a++)
				for (unsigned int b = 0; b < q->n_ranges; b++) {
					char s1[CFG_POOL_RANGE_STR], s2[CFG_POOL_RANGE_STR];

					if (p->ranges[a].first > q->ranges[b].last ||
					    q->ranges[b].first > p->ranges[a].last)
						continue;
					cfg_idx_path(at, cfg_key_path(sub, item, "addresses"), a);
					return cfg_err(
						x, cfg_item(x, cfg_get(x, n, "addresses"), a), at,
						"%s overlaps %s of pool \"%s\" (line %u): an address "
						"is in one pool at most",
						cfg_pool_range_str(&p->ranges[a], s1),
						cfg_pool_range_str(&q->ranges[b], s2), q->name,
						q->line);
				}
		}
		c->n_pools++;
	}
	return 0;
}
