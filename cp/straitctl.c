/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * straitctl [-s SOCKET] [--json] COMMAND...: run one CLI command on a running strait through
 * its `cli_socket` (protocol in strait/cli.h) and exit with its status:
 *   0 the command succeeded, 1 it failed (bad command, unknown mapping...), 2 bad usage of
 *   straitctl, 3 the daemon could not be reached or did not answer.
 *
 * The daemon does all the work (parsing, rendering); this client only frames the request and
 * splits the answer from its status trailer. Text output of a failed command (the error and
 * the usage) goes to stderr; JSON goes to stdout either way, for scripts.
 *
 * No DPDK here: straitctl runs wherever the socket is, with the C library alone.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <strait/cli.h>

#define EXIT_FAILED	 1
#define EXIT_USAGE	 2
#define EXIT_UNREACHABLE 3
/* The longest command (`clear sessions` waits for every worker) takes a few seconds. */
#define ANSWER_TIMEOUT_MS 30000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: straitctl [-s SOCKET] [-j|--json] COMMAND...\n"
		"       straitctl --help | --version\n"
		"  -s, --socket SOCKET  the daemon's cli_socket (default %s)\n"
		"  -j, --json           print one JSON document instead of text\n"
		"Commands: straitctl help (e.g. show sessions mapping web limit 10).\n"
		"Exit status: 0 ok, 1 the command failed, 2 usage, 3 daemon unreachable.\n",
		CLI_SOCKET_DEFAULT);
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *path = CLI_SOCKET_DEFAULT;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *req, *ans = NULL, *nul;
	size_t req_len = 0, ans_len = 0, ans_cap = 0;
	bool json = false;
	int opt, fd, status, rc;

	while ((opt = getopt_long(argc, argv, "s:jhV", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("straitctl %s\n", STRAIT_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "straitctl: socket path too long: %s\n", path);
		return EXIT_USAGE;
	}

	// The request: "[json ]word word ...\n".
	for (int i = optind; i < argc; i++)
		req_len += strlen(argv[i]) + 1;
	req_len += strlen(CLI_JSON_PREFIX) + 1;
	if (req_len > CLI_LINE_MAX) {
		fprintf(stderr, "straitctl: command longer than %d bytes\n", CLI_LINE_MAX);
		return EXIT_USAGE;
	}
	req = calloc(1, req_len + 1);
	if (!req)
		return EXIT_UNREACHABLE;
	if (json)
		strcat(req, CLI_JSON_PREFIX);
	for (int i = optind; i < argc; i++) {
		if (strchr(argv[i], '\n')) {
			fprintf(stderr, "straitctl: a command is one line\n");
			free(req);
			return EXIT_USAGE;
		}
		strcat(req, argv[i]);
		strcat(req, i + 1 < argc ? " " : "\n");
	}

	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr,
			"straitctl: cannot connect to %s: %s (is strait running, with this "
			"cli_socket?)\n",
			path, strerror(errno));
		free(req);
		return EXIT_UNREACHABLE;
	}
	if (write_all(fd, req, strlen(req)) < 0) {
		fprintf(stderr, "straitctl: %s: %s\n", path, strerror(errno));
		free(req);
		return EXIT_UNREACHABLE;
	}
	shutdown(fd, SHUT_WR); // one request: the daemon closes after answering it
	free(req);

	// Read until the trailer "\0STATUS\n" is complete.
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		nul = ans ? memchr(ans, '\0', ans_len) : NULL;
		if (nul && memchr(nul + 1, '\n', ans_len - (size_t)(nul + 1 - ans)))
			break;
		if (ans_cap - ans_len < 65536) {
			ans_cap = ans_cap ? 2 * ans_cap : 131072;
			char *grown = realloc(ans, ans_cap);
			if (!grown) {
				free(ans);
				return EXIT_UNREACHABLE;
			}
			ans = grown;
		}
		if (poll(&p, 1, ANSWER_TIMEOUT_MS) == 0) {
			fprintf(stderr, "straitctl: %s: no answer in %d s\n", path,
				ANSWER_TIMEOUT_MS / 1000);
			free(ans);
			return EXIT_UNREACHABLE;
		}
		n = read(fd, ans + ans_len, ans_cap - ans_len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "straitctl: %s: the daemon closed the connection %s\n",
				path, n < 0 ? strerror(errno) : "before answering");
			free(ans);
			return EXIT_UNREACHABLE;
		}
		ans_len += (size_t)n;
	}
	close(fd);
	ans[ans_len] = '\0';
	status = atoi(nul + 1);
	rc = write_all(status && !json ? 2 : 1, ans, (size_t)(nul - ans));
	free(ans);
	return rc < 0 || status ? EXIT_FAILED : 0;
}
