/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Commands that change the NAT: sessions, mappings, timeouts. They go through the same
 * control-plane calls as the config file and Kubernetes (cp_mapping_upsert(),
 * cp_mapping_delete(), cp_timeout_set(), dp_sessions_clear()), with CP_SRC_CLI as the source:
 * the CLI owns what it adds and cannot delete what the config file or Kubernetes own.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <strait/config.h>
#include <strait/cp.h>
#include <strait/dp.h>

#include "cli_priv.h"
#include "cp_priv.h"

/* ---- clear sessions [mapping NAME] --------------------------------------------------- */

struct cmd_clear_result {
	cmdline_fixed_string_t clear;
	cmdline_fixed_string_t sessions;
	cmdline_fixed_string_t kw_mapping;
	cmdline_fixed_string_t name;
};

static void cmd_clear_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const struct cmd_clear_result *r = parsed;
	char err[256], label[2 * CFG_NAME_MAX] = "";
	unsigned int n;
	int slot = -1;
	json_t *f;

	if (data) {
		int i = cli_mapping_find(r->name, err, sizeof(err));
		if (i < 0) {
			cli_fail(cl, i, "%s", err);
			return;
		}
		const struct cfg_mapping *m = cp_mapping_at((unsigned int)i, NULL);
		slot = cp_slot_find(m->ns, m->name);
		if (slot < 0) { // -1 would clear every mapping's sessions
			cli_fail(cl, -ENOENT, "mapping %s has no counter slot", r->name);
			return;
		}
		cli_mapping_label(m->ns, m->name, label, sizeof(label));
	}
	n = dp_sessions_clear(slot, 0);
	f = json_object();
	cli_set_u64(f, "cleared", n);
	if (label[0]) {
		cli_set_str(f, "mapping", label);
		cli_done(cl, f, "cleared %u session%s of mapping %s", n, n == 1 ? "" : "s", label);
	} else {
		cli_done(cl, f, "cleared %u session%s", n, n == 1 ? "" : "s");
	}
}

static cmdline_parse_token_string_t cmd_clear_clear =
	TOKEN_STRING_INITIALIZER(struct cmd_clear_result, clear, "clear");
static cmdline_parse_token_string_t cmd_clear_sessions =
	TOKEN_STRING_INITIALIZER(struct cmd_clear_result, sessions, "sessions");
static cmdline_parse_token_string_t cmd_clear_kw_mapping =
	TOKEN_STRING_INITIALIZER(struct cmd_clear_result, kw_mapping, "mapping");
static cmdline_parse_token_string_t cmd_clear_name =
	TOKEN_STRING_INITIALIZER(struct cmd_clear_result, name, NULL);

#define CLEAR_HELP                                                                                   \
	"clear sessions [mapping NAME]: remove every session, or one mapping's (the workers do it "  \
	"in bounded steps; the count waits for them, at most 2 s); packets of a removed flow start " \
	"a new session (TCP: only with a SYN)"

static cmdline_parse_inst_t cmd_clear_sessions_all = {
	.f = cmd_clear_parsed,
	.data = NULL,
	.help_str = CLEAR_HELP,
	.tokens = {(void *)&cmd_clear_clear, (void *)&cmd_clear_sessions, NULL},
};

static cmdline_parse_inst_t cmd_clear_sessions_m = {
	.f = cmd_clear_parsed,
	.data = (void *)&cmd_clear_sessions_m, // any non-NULL: "a mapping was named"
	.help_str = CLEAR_HELP,
	.tokens = {(void *)&cmd_clear_clear, (void *)&cmd_clear_sessions,
		   (void *)&cmd_clear_kw_mapping, (void *)&cmd_clear_name, NULL},
};

/* ---- add mapping {YAML} -------------------------------------------------------------- */

struct cmd_add_result {
	cmdline_fixed_string_t add;
	cmdline_fixed_string_t mapping;
	cmdline_multi_string_t yaml;
};

