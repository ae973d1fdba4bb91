/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The daemon's own commands: help (from every registered command's help string), reload (as
 * SIGHUP does: every module's reload hook) and quit (asks the control loop to stop).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include <strait/cp.h>

#include "cli_priv.h"
#include "cp_priv.h"

struct cmd_word_result {
	cmdline_fixed_string_t word;
};

static void cmd_help_parsed(void *parsed, struct cmdline *cl, void *data)
{
	json_t *doc = json_array();

	RTE_SET_USED(parsed);
	RTE_SET_USED(data);
	for (cmdline_parse_inst_t *const *c = cli_commands(); c && *c; c++) {
		const char *h = (*c)->help_str ? (*c)->help_str : "";
		json_t *syn = cli_syntax(h), *row = json_object();
		const char *rest = h + json_string_length(syn);
		size_t j;
		json_t *e;
		bool dup = false;

		// Instructions that spell one command several ways share a help string.
		json_array_foreach(doc, j, e)
			dup |= json_equal(json_object_get(e, "command"), syn);
		if (dup) {
			json_decref(syn);
			json_decref(row);
			continue;
		}
		json_object_set_new(row, "command", syn);
		cli_set_str(row, "description", rest[0] == ':' ? rest + 2 : rest);
		json_array_append_new(doc, row);
	}
	cli_reply(cl, doc);
}

static cmdline_parse_token_string_t cmd_help_word =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "help");

static cmdline_parse_inst_t cmd_help = {
	.f = cmd_help_parsed,
	.data = NULL,
	.help_str = "help: list the commands",
	.tokens = {(void *)&cmd_help_word, NULL},
};

static void cmd_reload_parsed(void *parsed, struct cmdline *cl, void *data)
{
	char err[512];
	int ret;

	RTE_SET_USED(parsed);
	RTE_SET_USED(data);
	// The config file's mappings first; Kubernetes (--manifests) only when they reloaded.
	ret = cp_modules_reload(false, err, sizeof(err));
	if (ret < 0) {
		cli_fail(cl, ret, "reload: %s; the running mappings are kept", err);
		return;
	}
	json_t *f = json_object();
	cli_set_u64(f, "generation", cp_generation());
	cli_done(cl, f, "reloaded %s: tables generation %" PRIu64, cp_config()->path,
		 cp_generation());
}

static cmdline_parse_token_string_t cmd_reload_word =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "reload");

static cmdline_parse_inst_t cmd_reload = {
	.f = cmd_reload_parsed,
	.data = NULL,
	.help_str = "reload: re-read the config file's mappings and address pools (as SIGHUP does)",
	.tokens = {(void *)&cmd_reload_word, NULL},
};

static void cmd_quit_parsed(void *parsed, struct cmdline *cl, void *data)
{
	RTE_SET_USED(parsed);
	RTE_SET_USED(data);
	cp_request_quit();
	cli_done(cl, NULL, "stopping strait");
	// rdline prints the prompt again once we return: not on the way out.
	if (cli_is_tty(cl))
		cmdline_set_prompt(cl, "");
}

static cmdline_parse_token_string_t cmd_quit_word =
	TOKEN_STRING_INITIALIZER(struct cmd_word_result, word, "quit");

static cmdline_parse_inst_t cmd_quit = {
	.f = cmd_quit_parsed,
	.data = NULL,
	.help_str = "quit: stop the daemon (exit status 0)",
	.tokens = {(void *)&cmd_quit_word, NULL},
};

static cmdline_parse_inst_t *cli_core_cmds[] = {&cmd_help, &cmd_reload, &cmd_quit, NULL};
CLI_REGISTER(core, cli_core_cmds)
