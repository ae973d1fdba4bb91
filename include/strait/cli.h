/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The command line (DESIGN §6): one set of commands, served on the interactive prompt
 * (`strait ... -- -i`, rte_cmdline on stdin), on the UNIX socket `cli_socket` for `straitctl`,
 * and through cli_exec() for tests.
 *
 * Commands are testpmd-style `cmdline_parse_inst_t` tables, one NULL-terminated array per
 * module (cp/cli_daemon.c, cp/cli_show.c, cp/cli_nat.c, cp/show_workers.c, ...), registered by
 * a constructor with cli_register() and concatenated by cli_init(). Their callbacks call the
 * same control-plane functions as the config file and Kubernetes (strait/cp.h). Every command
 * renders one JSON document (jansson); the human text is drawn from that same document
 * (aligned tables, cp/cli_render.c), so text and `--json` never disagree.
 *
 * ## Socket protocol (`cli_socket`, a SOCK_STREAM UNIX socket, mode 0600)
 *
 * Request: one line, `[json ]COMMAND\n`, at most CLI_LINE_MAX bytes with the newline. The
 * `json ` prefix asks for one JSON document instead of text.
 *
 * Response: the output bytes (text, or one JSON document and a newline), then a trailer:
 * one NUL byte, the status as a decimal number, and `\n`. The status is 0 on success or a
 * positive errno value (EINVAL: bad command, with its usage in the output; ENOENT: no such
 * mapping; EPERM: the mapping belongs to another source). Output never contains a NUL byte, so
 * the trailer cannot be mistaken for output.
 *
 * A client may send several lines on one connection: each gets its own response, in order.
 * The server closes the connection on end of input, on a line longer than CLI_LINE_MAX, and
 * after CLI_IDLE_TIMEOUT_S seconds without a request.
 *
 * Example (`printf 'show workers\n' | socat - UNIX-CONNECT:/run/strait/cli.sock | od -c`):
 *
 *     worker  lcore  ...\n ... \0 0 \n
 */
#ifndef STRAIT_CLI_H
#define STRAIT_CLI_H

#include <stdbool.h>
#include <stddef.h>

/** Socket used by straitctl when neither -s nor the config says otherwise. */
#define CLI_SOCKET_DEFAULT "/run/strait/cli.sock"
/** Longest request line, in bytes, newline included. */
#define CLI_LINE_MAX 8192
/** Prefix of a request line that asks for JSON output. */
#define CLI_JSON_PREFIX "json "
/** A connection without a request for this long (seconds) is closed. */
#define CLI_IDLE_TIMEOUT_S 60
/** Sessions listed by `show sessions` without `limit N`. */
#define CLI_SESSIONS_DEFAULT_LIMIT 1000

struct cmdline_inst;

/**
 * Register a module's commands: a NULL-terminated array of instructions that must outlive
 * the daemon (static storage). Called from constructors (RTE_INIT), before main().
 * At most CLI_MAX_CMDS instructions in all; more is a programming error (assert).
 */
#define CLI_MAX_CMDS 128
void cli_register(struct cmdline_inst *const *cmds);

/**
 * Build the command context from the registered tables; a second call does nothing.
 * @return 0 or -ENOMEM. Control thread, after the config and the state are up (the CLI
 * module of the control plane's init list calls it).
 */
int cli_init(void);

/** Release what cli_init() and cli_interactive_start() made; restores the terminal.
 * Control thread; safe without a cli_init(). */
void cli_fini(void);

/**
 * Run one command line, as the socket does.
 * @param line  the command, with or without a trailing newline; "" does nothing.
 * @param json  render the output as one JSON document.
 * @param out   receives the output (malloc'ed, NUL-terminated, caller frees); may be NULL.
 * @param len   receives the output length in bytes; may be NULL.
 * @return 0, or the command's error as -errno (-EINVAL for a line that is not a command:
 *         the output then holds the usage of the closest commands; -ENODEV before
 *         cli_init(); -ENOMEM). Control thread only.
 */
int cli_exec(const char *line, bool json, char **out, size_t *len);

/**
 * Start the interactive prompt `strait> ` on stdin/stdout (rte_cmdline: editing, history,
 * tab completion, `?` for help), the terminal in raw mode until cli_fini().
 * @return 0, -ENODEV before cli_init(), or -ENOMEM. Control thread.
 */
int cli_interactive_start(void);

/**
 * Feed what is waiting on stdin to the prompt: never blocks.
 * @return 0, or -EPIPE once stdin is closed (end of file) or the prompt has exited (also
 *         when the prompt was never started). Control thread.
 */
int cli_interactive_poll(void);

#endif
