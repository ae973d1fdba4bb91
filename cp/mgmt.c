/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The CLI's inputs: the UNIX socket `cli_socket` and the interactive prompt (-i), a module of
 * the control loop (CP_MOD_MGMT). Everything here runs on the control thread, between
 * two slow-path passes, and must not block for longer than the wait it is given: one poll()
 * over stdin (the interactive prompt), the CLI socket and its clients, with the loop's wait
 * as its timeout. Sockets are non-blocking; a client's response is written as far as the
 * socket takes it and the rest when it becomes writable, so a client that does not read
 * holds only its own buffer, never the loop.
 *
 * The socket protocol is documented in strait/cli.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <strait/cli.h>
#include <strait/cp.h>
#include <strait/log.h>

#include "cp_priv.h"

#define MGMT_MAX_CLIENTS 16
/* Lines run per client per pass: a client pipelining commands must not starve the slow path. */
#define MGMT_LINES_PER_PASS 8

struct mgmt_client {
	int fd;
	char in[CLI_LINE_MAX];
	size_t in_len;
	char *out; /* pending response */
	size_t out_len, out_off;
	uint64_t last_ns;
	bool eof; /* the client closed its side: answer what it sent, then close */
};

static struct {
	int listen_fd;
	char path[CFG_PATH_MAX];
	dev_t dev;
	ino_t ino;
	struct mgmt_client clients[MGMT_MAX_CLIENTS];
	bool interactive; /* -i: the prompt starts on the first poll, after "ready" */
	bool tty_on;
} mg = {.listen_fd = -1};

/* ---- the socket ------------------------------------------------------------------------- */

static int mkdir_parents(const char *path)
{
	char dir[CFG_PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int cli_socket_open(const char *path, char *err, size_t errlen)
{
	const char *cfgpath = cp_config()->path;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: cli_socket: \"%s\" is longer than %zu bytes", cfgpath,
			 path, sizeof(sa.sun_path) - 1);
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ret = mkdir_parents(path);
	if (ret < 0) {
		snprintf(err, errlen, "%s: cli_socket: cannot create the directory of %s: %s",
			 cfgpath, path, strerror(-ret));
		return ret;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: cli_socket: %s exists and is not a socket",
				 cfgpath, path);
			return -EEXIST;
		}
		// A socket file outlives a daemon that was killed: remove it only if nobody
		// answers on it, so a second daemon cannot steal a running one's socket.
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			snprintf(err, errlen,
				 "%s: cli_socket: %s is in use (another strait runs on it)",
				 cfgpath, path);
			return -EADDRINUSE;
		}
		if (fd >= 0)
			close(fd);
		unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cli_socket: socket: %s", strerror(errno));
		return ret;
	}
	// Created 0600 from the start: no window in which another user could connect.
	old = umask(0177);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret < 0 || listen(fd, MGMT_MAX_CLIENTS) < 0 || stat(path, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cli_socket: cannot listen on %s: %s", cfgpath, path,
			 strerror(errno));
		close(fd);
		return ret;
	}
	mg.listen_fd = fd;
	mg.dev = st.st_dev;
	mg.ino = st.st_ino;
	snprintf(mg.path, sizeof(mg.path), "%s", path);
	CP_LOG(INFO, "CLI on %s", path);
	return 0;
}

static void cli_socket_close(void)
{
	struct stat st;

	if (mg.listen_fd < 0)
		return;
	close(mg.listen_fd);
	mg.listen_fd = -1;
	// Only our own socket file: someone may have replaced it since.
	if (stat(mg.path, &st) == 0 && st.st_dev == mg.dev && st.st_ino == mg.ino)
		unlink(mg.path);
}

static void client_close(struct mgmt_client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

/* Write what the socket takes. @return 0, or -1 when the client is gone. */
static int client_flush(struct mgmt_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	return 0;
}

/* Run one request line and queue its response: output, NUL, status, newline. */
static void client_run(struct mgmt_client *c, char *line)
{
	bool json = strncmp(line, CLI_JSON_PREFIX, strlen(CLI_JSON_PREFIX)) == 0;
	char *out = NULL, trailer[16];
	size_t len = 0;
	int ret, tn;

	ret = cli_exec(json ? line + strlen(CLI_JSON_PREFIX) : line, json, &out, &len);
	tn = snprintf(trailer, sizeof(trailer), "%c%d\n", '\0', -ret);
	c->out = malloc(len + (size_t)tn);
	if (!c->out) {
		free(out);
		return;
	}
	if (len)
		memcpy(c->out, out, len);
	memcpy(c->out + len, trailer, (size_t)tn);
	c->out_len = len + (size_t)tn;
	c->out_off = 0;
	free(out);
}

static void client_error(struct mgmt_client *c, int err, const char *msg)
{
	char *s = NULL;
	int n = asprintf(&s, "error: %s\n%c%d\n", msg, '\0', err);

	if (n > 0) {
		c->out = s;
		c->out_len = (size_t)n;
		c->out_off = 0;
	}
	c->eof = true; // close once it is written
}

/* Run the complete lines waiting in the client's buffer, one response at a time. */
static void client_lines(struct mgmt_client *c)
{
	for (int k = 0; k < MGMT_LINES_PER_PASS && !c->out; k++) {
		char *nl = memchr(c->in, '\n', c->in_len);
		size_t used;

		if (!nl) {
			if (c->in_len == sizeof(c->in)) {
				client_error(c, EINVAL, "request line longer than 8192 bytes");
				c->in_len = 0;
				return;
			}
			// At end of input, a last line without its newline is still a request.
			if (!c->eof || c->in_len == 0)
				return;
			nl = c->in + c->in_len;
			used = c->in_len;
		} else {
			used = (size_t)(nl - c->in) + 1;
		}
		*nl = '\0';
		if (nl > c->in && nl[-1] == '\r')
			nl[-1] = '\0';
		client_run(c, c->in);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		if (c->out && client_flush(c) < 0) {
			c->eof = true;
			c->in_len = 0;
		}
	}
}

static void client_io(struct mgmt_client *c, short revents, uint64_t now)
{
	if (revents & POLLOUT) {
		if (client_flush(c) < 0) {
			client_close(c);
			return;
		}
	}
	// A full buffer is not read (a zero-length read would look like end of input): its
	// lines are run first.
	if ((revents & (POLLIN | POLLHUP | POLLERR)) && !c->out && !c->eof &&
	    c->in_len < sizeof(c->in)) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
		if (n > 0) {
			c->in_len += (size_t)n;
			c->last_ns = now;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->eof = true;
		}
	}
	if (!c->out)
		client_lines(c);
	if (!c->out && c->eof && c->in_len == 0)
		client_close(c);
}

