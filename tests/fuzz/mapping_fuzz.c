/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for `add mapping {YAML}`'s decoder (common/mapping_schema.c):
 * cfg_mapping_parse() over any bytes either returns a mapping within the config's limits,
 * which copies and frees, or fails with a message naming "cli". Seeds: the mappings of
 * config/ and the CLI tests' arguments (tests/fuzz/corpus/mapping_fuzz).
 */
#include <errno.h>

#include <strait/config.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg_mapping m, copy;
	char err[512];
	int rc;

	err[0] = '\0';
	rc = cfg_mapping_parse("cli", (const char *)data, size, &m, err, sizeof(err));
	if (rc != 0) {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM);
		FUZZ_CHECK(rc == -ENOMEM || strncmp(err, "cli", 3) == 0);
		return 0;
	}
	FUZZ_CHECK(m.n_ports <= CFG_MAX_MAP_PORTS);
	FUZZ_CHECK(m.n_addrs <= CFG_MAX_ADDRS && m.n_allowed <= CFG_MAX_CIDRS);
	FUZZ_CHECK(m.n_backends <= CFG_MAX_BACKENDS && (m.n_backends == 0 || m.backends));
	for (unsigned int i = 0; i < m.n_ports; i++)
		FUZZ_CHECK(m.ports[i].port >= 1 && m.ports[i].end_port >= m.ports[i].port);
	FUZZ_CHECK(memchr(m.name, '\0', sizeof(m.name)) != NULL);
	if (cfg_mapping_copy(&copy, &m) == 0)
		cfg_mapping_free(&copy);
	cfg_mapping_free(&m);
	cfg_mapping_free(&m); // idempotent, as documented
	return 0;
}
