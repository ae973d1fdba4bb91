/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The config file (DESIGN.md §7) and the Mapping spec (§5), loaded with libyaml.
 *
 * One struct serves every source of mappings: the config file's static `mappings:`,
 * `add mapping {...}` on the CLI, and the Kubernetes reconcilers, so that all three reach the
 * data plane through the same table builder. Addresses are IPv4 in host byte order; ports
 * are host order; durations are seconds.
 *
 * Errors name the file, the line and the key, e.g.
 * `strait.yaml:12: mappings[1].ports[0].port: 70000 is out of range 1-65535`.
 * Unknown keys are rejected in the config file (a typo must not be silently ignored).
 */
#ifndef STRAIT_CONFIG_H
#define STRAIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_NAME_MAX 64 /**< bytes, with the NUL: Kubernetes names are <= 63 */
#define CFG_PATH_MAX 256
#define CFG_MAX_ADDRS 8 /**< addresses per port or per mapping */
#define CFG_MAX_ROUTES 32
#define CFG_MAX_CIDRS 32 /**< allowedSources entries per mapping */
#define CFG_MAX_MAP_PORTS 16 /**< ports entries per mapping */
#define CFG_MAX_BACKENDS 1024
#define CFG_MAX_MAPPINGS 4096
#define CFG_MAX_WORKERS 16

/** IPv4 prefix, host byte order; len 0..32. */
struct cfg_cidr {
	uint32_t addr;
	uint8_t len;
};

struct cfg_route {
	struct cfg_cidr prefix;
	uint32_t via; /**< next hop, host order */
};

/** One arm of the gateway (`ports.ext` or `ports.int`). */
struct cfg_port {
	bool present;
	char device[CFG_PATH_MAX]; /**< DPDK port name (vdev name or PCI address), or a whole
				    *  vdev string "net_tap0,iface=x" that strait probes itself */
	unsigned int device_line; /**< line of `device` in the file, for messages */
	struct cfg_cidr addrs[CFG_MAX_ADDRS]; /**< the gateway's own addresses on this arm */
	unsigned int n_addrs;
	uint32_t gateway; /**< default next hop, 0 = none */
	struct cfg_route routes[CFG_MAX_ROUTES];
	unsigned int n_routes;
};

/** Per-protocol session timeouts, seconds; 0 in a mapping means "use the global one". */
struct cfg_timeouts {
	uint32_t udp;
	uint32_t tcp_established;
	uint32_t tcp_transitory;
	uint32_t icmp;
};

enum cfg_nat_mode { CFG_NAT_FULL = 0, CFG_NAT_PRESERVE_SOURCE = 1 };
enum cfg_mapping_mode { CFG_MODE_STATIC = 0, CFG_MODE_SERVICE = 1, CFG_MODE_PER_POD = 2 };
enum cfg_backend_kind { CFG_BACKENDS_PODS = 0, CFG_BACKENDS_NODEPORTS = 1 };

/** One `ports:` entry of a mapping: external port or range → service port. */
struct cfg_map_port {
	uint16_t port; /**< first external port */
	uint16_t end_port; /**< last external port (== port when not a range) */
	uint16_t service_port; /**< target port; 0 = same as the external port */
	char service_port_name[CFG_NAME_MAX]; /**< when servicePort is a name (Kubernetes) */
	uint8_t proto; /**< IPPROTO_TCP or IPPROTO_UDP */
};

struct cfg_backend {
	uint32_t addr; /**< host order */
	uint16_t port; /**< 0 = the mapping port's servicePort */
	uint16_t weight; /**< >= 1, default 1 */
	bool serving_only; /**< serving but not ready (terminating): no new sessions */
	char name[CFG_NAME_MAX]; /**< pod name when known, for display */
};