static void clients_accept(uint64_t now)
{
	for (int i = 0; i < MGMT_MAX_CLIENTS; i++) {
		struct mgmt_client *c = &mg.clients[i];
		int fd;

		if (c->fd >= 0)
			continue;
		fd = accept4(mg.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c->fd = fd;
		c->last_ns = now;
	}
}

/* ---- the control loop's hooks ---------------------------------------------------------- */

static int mgmt_init(struct cp_ctx *ctx, char *err, size_t errlen)
{
	const struct cfg *c = cp_config();
	int ret;

	for (int i = 0; i < MGMT_MAX_CLIENTS; i++)
		mg.clients[i].fd = -1;
	if (c->cli_socket[0]) {
		ret = cli_socket_open(c->cli_socket, err, errlen);
		if (ret < 0)
			return ret;
	}
	mg.interactive = ctx->args->interactive;
	return 0;
}

static void mgmt_poll(int wait_ms)
{
	struct pollfd fds[2 + MGMT_MAX_CLIENTS];
	struct mgmt_client *who[2 + MGMT_MAX_CLIENTS];
	int n = 0, tty = -1, lsn = -1, free_slots = 0;
	uint64_t now;

	if (mg.interactive && !mg.tty_on) {
		mg.interactive = false;
		mg.tty_on = cli_interactive_start() == 0;
	}
	now = cp_snap_now_ns();
	if (mg.tty_on) {
		tty = n;
		fds[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
	}
	for (int i = 0; i < MGMT_MAX_CLIENTS; i++) {
		struct mgmt_client *c = &mg.clients[i];
		if (c->fd < 0) {
			free_slots++;
			continue;
		}
		if (!c->out && now - c->last_ns > (uint64_t)CLI_IDLE_TIMEOUT_S * 1000000000ull) {
			client_close(c);
			free_slots++;
			continue;
		}
		who[n] = c;
		fds[n++] =
			(struct pollfd){.fd = c->fd, .events = (short)(c->out ? POLLOUT : POLLIN)};
	}
	// A full house waits in the listen backlog rather than being refused.
	if (mg.listen_fd >= 0 && free_slots) {
		lsn = n;
		fds[n++] = (struct pollfd){.fd = mg.listen_fd, .events = POLLIN};
	}
	// Lines left over from a pipelining client are run without waiting for more input.
	for (int i = 0; i < MGMT_MAX_CLIENTS; i++)
		if (mg.clients[i].fd >= 0 && !mg.clients[i].out && mg.clients[i].in_len)
			wait_ms = 0;
	cp_loop_step("cli socket: poll");
	if (poll(fds, (nfds_t)n, wait_ms) < 0)
		return;
	cp_loop_step("cli socket: commands");
	if (tty >= 0 && fds[tty].revents) {
		if (cli_interactive_poll() < 0) {
			// End of input on the prompt is `quit`, as in testpmd.
			mg.tty_on = false;
			cp_request_quit();
		}
	}
	for (int i = 0; i < n; i++)
		if (i != tty && i != lsn && (fds[i].revents || (!who[i]->out && who[i]->in_len)))
			client_io(who[i], fds[i].revents, now);
	if (lsn >= 0 && (fds[lsn].revents & POLLIN))
		clients_accept(now);
}

static void mgmt_fini(void)
{
	// Responses still queued (the `quit` that stopped us) get one last chance, unblocking.
	for (int i = 0; i < MGMT_MAX_CLIENTS; i++) {
		if (mg.clients[i].fd < 0)
			continue;
		if (mg.clients[i].out)
			client_flush(&mg.clients[i]);
		client_close(&mg.clients[i]);
	}
	cli_socket_close();
	mg.interactive = mg.tty_on = false;
}

static struct cp_module mgmt_module = {
	.name = "cli socket",
	.order = CP_MOD_MGMT,
	.init = mgmt_init,
	.poll = mgmt_poll,
	.fini = mgmt_fini,
};
CP_MODULE_REGISTER(mgmt_module)