static void cmd_add_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const struct cmd_add_result *r = parsed;
	struct cfg_mapping m;
	char err[512], label[2 * CFG_NAME_MAX];
	bool existed;
	int ret;
	json_t *f;

	RTE_SET_USED(data);
	// The same parser and checks as a `mappings:` entry of the config file.
	ret = cfg_mapping_parse("<cli>", r->yaml, strlen(r->yaml), &m, err, sizeof(err));
	if (ret < 0) {
		cli_fail(cl, ret, "%s", err);
		return;
	}
	cli_mapping_label(m.ns, m.name, label, sizeof(label));
	existed = false;
	for (unsigned int i = 0; i < cp_mapping_count(); i++) {
		const struct cfg_mapping *o = cp_mapping_at(i, NULL);
		existed |= strcmp(o->name, m.name) == 0 && strcmp(o->ns, m.ns) == 0;
	}
	err[0] = '\0';
	ret = cp_mapping_upsert(CP_SRC_CLI, &m, err, sizeof(err));
	cfg_mapping_free(&m);
	if (ret < 0) {
		cli_fail(cl, ret, "mapping %s: %s", label, err[0] ? err : strerror(-ret));
		return;
	}
	f = json_object();
	cli_set_str(f, "mapping", label);
	cli_set_u64(f, "generation", cp_generation());
	cli_done(cl, f, "mapping %s %s: tables generation %" PRIu64, label,
		 existed ? "replaced" : "added", cp_generation());
}

static cmdline_parse_token_string_t cmd_add_add =
	TOKEN_STRING_INITIALIZER(struct cmd_add_result, add, "add");
static cmdline_parse_token_string_t cmd_add_mapping =
	TOKEN_STRING_INITIALIZER(struct cmd_add_result, mapping, "mapping");
static cmdline_parse_token_string_t cmd_add_yaml =
	TOKEN_STRING_INITIALIZER(struct cmd_add_result, yaml, TOKEN_STRING_MULTI);

static cmdline_parse_inst_t cmd_add_map = {
	.f = cmd_add_parsed,
	.data = NULL,
	.help_str = "add mapping {YAML}: add or replace a mapping, written as a YAML flow "
		    "mapping with the keys of a config file `mappings:` entry, e.g. {name: web, "
		    "addresses: [198.51.100.1], ports: [{port: 8080, servicePort: 80}], backends: "
		    "[{address: 10.0.0.11}]}",
	.tokens = {(void *)&cmd_add_add, (void *)&cmd_add_mapping, (void *)&cmd_add_yaml, NULL},
};

/* ---- del mapping NAME ------------------------------------------------------------------ */

struct cmd_del_result {
	cmdline_fixed_string_t del;
	cmdline_fixed_string_t mapping;
	cmdline_fixed_string_t name;
};

static void cmd_del_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const struct cmd_del_result *r = parsed;
	char err[256], label[2 * CFG_NAME_MAX], ns[CFG_NAME_MAX], name[CFG_NAME_MAX];
	enum cp_source src;
	int i, ret;
	json_t *f;

	RTE_SET_USED(data);
	i = cli_mapping_find(r->name, err, sizeof(err));
	if (i < 0) {
		cli_fail(cl, i, "%s", err);
		return;
	}
	const struct cfg_mapping *m = cp_mapping_at((unsigned int)i, &src);
	cli_mapping_label(m->ns, m->name, label, sizeof(label));
	if (src != CP_SRC_CLI) {
		cli_fail(cl, -EPERM, "mapping %s comes from %s: %s", label,
			 src == CP_SRC_CONFIG ? "the config file" : "Kubernetes",
			 src == CP_SRC_CONFIG ? "remove it there and reload"
					      : "delete the Mapping object");
		return;
	}
	// The entry moves when it is deleted: keep its key.
	snprintf(ns, sizeof(ns), "%s", m->ns);
	snprintf(name, sizeof(name), "%s", m->name);
	ret = cp_mapping_delete(CP_SRC_CLI, ns, name);
	if (ret < 0) {
		cli_fail(cl, ret, "mapping %s: %s", label, strerror(-ret));
		return;
	}
	f = json_object();
	cli_set_str(f, "mapping", label);
	cli_set_u64(f, "generation", cp_generation());
	cli_done(cl, f, "mapping %s deleted: tables generation %" PRIu64, label, cp_generation());
}