/** A mapping: the DESIGN §5 spec, with backends resolved. */
struct cfg_mapping {
	char name[CFG_NAME_MAX];
	char ns[CFG_NAME_MAX]; /**< Kubernetes namespace; "" for the config file and CLI */
	uint32_t addrs[CFG_MAX_ADDRS]; /**< external addresses, host order */
	unsigned int n_addrs;
	struct cfg_cidr allowed[CFG_MAX_CIDRS]; /**< allow-list; empty = 0.0.0.0/0 */
	unsigned int n_allowed;
	enum cfg_mapping_mode mode;
	struct cfg_map_port ports[CFG_MAX_MAP_PORTS];
	unsigned int n_ports;
	char service_name[CFG_NAME_MAX];
	char statefulset_name[CFG_NAME_MAX];
	uint16_t start_port, target_port, bootstrap_port;
	enum cfg_nat_mode nat;
	enum cfg_backend_kind backend_kind;
	struct cfg_timeouts timeouts; /**< 0 = global default */
	int32_t ordinal; /**< StatefulSet ordinal for per-pod ports, -1 = none */
	struct cfg_backend *backends; /**< owned; n_backends entries */
	unsigned int n_backends;
	unsigned int line; /**< line of the definition in its file, 0 if none */
};

struct cfg_kubernetes {
	bool enabled;
	char kubeconfig[CFG_PATH_MAX];
	char ns[CFG_NAME_MAX]; /**< namespace filter, "" = all */
};

/** The whole config file. */
struct cfg {
	char path[CFG_PATH_MAX]; /**< file it came from, for messages */
	struct cfg_port ext, intl; /**< `ports.ext`, `ports.int` */
	unsigned int workers; /**< worker lcores, 1..CFG_MAX_WORKERS, default 1 */
	uint32_t sessions_max; /**< per gateway, split over workers; default 1048576 */
	struct cfg_timeouts timeouts; /**< defaults 300/7440/240/60 (RFC 4787, 5382, 7857) */
	struct cfg_kubernetes k8s;
	char cli_socket[CFG_PATH_MAX]; /**< "" = no socket */
	char metrics_listen[CFG_PATH_MAX]; /**< "host:port", "" = no metrics */
	struct cfg_mapping *mappings; /**< owned; n_mappings entries */
	unsigned int n_mappings;
};

/**
 * Load a config file.
 * @param path file to read.
 * @param out  filled on success; release with cfg_free(). Zeroed on failure.
 * @param err  buffer for a one-line message naming file, line and key.
 * @return 0, -ENOENT/-EACCES when the file cannot be read, -EINVAL on a bad value.
 * Control plane only.
 */
int cfg_load_file(const char *path, struct cfg *out, char *err, size_t errlen);

/**
 * Load a config from memory (the embedded default, tests). @p name is used in messages.
 * @return 0 or -EINVAL. Control plane only.
 */
int cfg_load_string(const char *name, const char *buf, size_t len, struct cfg *out, char *err,
		    size_t errlen);

/**
 * Parse one mapping written as YAML (block or flow style, e.g. the argument of the CLI's
 * `add mapping {name: web, addresses: [...], ...}`), with the same keys and checks as an
 * entry of the config file's `mappings:`.
 * @return 0 or -EINVAL with @p err set. @p out owns its backends (cfg_mapping_free()).
 */
int cfg_mapping_parse(const char *name, const char *buf, size_t len, struct cfg_mapping *out,
		      char *err, size_t errlen);

/** Release what a mapping owns (its backends); the struct itself is the caller's. */
void cfg_mapping_free(struct cfg_mapping *m);

/** Deep copy @p src into @p dst. @return 0 or -ENOMEM. */
int cfg_mapping_copy(struct cfg_mapping *dst, const struct cfg_mapping *src);

/** Release everything a cfg owns. Safe on a zeroed cfg. */
void cfg_free(struct cfg *c);

/**
 * Parse "a.b.c.d" into host order. @return 0 or -EINVAL.
 */
int cfg_parse_ipv4(const char *s, uint32_t *addr);

/** Parse "a.b.c.d/len" (or a bare address as /32). @return 0 or -EINVAL. */
int cfg_parse_cidr(const char *s, struct cfg_cidr *c);

/** Whether host-order @p addr lies in @p c. */
static inline bool cfg_cidr_contains(const struct cfg_cidr *c, uint32_t addr)
{
	uint32_t mask = c->len == 0 ? 0 : ~0u << (32 - c->len);
	return (addr & mask) == (c->addr & mask);
}

/** Format host-order @p addr into @p buf (>= 16 bytes). @return buf. */
char *cfg_ipv4_str(uint32_t addr, char *buf);

/** The embedded default config (config/strait.yaml), NUL-terminated. */
extern const char strait_default_config[];

#endif
