/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the config loader (common/config.c, common/yaml_reader.c,
 * common/mapping_schema.c): cfg_load_string() over any bytes either loads a config that
 * cfg_free() releases, or fails with a message that names the file. Seeds: the YAML of config/,
 * config/examples, tests/unit/data (tests/fuzz/corpus/config_fuzz).
 */
#include <errno.h>

#include <strait/config.h>

#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg c;
	char err[512];
	int rc;

	err[0] = '\0';
	rc = cfg_load_string("fuzz.yaml", (const char *)data, size, &c, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(c.n_mappings == 0 || c.mappings);
		for (unsigned int i = 0; i < c.n_mappings; i++) {
			struct cfg_mapping copy;
			FUZZ_CHECK(c.mappings[i].n_ports <= CFG_MAX_MAP_PORTS);
			FUZZ_CHECK(c.mappings[i].n_addrs <= CFG_MAX_ADDRS);
			if (cfg_mapping_copy(&copy, &c.mappings[i]) == 0)
				cfg_mapping_free(&copy);
		}
		cfg_free(&c);
	} else {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM);
		// Bad config: the message names the file (the operator's contract).
		FUZZ_CHECK(rc == -ENOMEM || strncmp(err, "fuzz.yaml", 9) == 0);
	}
	return 0;
}
