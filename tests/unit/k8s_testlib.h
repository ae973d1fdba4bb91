/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers of the k8s_*_test.c files: the recorded API responses, files, temp dirs. */
#ifndef STRAIT_K8S_TESTLIB_H
#define STRAIT_K8S_TESTLIB_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#ifndef STRAIT_K8S_WIRE
#error "build with -DSTRAIT_K8S_WIRE=\"<root>/tests/data/k8s-wire\""
#endif
#ifndef STRAIT_SOURCE_ROOT
#error "build with -DSTRAIT_SOURCE_ROOT=\"<root>\""
#endif

/* A whole file, NUL-terminated; fails the test if it cannot be read. */
static inline char *t_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f) {
		fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno));
		assert_non_null(f);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

/* A recorded body from tests/data/k8s-wire. */
static inline char *t_wire(const char *name, size_t *len)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", STRAIT_K8S_WIRE, name);
	return t_read(path, len);
}

static inline json_t *t_wire_json(const char *name)
{
	size_t len;
	char *b = t_wire(name, &len);
	json_t *j = json_loadb(b, len, 0, NULL);

	free(b);
	assert_non_null(j);
	return j;
}

static inline json_t *t_json(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (!j)
		fprintf(stderr, "bad test JSON line %d: %s\n", e.line, e.text);
	assert_non_null(j);
	return j;
}

static inline void t_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A fresh directory under /tmp; the caller removes it with t_rmdir(). */
static inline void t_mkdtemp(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/strait-k8s-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static inline void t_rmdir(const char *dir)
{
	char cmd[1100];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

#endif