static cmdline_parse_token_string_t cmd_del_del =
	TOKEN_STRING_INITIALIZER(struct cmd_del_result, del, "del");
static cmdline_parse_token_string_t cmd_del_mapping =
	TOKEN_STRING_INITIALIZER(struct cmd_del_result, mapping, "mapping");
static cmdline_parse_token_string_t cmd_del_name =
	TOKEN_STRING_INITIALIZER(struct cmd_del_result, name, NULL);

static cmdline_parse_inst_t cmd_del_map = {
	.f = cmd_del_parsed,
	.data = NULL,
	.help_str = "del mapping NAME: delete a mapping added on the CLI, and its sessions",
	.tokens = {(void *)&cmd_del_del, (void *)&cmd_del_mapping, (void *)&cmd_del_name, NULL},
};

/* ---- set timeout {udp|tcp-est|...} SECONDS: the CLI words of CFG_TIMEOUTS -------------- */

struct cmd_timeout_result {
	cmdline_fixed_string_t set;
	cmdline_fixed_string_t timeout;
	cmdline_fixed_string_t which;
	uint32_t seconds;
};

static void cmd_timeout_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const struct cmd_timeout_result *r = parsed;
	json_t *f;

	RTE_SET_USED(data);
	if (cp_timeout_set(r->which, r->seconds) < 0) {
		cli_fail(cl, -EINVAL, "timeout %s: %u s is out of range 1-604800", r->which,
			 r->seconds);
		return;
	}
	f = json_object();
	cli_set_str(f, "timeout", r->which);
	cli_set_u64(f, "seconds", r->seconds);
	cli_set_u64(f, "generation", cp_generation());
	cli_done(cl, f, "%s timeout is %u s for new sessions", r->which, r->seconds);
}

static cmdline_parse_token_string_t cmd_timeout_set =
	TOKEN_STRING_INITIALIZER(struct cmd_timeout_result, set, "set");
static cmdline_parse_token_string_t cmd_timeout_timeout =
	TOKEN_STRING_INITIALIZER(struct cmd_timeout_result, timeout, "timeout");
static cmdline_parse_token_string_t cmd_timeout_which =
	TOKEN_STRING_INITIALIZER(struct cmd_timeout_result, which, CFG_TIMEOUT_CLI_WORDS);
static cmdline_parse_token_num_t cmd_timeout_seconds =
	TOKEN_NUM_INITIALIZER(struct cmd_timeout_result, seconds, RTE_UINT32);

static cmdline_parse_inst_t cmd_set_timeout = {
	.f = cmd_timeout_parsed,
	.data = NULL,
	.help_str = NULL, // cmd_timeout_help()
	.tokens = {(void *)&cmd_timeout_set, (void *)&cmd_timeout_timeout,
		   (void *)&cmd_timeout_which, (void *)&cmd_timeout_seconds, NULL},
};

// The words come from CFG_TIMEOUTS; the usage is read when a command runs, not before main().
RTE_INIT(cmd_timeout_help)
{
	static char help[256];
	char words[128];

	snprintf(help, sizeof(help),
		 "set timeout {%s} SECONDS: the idle timeout of new sessions of mappings without "
		 "their own (1-604800 s)",
		 cfg_timeout_words(words, sizeof(words), "|"));
	cmd_set_timeout.help_str = help;
}

static cmdline_parse_inst_t *cli_nat_cmds[] = {
	&cmd_clear_sessions_all,
	&cmd_clear_sessions_m,
	&cmd_add_map,
	&cmd_del_map,
	&cmd_set_timeout,
	NULL,
};
CLI_REGISTER(nat, cli_nat_cmds)
