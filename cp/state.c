/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Desired state. Mappings from every source live in one list; any change rebuilds the whole
 * table set from it. A full rebuild is simpler than incremental edits and cheap at the sizes
 * a gateway sees (thousands of mappings: milliseconds), and it makes "what is published" a
 * pure function of "what is desired", which is what a reconciler wants.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <strait/cp.h>
#include <strait/dp.h>
#include <strait/log.h>
#include <strait/tables.h>

#include "cp_priv.h"

struct entry {
	struct cfg_mapping m;
	enum cp_source src;
};

static struct {
	struct cfg cfg;
	struct entry *maps;
	unsigned int n, cap;
	uint64_t generation;
	char slot_names[CFG_MAX_MAPPINGS][2 * CFG_NAME_MAX];
	unsigned int n_slots;
} st;

const struct cfg *cp_config(void)
{
	return &st.cfg;
}

uint64_t cp_generation(void)
{
	return st.generation;
}

unsigned int cp_mapping_count(void)
{
	return st.n;
}

const struct cfg_mapping *cp_mapping_at(unsigned int i, enum cp_source *src)
{
	if (i >= st.n)
		return NULL;
	if (src)
		*src = st.maps[i].src;
	return &st.maps[i].m;
}

int cp_slot_of(const char *ns, const char *name)
{
	char key[2 * CFG_NAME_MAX];

	snprintf(key, sizeof(key), "%s/%s", ns, name);
	for (unsigned int i = 0; i < st.n_slots; i++)
		if (strcmp(st.slot_names[i], key) == 0)
			return (int)i;
	if (st.n_slots == CFG_MAX_MAPPINGS)
		return -1;
	snprintf(st.slot_names[st.n_slots], sizeof(st.slot_names[0]), "%s", key);
	return (int)st.n_slots++;
}

/* Build from @p maps (n) and publish; on failure nothing changes. */
static int publish(struct entry *maps, unsigned int n, char *err, size_t errlen)
{
	const struct cfg_mapping **ptrs = calloc(n ? n : 1, sizeof(*ptrs));
	struct tables *t;

	if (!ptrs)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		ptrs[i] = &maps[i].m;
	t = tables_build(&st.cfg, ptrs, n, cp_slot_of, st.generation + 1, err, errlen);
	free(ptrs);
	if (!t)
		return -errno;
	st.generation++;
	tables_publish(t, dp_qsbr());
	CP_LOG(INFO, "tables generation %lu published: %u mappings", (unsigned long)st.generation,
	       n);
	return 0;
}

static int find(const char *ns, const char *name)
{
	for (unsigned int i = 0; i < st.n; i++)
		if (strcmp(st.maps[i].m.name, name) == 0 && strcmp(st.maps[i].m.ns, ns) == 0)
			return (int)i;
	return -1;
}

static int reserve(unsigned int n)
{
	if (n <= st.cap)
		return 0;
	unsigned int cap = st.cap ? st.cap : 16;
	while (cap < n)
		cap *= 2;
	struct entry *e = realloc(st.maps, cap * sizeof(*e));
	if (!e)
		return -ENOMEM;
	st.maps = e;
	st.cap = cap;
	return 0;
}

int cp_state_init(struct cfg *c, char *err, size_t errlen)
{
	memset(&st, 0, sizeof(st));
	st.cfg = *c;
	st.cfg.mappings = NULL;
	st.cfg.n_mappings = 0;
	int ret = cp_mappings_replace(CP_SRC_CONFIG, c->mappings, c->n_mappings, err, errlen);
	for (unsigned int i = 0; i < c->n_mappings; i++)
		cfg_mapping_free(&c->mappings[i]);
	free(c->mappings);
	c->mappings = NULL;
	c->n_mappings = 0;
	return ret;
}

void cp_state_fini(void)
{
	for (unsigned int i = 0; i < st.n; i++)
		cfg_mapping_free(&st.maps[i].m);
	free(st.maps);
	tables_publish(NULL, NULL);
	memset(&st, 0, sizeof(st));
}

int cp_mapping_upsert(enum cp_source src, const struct cfg_mapping *m, char *err, size_t errlen)
{
	int i = find(m->ns, m->name), ret;
	struct entry old;

	if (i >= 0 && st.maps[i].src != src) {
		snprintf(err, errlen, "mapping %s is managed by another source (%s)", m->name,
			 st.maps[i].src == CP_SRC_CONFIG ? "the config file"
			 : st.maps[i].src == CP_SRC_K8S	 ? "Kubernetes"
							 : "the CLI");
		return -EPERM;
	}
	if (i < 0) {
		if ((ret = reserve(st.n + 1)) < 0)
			return ret;
		i = (int)st.n;
		memset(&old, 0, sizeof(old));
		if ((ret = cfg_mapping_copy(&st.maps[i].m, m)) < 0)
			return ret;
		st.maps[i].src = src;
		ret = publish(st.maps, st.n + 1, err, errlen);
		if (ret < 0) {
			cfg_mapping_free(&st.maps[i].m);
			return ret;
		}
		st.n++;
		return 0;
	}
	old = st.maps[i];
	if ((ret = cfg_mapping_copy(&st.maps[i].m, m)) < 0) {
		st.maps[i] = old;
		return ret;
	}
	ret = publish(st.maps, st.n, err, errlen);
	if (ret < 0) {
		cfg_mapping_free(&st.maps[i].m);
		st.maps[i] = old;
		return ret;
	}
	// Sessions of backends that are gone are flushed; the rest keep their backend.
	for (unsigned int b = 0; b < old.m.n_backends; b++) {
		bool kept = false;
		for (unsigned int c = 0; c < m->n_backends && !kept; c++)
			kept = m->backends[c].addr == old.m.backends[b].addr;
		if (!kept)
			dp_sessions_clear(cp_slot_of(m->ns, m->name), old.m.backends[b].addr);
	}
	cfg_mapping_free(&old.m);
	return 0;
}

