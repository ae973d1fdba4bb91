/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The YAML reader (yaml_reader.c): private to common/, shared by the config file's schema
 * (config.c) and the Mapping schema (mapping_schema.c).
 *
 * Every reader takes the context, the node (for its line) and the key path it is at, and on a
 * bad value writes `FILE:LINE: KEY.PATH: what is wrong` into the context's buffer and returns
 * -EINVAL. Control plane only; pure libc + libyaml.
 */
#ifndef STRAIT_YAML_READER_H
#define STRAIT_YAML_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include <strait/config.h>

#define CFG_KEYPATH_MAX	  128 /* "mappings[4095].backends[1023].weight" and then some */
#define CFG_SHOW_MAX	  64  /* bytes of user text echoed into a message */
#define CFG_SHOW_BUF	  (CFG_SHOW_MAX + 4)
#define CFG_PORT_NAME_MAX 15 /* IANA service name, as Kubernetes checks a port name */

/** One document being read: its name and text for messages, the loaded tree, the message. */
struct cfg_ctx {
	const char *file; /* for messages */
	const char *buf;  /* the whole input: reader errors give an offset, not a line */
	size_t len;
	yaml_document_t doc;
	char *err;
	size_t errlen;
};

/**
 * Set up @p x, empty @p err, and load the one document of @p buf (@p len bytes; @p name for
 * messages, NULL = "<string>") with its root in @p root.
 * @return 0 (the caller then deletes x->doc), -EINVAL on a syntax error, an empty document or
 * a second document, -ENOMEM.
 */
int cfg_begin(struct cfg_ctx *x, const char *name, const char *buf, size_t len, char *err,
	      size_t errlen, yaml_node_t **root);

/** Write `FILE:LINE: PATH: message` for node @p n. @return -EINVAL. */
int cfg_err(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/** Scalar @p n as text for a message: at most CFG_SHOW_MAX bytes, control characters as '?'. */
const char *cfg_show(const yaml_node_t *n, char buf[CFG_SHOW_BUF]);

/** "@p path.@p key" into @p dst ("..." at the end when cut). @return dst. */
const char *cfg_key_path(char dst[CFG_KEYPATH_MAX], const char *path, const char *key);

/** "@p path[@p i]" into @p dst. @return dst. */
const char *cfg_idx_path(char dst[CFG_KEYPATH_MAX], const char *path, unsigned int i);

/** Whether @p n is a plain YAML 1.2 core-schema null ("", ~, null, Null, NULL). */
bool cfg_is_null(const yaml_node_t *n);

/* Scalar readers: the value of node @p n, checked; -EINVAL with the message otherwise. */

/** Any scalar without NUL bytes (null is ""). */
int cfg_scalar(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, const char **out);
/** A scalar that is not null. */
int cfg_value(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, const char **out);
/** A string of at most @p size - 1 bytes copied into @p dst; null is "". */
int cfg_str(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, char *dst,
	    size_t size);
/** A decimal integer in @p min..@p max, no leading zero. */
int cfg_int(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, long long min,
	    long long max, long long *out);
int cfg_u16(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, unsigned int min,
	    unsigned int max, uint16_t *out);
int cfg_u32(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, uint32_t min,
	    uint32_t max, uint32_t *out);
/** true/True/TRUE or false/False/FALSE. */
int cfg_bool(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, bool *out);
/** An IPv4 address, host order. */
int cfg_addr(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, uint32_t *out);
/** An IPv4 prefix "a.b.c.d/len" or a bare address (/32). */
int cfg_prefix(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
	       struct cfg_cidr *out);
/** One of @p names (NULL-terminated), optionally any case; *out is its index. */
int cfg_enum(const struct cfg_ctx *x, const yaml_node_t *n, const char *path,
	     const char *const names[], bool nocase, int *out);
/** A Kubernetes name (@p dots: DNS-1123 subdomain) or label (may be "") of < CFG_NAME_MAX. */
int cfg_name(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, bool dots,
	     char dst[CFG_NAME_MAX]);
/** Whether @p s is a port name as Kubernetes checks one (IANA_SVC_NAME). */
bool cfg_port_name_valid(const char *s);

/* Collections. */

/** Entry @p i of sequence @p seq (checked with cfg_seq()). */
yaml_node_t *cfg_item(struct cfg_ctx *x, const yaml_node_t *seq, unsigned int i);
/** Check that @p n is a list (null counts as empty) of at most @p max entries. */
int cfg_seq(const struct cfg_ctx *x, const yaml_node_t *n, const char *path, unsigned int max,
	    unsigned int *count);
/**
 * Check that @p n is a mapping (null counts as empty) whose keys are all in @p keys
 * (NULL-terminated, at most 64), each once: libyaml itself accepts duplicate keys.
 */
int cfg_map(struct cfg_ctx *x, const yaml_node_t *n, const char *path, const char *const keys[]);
/**
 * cfg_map() with the keys taken from a table of structs that begin with their `const char *`
 * key, @p stride bytes apart, ended by a NULL key (struct cfg_field, say).
 */
int cfg_map_table(struct cfg_ctx *x, const yaml_node_t *n, const char *path, const void *table,
		  size_t stride);
/** Value of @p key in mapping @p n (checked with cfg_map()), NULL when absent. */
yaml_node_t *cfg_get(struct cfg_ctx *x, const yaml_node_t *n, const char *key);
/** "required key missing" + @p why, at the line of @p map. @return -EINVAL. */
int cfg_missing(const struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		const char *why);
/** cfg_missing() unless @p key is in @p map. */
int cfg_need(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key);

/* Optional keys of mapping @p map: absent leaves the default that the caller put in *out. */

int cfg_key_str(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		char *dst, size_t size);
int cfg_key_u16(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		unsigned int min, unsigned int max, uint16_t *out);
int cfg_key_u32(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		uint32_t min, uint32_t max, uint32_t *out);
int cfg_key_addr(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		 uint32_t *out);
int cfg_key_enum(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		 const char *const names[], int *out);
/**
 * Look up list @p key of @p map: *list is NULL when absent, *count 0 when absent or null,
 * @p sub receives the key path for the caller's messages.
 */
int cfg_key_seq(struct cfg_ctx *x, const yaml_node_t *map, const char *path, const char *key,
		unsigned int max, yaml_node_t **list, unsigned int *count,
		char sub[CFG_KEYPATH_MAX]);

/* mapping_schema.c, for the config file's `mappings:` */

/** Parse Mapping node @p n at key path @p path into @p m (zeroed first; owns its backends). */
int cfg_mapping_node(struct cfg_ctx *x, const yaml_node_t *n, const char *path,
		     struct cfg_mapping *m);

/* Config sections read in their own files. */

/** `addressPools:` into @p c (config_pools.c). @return 0 or -EINVAL (message in x). */
int cfg_pools_parse(struct cfg_ctx *x, const yaml_node_t *root, struct cfg *c);

#endif
