/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CLI core: the command context built from every module's table, the output of a command
 * (JSON, or text through cp/cli_render.c) to the prompt, the socket and the tests, the usage
 * of the closest commands for a bad line, and helpers for the command modules. The daemon's
 * own commands are in cp/cli_daemon.c.
 *
 * One cmdline context serves every input. Its last instruction is a catch-all ("usage")
 * whose only token accepts a line exactly when no command does: rte_cmdline alone would answer
 * a typo with "Bad arguments" and nothing more, and a second fully matching instruction would
 * make every good line "Ambiguous". With the catch-all, a bad line reaches our callback, which
 * prints the usage of the commands that share the longest prefix with it.
 *
 * Output of a command goes to the request being run (cli_exec(), the socket) or, on the
 * interactive prompt, straight to the terminal through cmdline_printf(): it must be written
 * before rdline prints the next prompt, which it does as soon as the callback returns.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <cmdline_socket.h>

#include <strait/cp.h>

#include "cli_priv.h"
#include "cp_priv.h"

/* The command being run on behalf of cli_exec(); NULL on the interactive prompt. */
struct cli_req {
	bool json;
	int status; /* 0 or -errno */
	FILE *out;
};

static cmdline_parse_inst_t *cli_registered[CLI_MAX_CMDS + 1];
static unsigned int cli_n_registered;

static struct {
	cmdline_parse_ctx_t *cmds; /* the registered commands, NULL-terminated */
	cmdline_parse_ctx_t *ctx;  /* cmds + the catch-all */
	struct cmdline *parser;	   /* over cmds: the catch-all asks it whether a command matches */
	struct cmdline *exec;	   /* over ctx: cli_exec() */
	struct cmdline *tty;	   /* over ctx: the interactive prompt */
	struct cli_req *req;
} cli;

void cli_register(struct cmdline_inst *const *cmds)
{
	for (; *cmds; cmds++) {
		assert(cli_n_registered < CLI_MAX_CMDS);
		cli_registered[cli_n_registered++] = *cmds;
	}
}

bool cli_json(void)
{
	return cli.req && cli.req->json;
}

/* ---- output -------------------------------------------------------------------------- */

static void cli_emit(struct cmdline *cl, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (cli.req && cli.req->out)
		fwrite(s, 1, n, cli.req->out);
	else
		cmdline_printf(cl, "%.*s", (int)n, s);
}

static void cli_finish(struct cmdline *cl, json_t *doc, int status)
{
	char *buf = NULL;
	size_t len = 0;

	if (cli.req)
		cli.req->status = status;
	if (!doc) {
		static const char oom[] = "error: out of memory\n";
		cli_emit(cl, oom, sizeof(oom) - 1);
		if (cli.req)
			cli.req->status = -ENOMEM;
		return;
	}
	if (cli_json()) {
		// Compact: one document on one line, whatever its size.
		buf = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(6));
		if (buf) {
			cli_emit(cl, buf, strlen(buf));
			cli_emit(cl, "\n", 1);
		}
		free(buf);
	} else {
		FILE *f = open_memstream(&buf, &len);
		if (f) {
			cli_render_text(f, doc);
			fclose(f);
			cli_emit(cl, buf, len);
		}
		free(buf);
	}
	json_decref(doc);
}

void cli_reply(struct cmdline *cl, json_t *doc)
{
	cli_finish(cl, doc, 0);
}

void cli_done(struct cmdline *cl, json_t *fields, const char *fmt, ...)
{
	json_t *doc = json_object();
	char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (doc && msg) {
		cli_set_str(doc, "message", msg);
		if (fields)
			json_object_update(doc, fields);
	} else {
		json_decref(doc);
		doc = NULL;
	}
	json_decref(fields);
	free(msg);
	cli_finish(cl, doc, 0);
}

static void cli_fail_usage(struct cmdline *cl, int err, json_t *usage, const char *fmt, va_list ap)
{
	json_t *doc = json_object();
	char *msg = NULL;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	if (!doc || !msg) {
		json_decref(doc);
		json_decref(usage);
		free(msg);
		cli_finish(cl, NULL, err);
		return;
	}
	cli_set_str(doc, "error", msg);
	free(msg);
	if (usage)
		json_object_set_new(doc, "usage", usage);
	if (cli_json()) {
		cli_finish(cl, doc, err);
		return;
	}
	// Text: "error: ..." then one usage per line, aligned under the first.
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f) {
		size_t i;
		json_t *u;
		fprintf(f, "error: %s\n", json_string_value(json_object_get(doc, "error")));
		json_array_foreach(usage, i, u)
			fprintf(f, "%s%s\n", i == 0 ? "usage: " : "       ", json_string_value(u));
		fclose(f);
		cli_emit(cl, buf, len);
	}
	free(buf);
	json_decref(doc);
	if (cli.req)
		cli.req->status = err;
}

void cli_fail(struct cmdline *cl, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_fail_usage(cl, err, NULL, fmt, ap);
	va_end(ap);
}

