/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for the kubeconfig loader (cp/k8s_kubeconfig.c, k8s_kubeconfig_load(),
 * and the YAML reader under it): k8s_kubeconfig_load() reads a path, so the input is written
 * to a memfd and loaded through /proc/self/fd/N. Certificate and key files named by the
 * input are only resolved against that directory, never read, by the loader (the client
 * reads them): no fuzzed path is opened. Seeds: hand-written kubeconfigs
 * (tests/fuzz/corpus/kubeconfig_fuzz).
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <strait/k8s_client.h>

#include "fuzz_util.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fd = memfd_create("kubeconfig", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct k8s_conn c;
	char err[1024];
	int rc;

	if (size > (1 << 20))
		return 0;
	FUZZ_CHECK(ftruncate(fd, 0) == 0);
	FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t)size);
	err[0] = '\0';
	rc = k8s_kubeconfig_load(path, &c, err, sizeof(err));
	if (rc == 0) {
		FUZZ_CHECK(strncmp(c.server, "http", 4) == 0);
		FUZZ_CHECK(memchr(c.source, '\0', sizeof(c.source)) != NULL);
		FUZZ_CHECK(!c.ca_data || c.ca_data[c.ca_len] == '\0');
		FUZZ_CHECK(!c.cert_data || c.cert_data[c.cert_len] == '\0');
		FUZZ_CHECK(!c.key_data || c.key_data[c.key_len] == '\0');
		k8s_conn_free(&c);
	} else {
		FUZZ_CHECK(rc == -EINVAL || rc == -ENOMEM);
		FUZZ_CHECK(rc == -ENOMEM || strncmp(err, "kubeconfig ", 11) == 0);
	}
	k8s_conn_free(&c); // safe twice, and on a zeroed one
	return 0;
}
