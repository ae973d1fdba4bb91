/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the CLI (cp/cli.c: the line tokenizer and rte_cmdline dispatch, and
 * every command behind it: show, add/del mapping, clear sessions, set timeout, help, ...):
 * the input is one command line, run through cli_exec() (the path of the socket and of
 * straitctl) rendered as text and again as JSON, over the management tests' fixture
 * (tests/unit/cp_fixture.h: EAL --no-huge, two net_null ports, one worker that does not run,
 * the control plane's modules from a config string). The JSON output must be one JSON
 * document. State that commands change (CLI mappings, timeouts) carries over from one input
 * to the next, as in a daemon. Seeds: the command lines of tests/unit/cli_test.c.
 */
#include <errno.h>
#include <netinet/in.h>

#include <jansson.h>

#include "cp_fixture.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	if (fixture_eal((*argv)[0]) < 0 || fixture_up("") < 0) {
		fprintf(stderr, "cli_fuzz: fixture failed\n");
		abort();
	}
	// Sessions for `show sessions` and `clear sessions` to list and clear.
	fixture_inject(40000, 8080, IPPROTO_TCP);
	fixture_inject(5000, 7777, IPPROTO_UDP);
	fixture_inject(5001, 30003, IPPROTO_UDP);
	atexit(fixture_down);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, *out = NULL;
	size_t len = 0;
	int rc;

	// One line: the socket reads up to a newline (cp/mgmt.c), and lines are short.
	if (size > 4096 || memchr(data, '\n', size) || memchr(data, '\0', size))
		return 0;
	// "quit" asks the fixture's control loop to stop: harmless here, but not a parse.
	line = fuzz_strdup(data, size);
	rc = cli_exec(line, false, &out, &len);
	FUZZ_CHECK(rc <= 0);
	FUZZ_CHECK(!out || strlen(out) == len);
	free(out);
	out = NULL;
	rc = cli_exec(line, true, &out, &len);
	FUZZ_CHECK(rc <= 0);
	if (out && len) {
		json_error_t e;
		json_t *doc = json_loads(out, JSON_DECODE_ANY, &e);
		if (!doc)
			fprintf(stderr, "cli_fuzz: \"%s\": not JSON: %s\n", line, out);
		FUZZ_CHECK(doc != NULL);
		json_decref(doc);
	}
	free(out);
	free(line);
	return 0;
}