int cp_mapping_delete(enum cp_source src, const char *ns, const char *name)
{
	int i = find(ns, name);
	char err[256];

	if (i < 0 || st.maps[i].src != src)
		return -ENOENT;
	struct entry gone = st.maps[i];
	st.maps[i] = st.maps[st.n - 1];
	st.n--;
	if (publish(st.maps, st.n, err, sizeof(err)) < 0) {
		// Removing a mapping cannot create a conflict; only memory can fail here.
		st.maps[st.n++] = st.maps[i];
		st.maps[i] = gone;
		return -ENOMEM;
	}
	dp_sessions_clear(cp_slot_of(ns, name), 0);
	cfg_mapping_free(&gone.m);
	return 0;
}

int cp_mappings_replace(enum cp_source src, const struct cfg_mapping *maps, unsigned int n,
			char *err, size_t errlen)
{
	// The list's capacity is what is allocated here: st.n changes below.
	unsigned int cap = st.n + n + 1;
	struct entry *next;
	unsigned int k = 0;
	int ret;

	next = calloc(cap, sizeof(*next));
	if (!next)
		return -ENOMEM;
	for (unsigned int i = 0; i < st.n; i++)
		if (st.maps[i].src != src)
			next[k++] = st.maps[i];
	unsigned int kept = k;
	for (unsigned int i = 0; i < n; i++) {
		if ((ret = cfg_mapping_copy(&next[k].m, &maps[i])) < 0)
			goto undo;
		next[k++].src = src;
	}
	ret = publish(next, k, err, errlen);
	if (ret < 0)
		goto undo;
	// As cp_mapping_upsert/delete do: sessions of a mapping that is gone, or of a backend a
	// mapping no longer has, are flushed (a resync is how Kubernetes removes endpoints).
	for (unsigned int i = 0; i < st.n; i++) {
		if (st.maps[i].src != src)
			continue;
		const struct cfg_mapping *old = &st.maps[i].m, *now = NULL;
		for (unsigned int j = kept; j < k && !now; j++)
			if (!strcmp(next[j].m.name, old->name) && !strcmp(next[j].m.ns, old->ns))
				now = &next[j].m;
		if (!now) {
			dp_sessions_clear(cp_slot_of(old->ns, old->name), 0);
		} else {
			for (unsigned int b = 0; b < old->n_backends; b++) {
				bool still = false;
				for (unsigned int c = 0; c < now->n_backends && !still; c++)
					still = now->backends[c].addr == old->backends[b].addr;
				if (!still)
					dp_sessions_clear(cp_slot_of(old->ns, old->name),
							  old->backends[b].addr);
			}
		}
		cfg_mapping_free(&st.maps[i].m);
	}
	free(st.maps);
	st.maps = next;
	st.n = k;
	st.cap = cap;
	return 0;
undo:
	for (unsigned int i = kept; i < k; i++)
		cfg_mapping_free(&next[i].m);
	free(next);
	return ret;
}

int cp_timeout_set(const char *which, uint32_t seconds)
{
	char err[256];
	struct cfg_timeouts saved = st.cfg.timeouts;
	uint32_t *to = cfg_timeout_by_word(&st.cfg.timeouts, which);

	if (seconds == 0 || seconds > 86400 * 7 || to == NULL)
		return -EINVAL;
	*to = seconds;
	if (publish(st.maps, st.n, err, sizeof(err)) < 0) {
		st.cfg.timeouts = saved;
		return -EINVAL;
	}
	return 0;
}

int cp_reload(char *err, size_t errlen)
{
	struct cfg c;
	int ret;

	if (st.cfg.path[0] == '\0' || strcmp(st.cfg.path, "<embedded>") == 0) {
		snprintf(err, errlen, "running on the embedded config: nothing to reload");
		return -EINVAL;
	}
	ret = cfg_load_file(st.cfg.path, &c, err, errlen);
	if (ret < 0)
		return ret;
	ret = cp_mappings_replace(CP_SRC_CONFIG, c.mappings, c.n_mappings, err, errlen);
	cfg_free(&c);
	return ret;
}

static int state_module_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	char e[512];
	int ret = cp_state_init(ctx->cfg, e, sizeof(e));

	if (ret < 0) {
		snprintf(err, errlen, "%s: %s", cp_config()->path, e);
		// A conflict between the config file's mappings is a config error (exit code 2).
		return ret == -EEXIST ? -EINVAL : ret;
	}
	return 0;
}

static struct cp_module state_module = {
	.name = "state",
	.order = CP_MOD_STATE,
	.init = state_module_init,
	.reload = cp_reload,
	.fini = cp_state_fini,
};
CP_MODULE_REGISTER(state_module)
