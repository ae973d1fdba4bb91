/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CLI core: the command context built from every module's table, the rendering shared by
 * the prompt, the socket and the tests, and the daemon's own commands (help, reload, quit).
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
#include <strait/log.h>

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

/* ---- text rendering ------------------------------------------------------------------ */

/* One value as a table cell or after "key: ": "" and null are "-", booleans yes/no. */
static char *cli_cell(const json_t *v)
{
	char *s = NULL;
	int ret = 0;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = strdup(json_string_length(v) ? json_string_value(v) : "-");
		break;
	case JSON_INTEGER:
		ret = asprintf(&s, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		ret = asprintf(&s, "%.2f", json_real_value(v));
		break;
	case JSON_TRUE:
		s = strdup("yes");
		break;
	case JSON_FALSE:
		s = strdup("no");
		break;
	case JSON_NULL:
		s = strdup("-");
		break;
	case JSON_ARRAY: {
		size_t i, len = 0;
		json_t *e;
		FILE *f;

		if (json_array_size(v) == 0)
			return strdup("-");
		f = open_memstream(&s, &len);
		if (!f)
			return NULL;
		json_array_foreach(v, i, e) {
			char *c = cli_cell(e);
			fprintf(f, "%s%s", i ? "," : "", c ? c : "?");
			free(c);
		}
		fclose(f);
		break;
	}
	case JSON_OBJECT:
		s = json_dumps(v, JSON_COMPACT);
		break;
	}
	if (ret < 0)
		s = NULL;
	return s;
}

static bool cli_is_table(const json_t *v)
{
	size_t i;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return false;
	json_array_foreach(v, i, e)
		if (!json_is_object(e))
			return false;
	return true;
}

/* Rows of objects as an aligned table: numbers right-aligned, no trailing blanks. */
static void cli_text_table(FILE *f, const json_t *rows, int indent)
{
	const char *cols[64];
	size_t width[64], ncols = 0, nrows = json_array_size(rows), i, c;
	bool right[64];
	char **cells = calloc(nrows * 64 + 1, sizeof(*cells));
	const char *k;
	json_t *row, *v;

	if (!cells)
		return;
	json_array_foreach(rows, i, row) {
		json_object_foreach(row, k, v) {
			for (c = 0; c < ncols && strcmp(cols[c], k) != 0; c++)
				;
			if (c == ncols && ncols < RTE_DIM(cols)) {
				cols[ncols] = k;
				width[ncols] = strlen(k);
				right[ncols] = true;
				ncols++;
			}
		}
	}
	json_array_foreach(rows, i, row) {
		for (c = 0; c < ncols; c++) {
			v = json_object_get(row, cols[c]);
			cells[i * 64 + c] = v ? cli_cell(v) : strdup("-");
			if (cells[i * 64 + c] && strlen(cells[i * 64 + c]) > width[c])
				width[c] = strlen(cells[i * 64 + c]);
			if (v && !json_is_number(v) && !json_is_null(v))
				right[c] = false;
		}
	}
	for (i = 0; i <= nrows; i++) {
		fprintf(f, "%*s", indent, "");
		for (c = 0; c < ncols; c++) {
			char hdr[128];
			const char *s;
			size_t pad;

			if (i == 0) {
				// Headers read better with dashes: "rx-packets", as testpmd prints.
				snprintf(hdr, sizeof(hdr), "%s", cols[c]);
				for (char *p = hdr; *p; p++)
					if (*p == '_')
						*p = '-';
				s = hdr;
			} else {
				s = cells[(i - 1) * 64 + c] ? cells[(i - 1) * 64 + c] : "?";
			}
			pad = width[c] - strlen(s);
			if (c > 0)
				fputs("  ", f);
			if (right[c])
				fprintf(f, "%*s%s", (int)pad, "", s);
			else if (c + 1 < ncols)
				fprintf(f, "%s%*s", s, (int)pad, "");
			else
				fputs(s, f);
		}
		fputc('\n', f);
	}
	for (i = 0; i < nrows * 64; i++)
		free(cells[i]);
	free(cells);
}

static bool cli_nested(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v) > 0) || cli_is_table(v);
}

static void cli_text_object(FILE *f, const json_t *o, int indent)
{
	size_t width = 0;
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
		if (!cli_nested(v) && strlen(k) > width)
			width = strlen(k);
	json_object_foreach((json_t *)o, k, v) {
		if (json_is_object(v) && json_object_size(v) > 0) {
			fprintf(f, "%*s%s:\n", indent, "", k);
			cli_text_object(f, v, indent + 2);
		} else if (cli_is_table(v)) {
			fprintf(f, "%*s%s:\n", indent, "", k);
			cli_text_table(f, v, indent + 2);
		} else {
			bool none = json_is_object(v) || (json_is_array(v) && !json_array_size(v));
			char *c = none ? strdup("(none)") : cli_cell(v);
			fprintf(f, "%*s%s:%*s %s\n", indent, "", k, (int)(width - strlen(k)), "",
				c ? c : "?");
			free(c);
		}
	}
}

void cli_render_text(FILE *f, const json_t *doc)
{
	const json_t *msg = json_object_get(doc, "message");

	if (json_is_string(msg)) {
		// An action's result: the sentence is the text; the other fields are for scripts.
		fprintf(f, "%s\n", json_string_value(msg));
	} else if (cli_is_table(doc)) {
		cli_text_table(f, doc, 0);
	} else if (json_is_array(doc) && json_array_size(doc) == 0) {
		fputs("(none)\n", f);
	} else if (json_is_object(doc)) {
		cli_text_object(f, doc, 0);
	} else {
		char *c = cli_cell(doc);
		fprintf(f, "%s\n", c ? c : "?");
		free(c);
	}
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
static json_t *cli_syntax(const char *help)
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

/* ---- the daemon's own commands ----------------------------------------------------------- */

struct cmd_word_result {
	cmdline_fixed_string_t word;
};

static void cmd_help_parsed(void *parsed, struct cmdline *cl, void *data)
{
	json_t *doc = json_array();

	RTE_SET_USED(parsed);
	RTE_SET_USED(data);
	for (unsigned int i = 0; cli.cmds[i]; i++) {
		const char *h = cli.cmds[i]->help_str ? cli.cmds[i]->help_str : "";
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
	ret = cp_reload(err, sizeof(err));
	if (ret < 0) {
		cli_fail(cl, ret, "reload: %s; the running mappings are kept", err);
		return;
	}
	cp_k8s_reload();
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
	.help_str = "reload: re-read the config file's mappings (as SIGHUP does)",
	.tokens = {(void *)&cmd_reload_word, NULL},
};

static void cmd_quit_parsed(void *parsed, struct cmdline *cl, void *data)
{
	RTE_SET_USED(parsed);
	RTE_SET_USED(data);
	cp_request_quit();
	cli_done(cl, NULL, "stopping strait");
	// rdline prints the prompt again once we return: not on the way out.
	if (cl == cli.tty)
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

/* ---- life cycle -------------------------------------------------------------------------- */

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