static void cli_fail_with_usage(struct cmdline *cl, int err, json_t *usage, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cli_fail_with_usage(struct cmdline *cl, int err, json_t *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_fail_usage(cl, err, usage, fmt, ap);
	va_end(ap);
}

/* ---- helpers for the modules ------------------------------------------------------------ */

const char *cli_addr_port(uint32_t addr, uint16_t port, char *buf)
{
	char a[16];

	sprintf(buf, "%s:%u", cfg_ipv4_str(addr, a), port);
	return buf;
}

const char *cli_mapping_label(const char *ns, const char *name, char *buf, size_t size)
{
	if (ns[0])
		snprintf(buf, size, "%s/%s", ns, name);
	else
		snprintf(buf, size, "%s", name);
	return buf;
}

int cli_mapping_find(const char *arg, char *err, size_t errlen)
{
	const char *slash = strchr(arg, '/');
	int found = -1, count = 0;

	for (unsigned int i = 0; i < cp_mapping_count(); i++) {
		const struct cfg_mapping *m = cp_mapping_at(i, NULL);
		bool match;

		if (slash)
			match = strlen(m->ns) == (size_t)(slash - arg) &&
				strncmp(m->ns, arg, (size_t)(slash - arg)) == 0 &&
				strcmp(m->name, slash + 1) == 0;
		else
			match = strcmp(m->name, arg) == 0;
		if (match) {
			found = (int)i;
			count++;
		}
	}
	if (count == 0) {
		snprintf(err, errlen, "no mapping named \"%s\"", arg);
		return -ENOENT;
	}
	if (count > 1) {
		snprintf(err, errlen, "%d mappings are named \"%s\": say NAMESPACE/%s", count, arg,
			 arg);
		return -EINVAL;
	}
	return found;
}

/* ---- the catch-all: usage of the closest commands --------------------------------------- */

struct cmd_usage_result {
	const char *line;
};

static int cli_any_parse(cmdline_parse_token_hdr_t *tk, const char *buf, void *res,
			 unsigned int ressize)
{
	RTE_SET_USED(tk);
	// Completion probes tokens without a result buffer: never offer the catch-all there.
	if (res == NULL || ressize < sizeof(struct cmd_usage_result))
		return -1;
	if (cmdline_parse_check(cli.parser, buf) >= 0)
		return -1;
	((struct cmd_usage_result *)res)->line = buf;
	return (int)strcspn(buf, "\r\n");
}

static int cli_any_help(cmdline_parse_token_hdr_t *tk, char *buf, unsigned int size)
{
	RTE_SET_USED(tk);
	snprintf(buf, size, "anything else");
	return 0;
}

static struct cmdline_token_ops cli_any_ops = {
	.parse = cli_any_parse,
	.get_help = cli_any_help,
};

static cmdline_parse_token_hdr_t cli_any_token = {
	.ops = &cli_any_ops,
	.offset = 0,
};

/* The syntax part of a help string: up to the first ": " outside braces. */
json_t *cli_syntax(const char *help)
{
	int depth = 0;
	size_t i;

	for (i = 0; help[i]; i++) {
		if (help[i] == '{')
			depth++;
		else if (help[i] == '}')
			depth--;
		else if (depth == 0 && help[i] == ':' && help[i + 1] == ' ')
			break;
	}
	return json_stringn(help, i);
}

/* How many leading tokens of @p inst accept the words of @p line; *stop = where it stopped. */
static unsigned int cli_prefix_match(cmdline_parse_inst_t *inst, const char *line,
				     const char **stop)
{
	const char *p = line;
	unsigned int i;

	for (i = 0; inst->tokens[i]; i++) {
		cmdline_parse_token_hdr_t *tk = inst->tokens[i];
		int n;

		while (*p == ' ' || *p == '\t')
			p++;
		// cmdline_isendofcommand() is not exported by DPDK 22.11: its rule, spelled out.
		if (*p == '\0' || *p == '#' || *p == '\r' || *p == '\n')
			break;
		n = tk->ops->parse(tk, p, NULL, 0);
		if (n < 0)
			break;
		p += n;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	*stop = p;
	return i;
}

static void cli_add_usage(json_t *usage, const char *help)
{
	json_t *s = cli_syntax(help ? help : "?");
	size_t i;
	json_t *u;

	json_array_foreach(usage, i, u) {
		if (json_equal(u, s)) {
			json_decref(s);
			return;
		}
	}
	json_array_append_new(usage, s);
}

static void cmd_usage_parsed(void *parsed, struct cmdline *cl, void *data)
{
	const char *line = ((struct cmd_usage_result *)parsed)->line, *stop = line, *s;
	unsigned int best = 0;
	json_t *usage = json_array();
	char word[64];

	RTE_SET_USED(data);
	for (unsigned int i = 0; cli.cmds[i]; i++) {
		unsigned int n = cli_prefix_match(cli.cmds[i], line, &s);
		if (n > best) {
			best = n;
			stop = s;
		}
	}
	for (unsigned int i = 0; cli.cmds[i]; i++) {
		if (cli_prefix_match(cli.cmds[i], line, &s) == best)
			cli_add_usage(usage, cli.cmds[i]->help_str);
	}
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(stop, " \t\r\n"), stop);
	if (best == 0)
		cli_fail_with_usage(cl, -EINVAL, usage, "unknown command \"%s\"", word);
	else if (word[0] == '\0')
		cli_fail_with_usage(cl, -EINVAL, usage, "incomplete command");
	else
		cli_fail_with_usage(cl, -EINVAL, usage, "unexpected \"%s\"", word);
}

static cmdline_parse_inst_t cmd_usage = {
	.f = cmd_usage_parsed,
	.data = NULL,
	.help_str = "anything else: prints the usage of the closest commands",
	.tokens = {&cli_any_token, NULL},
};

/* ---- life cycle -------------------------------------------------------------------------- */

cmdline_parse_inst_t *const *cli_commands(void)
{
	return cli.cmds;
}

bool cli_is_tty(const struct cmdline *cl)
{
	return cl && cl == cli.tty;
}

int cli_init(void)
{
	unsigned int n = cli_n_registered;

	if (cli.exec)
		return 0;
	cli.cmds = calloc(n + 1, sizeof(*cli.cmds));
	cli.ctx = calloc(n + 2, sizeof(*cli.ctx));
	if (!cli.cmds || !cli.ctx)
		goto fail;
	memcpy(cli.cmds, cli_registered, n * sizeof(*cli.cmds));
	memcpy(cli.ctx, cli_registered, n * sizeof(*cli.ctx));
	cli.ctx[n] = &cmd_usage;
	// No file descriptors: output goes through cli_emit(), never through these instances.
	cli.parser = cmdline_new(cli.cmds, "", -1, -1);
	cli.exec = cmdline_new(cli.ctx, "", -1, -1);
	if (!cli.parser || !cli.exec)
		goto fail;
	return 0;
fail:
	cli_fini();
	return -ENOMEM;
}

void cli_fini(void)
{
	if (cli.tty)
		cmdline_stdin_exit(cli.tty); // restores the terminal, frees the instance
	cmdline_free(cli.exec);
	cmdline_free(cli.parser);
	free(cli.ctx);
	free(cli.cmds);
	memset(&cli, 0, sizeof(cli));
}

int cli_exec(const char *line, bool json, char **out, size_t *len)
{
	struct cli_req req = {.json = json};
	size_t n = strcspn(line, "\r\n"), outlen = 0;
	char *buf = NULL, *copy;
	int ret;

	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	if (!cli.exec)
		return -ENODEV;
	// rte_cmdline parses complete lines only: it waits for the newline.
	copy = malloc(n + 2);
	req.out = open_memstream(&buf, &outlen);
	if (!copy || !req.out) {
		free(copy);
		if (req.out)
			fclose(req.out);
		free(buf);
		return -ENOMEM;
	}
	memcpy(copy, line, n);
	copy[n] = '\n';
	copy[n + 1] = '\0';
	cli.req = &req;
	ret = cmdline_parse(cli.exec, copy);
	if (ret < 0) // the catch-all takes every line; only an internal limit gets here
		cli_fail(cli.exec, -EINVAL, "cannot parse the line (%d)", ret);
	cli.req = NULL;
	free(copy);
	fclose(req.out);
	if (out)
		*out = buf;
	else
		free(buf);
	if (len)
		*len = outlen;
	return req.status;
}

int cli_interactive_start(void)
{
	if (!cli.ctx)
		return -ENODEV;
	cli.tty = cmdline_stdin_new(cli.ctx, "strait> ");
	return cli.tty ? 0 : -ENOMEM;
}

int cli_interactive_poll(void)
{
	if (!cli.tty)
		return -EPIPE;
	// cmdline_poll() takes one character per call: drain what is there, boundedly.
	for (int i = 0; i < 4096; i++) {
		struct pollfd p = {.fd = 0, .events = POLLIN};
		int avail = 0, st;

		if (poll(&p, 1, 0) <= 0)
			break;
		// End of file is readable with nothing to read; /dev/null has no FIONREAD at all.
		if (!(p.revents & POLLIN) || ioctl(0, FIONREAD, &avail) < 0 || avail == 0)
			return -EPIPE;
		st = cmdline_poll(cli.tty);
		if (st < 0 || st == RDLINE_EXITED)
			return -EPIPE;
	}
	return 0;
}

static int cli_module_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	int ret;

	RTE_SET_USED(ctx);
	ret = cli_init();
	if (ret < 0)
		snprintf(err, errlen, "cannot set up the CLI: %s", strerror(-ret));
	return ret;
}

static struct cp_module cli_module = {
	.name = "cli",
	.order = CP_MOD_CLI,
	.init = cli_module_init,
	.fini = cli_fini,
};
CP_MODULE_REGISTER(cli_module)
