/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the CLI command modules (cp/cli_show.c, cp/cli_nat.c, cp/cli_daemon.c) share with the
 * CLI core (cp/cli.c) and its text renderer (cp/cli_render.c). Control thread only.
 */
#ifndef STRAIT_CLI_PRIV_H
#define STRAIT_CLI_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <cmdline.h>
#include <cmdline_parse.h>
#include <cmdline_parse_num.h>
#include <cmdline_parse_string.h>
#include <jansson.h>
#include <rte_common.h>

#include <strait/cli.h>

/** Register a module's NULL-terminated command array at start-up. */
#define CLI_REGISTER(name, array)                                                                  \
	RTE_INIT(cli_register_##name)                                                              \
	{                                                                                          \
		cli_register(array);                                                               \
	}

/** Whether the command being run renders JSON (renderers may trim text, never JSON). */
bool cli_json(void);

/** End a command with its document (the reference is taken). */
void cli_reply(struct cmdline *cl, json_t *doc);

/**
 * End an action command: @p fields (may be NULL; the reference is taken) plus "message".
 * Text shows the message alone.
 */
void cli_done(struct cmdline *cl, json_t *fields, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** End a command with an error (@p err is -errno). */
void cli_fail(struct cmdline *cl, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/** Render @p doc as human text: tables for arrays of objects, `key: value` for objects
 * (cp/cli_render.c). Writes to @p f only. */
void cli_render_text(FILE *f, const json_t *doc);

/** The registered commands, NULL-terminated, in registration order; NULL before cli_init(). */
cmdline_parse_inst_t *const *cli_commands(void);

/** Whether @p cl is the interactive prompt (not the socket or cli_exec()). */
bool cli_is_tty(const struct cmdline *cl);

/** The syntax part of a help string, up to the first ": " outside braces (a new string). */
json_t *cli_syntax(const char *help);

/**
 * Find a mapping of the desired state by "NAME" or "NAMESPACE/NAME".
 * @return its index for cp_mapping_at(), -ENOENT, or -EINVAL when NAME alone is ambiguous
 *         (the same name in several namespaces); @p err says which.
 */
int cli_mapping_find(const char *arg, char *err, size_t errlen);

/** "ns/name", or "name" when ns is empty, into @p buf (2 * CFG_NAME_MAX bytes). */
const char *cli_mapping_label(const char *ns, const char *name, char *buf, size_t size);

/** Append helpers: jansson's json_object_set_new() with the value built from a C type. */
static inline void cli_set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v ? v : ""));
}
static inline void cli_set_u64(json_t *o, const char *k, uint64_t v)
{
	json_object_set_new(o, k, json_integer((json_int_t)v));
}
static inline void cli_set_int(json_t *o, const char *k, long long v)
{
	json_object_set_new(o, k, json_integer(v));
}

/** "a.b.c.d:port" of host-order values into @p buf (>= 22 bytes). */
const char *cli_addr_port(uint32_t addr, uint16_t port, char *buf);

/** The show stats document (cp_print_stats() renders it at exit). @return it, or NULL on
 * ENOMEM. */
json_t *cli_stats_doc(void);

#endif
