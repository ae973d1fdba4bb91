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
 * A Mapping's keys are listed once, in CFG_MAPPING_FIELDS (and its sub-lists), and the session
 * timeouts once, in CFG_TIMEOUTS: the config file, the CLI, the Kubernetes CRD decoder, `show`
 * and the CRD schema test all read those lists.
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

#define CFG_NAME_MAX	  64 /**< bytes, with the NUL: Kubernetes names are <= 63 */
#define CFG_PATH_MAX	  256
#define CFG_MAX_ADDRS	  8  /**< addresses per port or per mapping */
#define CFG_IFNAME_MAX	  16 /**< a Linux interface name with its NUL (IFNAMSIZ) */
#define CFG_MAX_HELD	  64 /**< addresses of a kernel TAP followed (cfg_port.held) */
#define CFG_MAX_ROUTES	  32
#define CFG_MAX_CIDRS	  32 /**< allowedSources entries per mapping */
#define CFG_MAX_MAP_PORTS 16 /**< ports entries per mapping */
#define CFG_MAX_BACKENDS  1024
#define CFG_MAX_MAPPINGS  16384
#define CFG_MAX_WORKERS	  16
/** `maglevThreads` at most: threads that compute Maglev tables besides the control thread */
#define CFG_MAX_MAGLEV_THREADS 64
#define CFG_MAX_RULES	       32 /**< source rules per mapping (an l7mp VirtualService's) */
#define CFG_MAX_GROUPS	       8  /**< backend groups per mapping (the rules' targets) */
/**
 * Most `sessions.max`: 2^28 sessions = 32 GiB at 128 bytes a session (the table's record, its
 * two entries, its links on the unestablished lists and its TCP window tracking), well
 * past any one host's share for NAT. It also keeps the per-worker split
 * (rounded up) and the cuckoo table's bucket count far from 32-bit wrap: at 2^32 - 1 the split
 * wrapped to 0 sessions a worker.
 */
#define CFG_MAX_SESSIONS (1u << 28)

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
	/** DPDK port name (vdev name or PCI address), or a whole vdev string
	 *  "net_tap0,iface=x" that strait probes itself. The file's `device: {fromEnv: VAR}`
	 *  is read here as the first PCI address of getenv(VAR) (the SR-IOV network device
	 *  plugin's PCIDEVICE_<RESOURCE>, a comma-separated list), `device: {netdev: IF,
	 *  driver: af_packet|af_xdp}` as the vdev string "net_af_packet_IF,iface=IF". */
	char device[CFG_PATH_MAX];
	unsigned int device_line;	      /**< line of `device` in the file, for messages */
	struct cfg_cidr addrs[CFG_MAX_ADDRS]; /**< the gateway's own addresses on this arm */
	unsigned int n_addrs;
	uint32_t gateway; /**< default next hop, 0 = none */
	struct cfg_route routes[CFG_MAX_ROUTES];
	unsigned int n_routes;
	/** ports.int only: snat.addresses, the full-NAT source addresses (host order), each
	 *  one of addrs; none = addrs[0] alone */
	uint32_t snat[CFG_MAX_ADDRS];
	unsigned int n_snat;
	/** `kernel.tap`: the kernel TAP interface of the arm's exception path (docs/ha.md), at
	 *  most IFNAMSIZ - 1 bytes; "" = none */
	char kernel_tap[CFG_IFNAME_MAX];
	/** Not a key: the addresses the kernel TAP holds now (host order, netlink, followed by
	 *  cp/kernel_port.c); tables_build() serves them, and in ha mode vrrp or bgp serves the
	 *  gated addresses (cfg_ha_gated()) only while they are here. */
	uint32_t held[CFG_MAX_HELD];
	unsigned int n_held;
};

/** `ha.mode`: none (default); vrrp: a gateway serves its VRRP addresses only while its
 *  kernel TAP holds them (keepalived adds them when it becomes master); bgp: every gateway
 *  serves all its addresses (but a SNAT address other than the int arm's first, with an int
 *  TAP: a VRRP address, cfg_ha_gated()), and puts each mapping address as a /32 on the ext
 *  TAP while it is ready (`/readyz`), for BIRD to announce (cp/kernel_port.c, docs/ha.md). */
enum cfg_ha_mode { CFG_HA_NONE = 0, CFG_HA_VRRP = 1, CFG_HA_BGP = 2 };
#define CFG_HA_DRAIN_DEFAULT 2	  /**< `ha.drainSeconds` default, s */
#define CFG_HA_DRAIN_MAX     300  /**< `ha.drainSeconds` bound, s */
#define CFG_SYNC_MAX_PEERS   8	  /**< `ha.sync.peers` entries at most */
#define CFG_SYNC_PORT	     3780 /**< `ha.sync.port` default (UDP) */
#define CFG_SYNC_KEY_MIN     16	  /**< `ha.sync.key` length bounds, bytes */
#define CFG_SYNC_KEY_MAX     64

/** `ha.sync` (docs/ha.md, "Session sync"): stream the NAT sessions to the peer gateways over
 *  UDP from the int address, through the int TAP. */
struct cfg_ha_sync {
	bool enabled;			    /**< the key is present */
	uint32_t peers[CFG_SYNC_MAX_PEERS]; /**< `peers`: the other gateways' int addresses, host
					     *  order */
	unsigned int n_peers;
	uint16_t port; /**< `port`: UDP, the same on every gateway (sent from and to) */
	/** `key`: the secret of the workers' steering hash, the same on every gateway, so that
	 *  a flow's owner is the same worker on all (required with more than one worker) */
	char key[CFG_SYNC_KEY_MAX + 1];
};

/** The longest timeout accepted anywhere, seconds: a year. Larger values are certainly typos,
 *  and this keeps seconds * TSC hz far from 2^64. */
#define CFG_TIMEOUT_MAX 31536000

/**
 * The session timeouts, one line each and nothing else to edit to add one (but the data plane's
 * use of it and the CRD schema):
 *
 *   X(member, config key, CRD key, CLI word, default seconds, session states it governs)
 *
 * - member: of struct cfg_timeouts (uint32_t seconds; in a mapping 0 = the global one);
 * - config key: in the config file's `sessions.timeouts` (1..CFG_TIMEOUT_MAX);
 * - CRD key: in a Mapping's `timeouts` (config file, CLI and Kubernetes; 0..CFG_TIMEOUT_MAX);
 * - CLI word: of `set timeout WORD SECONDS`;
 * - default: the global value when the config file does not set it;
 * - states: the data plane session states (nat_session_state_name()) that expire after it.
 * Member order is the order of struct cfg_timeouts (positional initialisers rely on it).
 */
#define CFG_TIMEOUTS(X)                                                                            \
	X(udp, "udp", "udp", "udp", 300, "udp") /* RFC 4787 REQ-5 */                               \
	X(tcp_established, "tcp_established", "tcpEstablished", "tcp-est", 7440,                   \
	  "established") /* RFC 5382 REQ-5 */                                                      \
	X(tcp_transitory, "tcp_transitory", "tcpTransitory", "tcp-trans", 240,                     \
	  "fin_wait closed") /* RFC 5382 REQ-5, RFC 7857 */                                        \
	X(tcp_syn, "tcp_syn", "tcpSyn", "tcp-syn", 120,                                            \
	  "syn_sent") /* Linux conntrack SYN_SENT; docs/operations.md says why not 240 */

#define CFG_TIMEOUT_MEMBER_(member, ckey, crdkey, word, def, states) uint32_t member;
/** Per-protocol session timeouts, seconds; 0 in a mapping means "use the global one". */
struct cfg_timeouts {
	CFG_TIMEOUTS(CFG_TIMEOUT_MEMBER_)
};

/**
 * The CLI words of CFG_TIMEOUTS joined by '#', as a cmdline string token wants them
 * ("udp#tcp-est#..."): a string literal, usable in a static initializer.
 */
#define CFG_TIMEOUT_WORD_HASH_(member, ckey, crdkey, word, def, states) "#" word
#define CFG_TIMEOUT_CLI_WORDS						(("" CFG_TIMEOUTS(CFG_TIMEOUT_WORD_HASH_)) + 1)

/**
 * The member of @p t that CLI word @p word (a CFG_TIMEOUTS CLI word, e.g. "tcp-est") names.
 * @return a pointer into @p t, or NULL when @p word names no timeout. Any thread.
 */
uint32_t *cfg_timeout_by_word(struct cfg_timeouts *t, const char *word);

/**
 * Write the CLI words of CFG_TIMEOUTS into @p buf joined by @p sep ("udp|tcp-est|..."),
 * truncated to @p size bytes with the NUL. @return buf. Any thread.
 */
char *cfg_timeout_words(char *buf, size_t size, const char *sep);

enum cfg_nat_mode { CFG_NAT_FULL = 0, CFG_NAT_PRESERVE_SOURCE = 1 };
enum cfg_mapping_mode { CFG_MODE_STATIC = 0, CFG_MODE_SERVICE = 1, CFG_MODE_PER_POD = 2 };
enum cfg_backend_kind { CFG_BACKENDS_PODS = 0, CFG_BACKENDS_NODEPORTS = 1 };
/**
 * A mapping's `affinity`: what the Maglev flow hash of a new session is keyed on, and so which
 * new flows land on one backend (as long as the backend set does not change):
 * - fiveTuple (default): the whole 5-tuple, a client's connections spread over the backends;
 * - clientIP: the client's address alone, every flow of a client (any port, any protocol:
 *   SIP signalling and its RTP streams) on one backend, as Kubernetes' Service
 *   `sessionAffinity: ClientIP` and l7mp's ConsistentHash keyed on `/IP/src_addr`;
 * - clientIPAndPort: the client's address and the destination (external) port, so one
 *   client's flows to one port share a backend and its flows to another port may not.
 * Existing sessions keep their backend whatever it is.
 */
enum cfg_affinity {
	CFG_AFFINITY_FIVE_TUPLE = 0,
	CFG_AFFINITY_CLIENT_IP = 1,
	CFG_AFFINITY_CLIENT_IP_AND_PORT = 2,
};

/** One `ports:` entry of a mapping: external port or range → service port. */
struct cfg_map_port {
	uint16_t port;			      /**< first external port */
	uint16_t end_port;		      /**< last external port (== port when not a range) */
	uint16_t service_port;		      /**< target port; 0 = same as the external port */
	char service_port_name[CFG_NAME_MAX]; /**< when servicePort is a name (Kubernetes) */
	uint8_t proto;			      /**< IPPROTO_TCP or IPPROTO_UDP */
};

struct cfg_backend {
	uint32_t addr;		 /**< host order */
	uint16_t port;		 /**< 0 = the mapping port's servicePort */
	uint16_t weight;	 /**< >= 1, default 1 */
	bool serving_only;	 /**< not ready, or terminating: no new sessions (draining) */
	bool terminating;	 /**< serving_only because it is being deleted (EndpointSlice
				  *  `terminating`, a Pod's deletionTimestamp): for display */
	uint8_t group;		 /**< backend group (< CFG_MAX_GROUPS) a source rule names; 0 */
	char name[CFG_NAME_MAX]; /**< pod name when known, for display */
};

/**
 * A source rule of a mapping (an l7mp VirtualService's `rules[].match`, flattened): a new
 * session whose client address is in @p src and whose source port is in
 * @p sport_lo..@p sport_hi goes to the backends of @p group, or is refused when @p group is
 * -1. A mapping's rules are tried in order, once, at session creation; the first that matches
 * decides; with rules and none matching, the session is refused. No rules: every client
 * reaches group 0 (the whole backend list). Host order.
 */
struct cfg_rule {
	struct cfg_cidr src;	     /**< client prefix; len 0 = any */
	uint16_t sport_lo, sport_hi; /**< client source ports, inclusive; 0-65535 = any */
	int16_t group;		     /**< backend group, < CFG_MAX_GROUPS; -1 = refuse */
};

/**
 * A mapping's flood limits (`limits:`), each 0 = none. Counted by each worker on its own
 * sessions, with no shared write: `sessions` and `newSessionsPerSecond` are split evenly
 * over the workers (each enforces ceil(limit / workers): clients spread over workers by a
 * keyed hash, so a flood from many sources meets the whole limit); `sessionsPerSource` is
 * enforced whole by the one worker that owns every flow of a source (the steering hash is of
 * the client address).
 */
struct cfg_limits {
	uint32_t sessions;	      /**< live sessions of the mapping, 0..CFG_MAX_SESSIONS */
	uint32_t sessions_per_source; /**< live sessions of one client address, 0..65535 */
	uint32_t new_per_second;      /**< new sessions a second, 0..CFG_MAX_SESSIONS */
};

/** The keys of a mapping's `limits:` (struct cfg_limits), as CFG_MAPPING_FIELDS. */
#define CFG_LIMIT_FIELDS(X)                                                                        \
	X("sessions", INT, sessions, 0, CFG_MAX_SESSIONS, NULL, CFG_F_CRD)                         \
	X("sessionsPerSource", INT, sessions_per_source, 0, 65535, NULL, CFG_F_CRD)                \
	X("newSessionsPerSecond", INT, new_per_second, 0, CFG_MAX_SESSIONS, NULL, CFG_F_CRD)

/** A mapping's `maglev:` (struct cfg_maglev), as CFG_MAPPING_FIELDS. */
struct cfg_maglev {
	uint32_t seed; /**< of the flow hash (maglev_flow_hash()); default MAGLEV_SEED_DEFAULT */
	uint32_t table_size; /**< `tableSize`, one of MAGLEV_TABLE_SIZES; 0 = default
			      *  (MAGLEV_TABLE_SIZE_DEFAULT) */
};
#define CFG_MAGLEV_FIELDS(X)                                                                       \
	X("seed", INT, seed, 0, UINT32_MAX, NULL, CFG_F_CRD)                                       \
	X("tableSize", INT, table_size, 251, 65521, NULL, CFG_F_CRD)

/** A mapping: the DESIGN §5 spec, with backends resolved. */
struct cfg_mapping {
	/* The counts, the addresses, the backends and the ports' start first, in two cache
	 * lines: each publication walks every mapping for them (cp/state.c, cp/tables_build.c),
	 * and spread over the struct they were five lines a mapping, which at 10,000 mappings
	 * also evicted what the Maglev builds between the walks use (docs/benchmarks.md). */
	unsigned int n_addrs;
	unsigned int n_ports;
	unsigned int n_backends;
	unsigned int n_rules;
	unsigned int n_groups; /**< backend groups: 1 + the largest cfg_backend.group, 0 = 1 */
	unsigned int n_allowed;
	enum cfg_mapping_mode mode;
	enum cfg_nat_mode nat;
	uint32_t addrs[CFG_MAX_ADDRS]; /**< external addresses, host order */
	struct cfg_backend *backends;  /**< owned; n_backends entries */
	struct cfg_map_port ports[CFG_MAX_MAP_PORTS];
	char name[CFG_NAME_MAX];
	char ns[CFG_NAME_MAX]; /**< Kubernetes namespace; "" for the config file and CLI */
	struct cfg_cidr allowed[CFG_MAX_CIDRS]; /**< allow-list; empty = 0.0.0.0/0 */
	char service_name[CFG_NAME_MAX];
	char statefulset_name[CFG_NAME_MAX];
	uint16_t start_port, target_port, bootstrap_port;
	enum cfg_backend_kind backend_kind;
	struct cfg_timeouts timeouts; /**< 0 = global default */
	struct cfg_limits limits;     /**< 0 = no limit */
	struct cfg_maglev maglev;
	enum cfg_affinity affinity; /**< the Maglev hash's key, default fiveTuple */
	int32_t ordinal;	    /**< StatefulSet ordinal for per-pod ports, -1 = none */
	uint16_t tcp_mss_clamp;	    /**< most TCP MSS in SYNs and SYN-ACKs, bytes; 0 = none */
	unsigned int line;	    /**< line of the definition in its file, 0 if none */
	/** a removed backend's (endpoint deleted) TCP sessions are cleared, default true; its UDP
	 *  sessions always are (docs/kubernetes.md, "Endpoint changes") */
	bool remove_orphan_sessions;
	/** source rules (struct cfg_rule), none = everyone to the whole backend list; set by
	 *  the VirtualService source (cp/k8s_virtualservice.c), no config file key */
	struct cfg_rule rules[CFG_MAX_RULES];
	/** a mid-flow TCP segment (ACK, no SYN or RST) without a session starts an established
	 *  one (Katran's and GLB's pickup): only with nat preserveSource, since then the backend
	 *  (Maglev, the mapping's seed) and the rewrite are the same on every gateway; default
	 *  false (docs/ha.md) */
	bool pickup;
};

/** Flags of a Mapping field (struct cfg_field). */
#define CFG_F_REQUIRED 0x1u /**< the key must be present */
#define CFG_F_CRD      0x2u /**< also a key of the Mapping CRD (else config file and CLI only) */

/** How a Mapping field's value is read and checked (struct cfg_field.type). */
enum cfg_field_type {
	CFG_FT_NAME,  /**< DNS-1123 subdomain < CFG_NAME_MAX bytes: char[CFG_NAME_MAX] */
	CFG_FT_LABEL, /**< DNS-1123 label or "": char[CFG_NAME_MAX] */
	CFG_FT_ADDR,  /**< IPv4 address: uint32_t, host order */
	CFG_FT_ADDRS, /**< list of IPv4 addresses: uint32_t[], host order, + n_<member> */
	CFG_FT_CIDRS, /**< list of IPv4 prefixes: struct cfg_cidr[] + n_<member> */
	CFG_FT_INT,   /**< decimal integer in min..max: any integer member (size) */
	CFG_FT_ENUM,  /**< one of names[]: the index, in an enum member */
	CFG_FT_MODE,  /**< service or perPod (default service); static with a backends list */
	CFG_FT_SERVICE_PORT, /**< IntOrString: a port number, or a port name (service_port_name) */
	CFG_FT_PROTO,	     /**< tcp or udp, any case: uint8_t IPPROTO_* */
	CFG_FT_PORTS,	     /**< list of objects of sub[]: struct cfg_map_port[] + n_<member> */
	CFG_FT_OBJECT,	     /**< object of sub[] (e.g. the CFG_TIMEOUTS CRD keys): a struct */
	CFG_FT_BACKENDS,     /**< names[] (pods, nodePorts) into backend_kind, or a list of objects
			      *  of sub[] (a static mapping): struct cfg_backend * + n_<member> */
	CFG_FT_BOOL,	     /**< true or false: bool; min is the value when the key is absent */
};

/**
 * One key of a Mapping (or of an object inside one): the table that the config file, the CLI's
 * `add mapping`, the Kubernetes CRD decoder, `show` and the CRD schema test all read.
 */
struct cfg_field {
	const char *key; /**< YAML key; JSON key of the CRD when CFG_F_CRD */
	enum cfg_field_type type;
	size_t off;	    /**< of the member in its struct (cfg_mapping, cfg_map_port, ...) */
	size_t size;	    /**< of that member, bytes */
	size_t count_off;   /**< lists: of the `unsigned int` entry count */
	long long min, max; /**< integers: value range; lists: entries */
	const char *const *names; /**< ENUM, MODE, BACKENDS: NULL-terminated names, index = value */
	const struct cfg_field *sub; /**< entries of an object or of a list of objects */
	unsigned int flags;	     /**< CFG_F_* */
};

/**
 * The keys of a Mapping, in the order they are checked (so the first error reported is the
 * first in this list), one line each:
 *
 *   X(key, type, member, min, max, names or sub-table, flags)
 *
 * type is a CFG_FT_ suffix, member one of struct cfg_mapping (lists: with its n_<member>
 * count). Adding a field of an existing type: a member above, a line here, the CRD schema
 * (config/crd/mapping.yaml) when CFG_F_CRD, and its use in tables.[ch] and the data plane.
 * What depends on several fields (the mode's needs) is checked after them, in mapping_schema.c.
 */
#define CFG_MAPPING_FIELDS(X)                                                                      \
	X("name", NAME, name, 0, 0, NULL, CFG_F_REQUIRED)                                          \
	X("namespace", LABEL, ns, 0, 0, NULL, 0)                                                   \
	X("addresses", ADDRS, addrs, 1, CFG_MAX_ADDRS, NULL, CFG_F_REQUIRED | CFG_F_CRD)           \
	X("allowedSources", CIDRS, allowed, 0, CFG_MAX_CIDRS, NULL, CFG_F_CRD)                     \
	X("mode", MODE, mode, 0, 0, cfg_mode_names, CFG_F_CRD)                                     \
	X("serviceName", LABEL, service_name, 0, 0, NULL, CFG_F_CRD)                               \
	X("statefulSetName", NAME, statefulset_name, 0, 0, NULL, CFG_F_CRD)                        \
	X("startPort", INT, start_port, 1, 65535, NULL, CFG_F_CRD)                                 \
	X("targetPort", INT, target_port, 1, 65535, NULL, CFG_F_CRD)                               \
	X("bootstrapPort", INT, bootstrap_port, 1, 65535, NULL, CFG_F_CRD)                         \
	X("ports", PORTS, ports, 0, CFG_MAX_MAP_PORTS, cfg_map_port_fields, CFG_F_CRD)             \
	X("nat", ENUM, nat, 0, 0, cfg_nat_names, CFG_F_CRD)                                        \
	X("timeouts", OBJECT, timeouts, 0, 0, cfg_timeout_fields, CFG_F_CRD)                       \
	X("limits", OBJECT, limits, 0, 0, cfg_limit_fields, CFG_F_CRD)                             \
	X("maglev", OBJECT, maglev, 0, 0, cfg_maglev_fields, CFG_F_CRD)                            \
	X("affinity", ENUM, affinity, 0, 0, cfg_affinity_names, CFG_F_CRD)                         \
	X("ordinal", INT, ordinal, -1, INT32_MAX, NULL, 0)                                         \
	X("tcpMssClamp", INT, tcp_mss_clamp, 536, 65535, NULL, CFG_F_CRD)                          \
	X("backends", BACKENDS, backends, 1, CFG_MAX_BACKENDS, cfg_backend_fields, CFG_F_CRD)      \
	X("removeOrphanSessions", BOOL, remove_orphan_sessions, 1, 1, NULL, CFG_F_CRD)             \
	X("pickup", BOOL, pickup, 0, 0, NULL, CFG_F_CRD)

/** The keys of a `ports:` entry of a Mapping (struct cfg_map_port), as CFG_MAPPING_FIELDS. */
#define CFG_MAP_PORT_FIELDS(X)                                                                     \
	X("port", INT, port, 1, 65535, NULL, CFG_F_REQUIRED | CFG_F_CRD)                           \
	X("endPort", INT, end_port, 1, 65535, NULL, CFG_F_CRD) /* default port, >= port */         \
	X("servicePort", SERVICE_PORT, service_port, 1, 65535, NULL, CFG_F_CRD)                    \
	X("protocol", PROTO, proto, 0, 0, cfg_proto_names, CFG_F_CRD)

/** The keys of an entry of a static Mapping's `backends:` list (struct cfg_backend). */
#define CFG_BACKEND_FIELDS(X)                                                                      \
	X("address", ADDR, addr, 0, 0, NULL, CFG_F_REQUIRED)                                       \
	X("port", INT, port, 1, 65535, NULL, 0)                                                    \
	X("weight", INT, weight, 1, 256, NULL, 0) /* Maglev's table grows with it: 256 bounds it */

/** The fields of CFG_MAPPING_FIELDS, ended by a NULL key. */
extern const struct cfg_field cfg_mapping_fields[];
/** The keys of a `ports:` entry (struct cfg_map_port), ended by a NULL key. */
extern const struct cfg_field cfg_map_port_fields[];
/** The keys of a static `backends:` entry (struct cfg_backend), ended by a NULL key. */
extern const struct cfg_field cfg_backend_fields[];
/** A mapping's `timeouts:` keys (the CRD keys of CFG_TIMEOUTS, 0..CFG_TIMEOUT_MAX). */
extern const struct cfg_field cfg_timeout_fields[];
/** A mapping's `limits:` keys (CFG_LIMIT_FIELDS), ended by a NULL key. */
extern const struct cfg_field cfg_limit_fields[];
/** A mapping's `maglev:` keys (CFG_MAGLEV_FIELDS), ended by a NULL key. */
extern const struct cfg_field cfg_maglev_fields[];

/** `mode` values, index + 1 = enum cfg_mapping_mode (static has no name: a backends list). */
extern const char *const cfg_mode_names[];
/** `nat` values, index = enum cfg_nat_mode. */
extern const char *const cfg_nat_names[];
/** `affinity` values (fiveTuple, clientIP, clientIPAndPort), index = enum cfg_affinity. */
extern const char *const cfg_affinity_names[];
/** The name of an affinity as written in a Mapping: fiveTuple, clientIP, clientIPAndPort; "?"
 *  if unknown. Any thread. */
const char *cfg_affinity_name(enum cfg_affinity a);
/**
 * The value of affinity name @p s (one of cfg_affinity_names, exact case).
 * @return 0 with @p out set, or -EINVAL when @p s names none. Any thread.
 */
int cfg_affinity_parse(const char *s, enum cfg_affinity *out);
/** `backends` values when not a list, index = enum cfg_backend_kind. */
extern const char *const cfg_backend_kind_names[];
/** `protocol` values (any case), index 0 = IPPROTO_TCP, 1 = IPPROTO_UDP. */
extern const char *const cfg_proto_names[];

/** The name of a mapping mode as `show` prints it: static, service, perPod; "?" if unknown. */
const char *cfg_mode_name(enum cfg_mapping_mode mode);

/** The name of a NAT mode as written in a Mapping: fullNat, preserveSource; "?" if unknown. */
const char *cfg_nat_name(enum cfg_nat_mode nat);

/**
 * The field of @p key in @p fields (a NULL-key-ended table, e.g. cfg_mapping_fields).
 * @return the field, or NULL when @p key is not one. Any thread.
 */
const struct cfg_field *cfg_field_find(const struct cfg_field *fields, const char *key);

struct cfg_kubernetes {
	bool enabled;
	char kubeconfig[CFG_PATH_MAX];
	char ns[CFG_NAME_MAX]; /**< namespace filter, "" = all */
	/** `kubernetes.requireAddressPools`: enforce address pools even when none is defined
	 *  (then no Kubernetes object may use any address); default false: with no pool at all,
	 *  Kubernetes objects may use any address (and strait warns once) */
	bool require_pools;
	/** `kubernetes.defaultLoadBalancer`: strait is the cluster's default load balancer, so
	 *  that Services of type LoadBalancer without a spec.loadBalancerClass are its too
	 *  (besides those of class strait.io/gateway); default false */
	bool default_lb;
	/** `kubernetes.limits`: what one Kubernetes object may cost the tables (reason
	 *  `OverBudget`); defaults CFG_K8S_LIMIT_*, bounds CFG_K8S_LIMIT_*_MAX */
	struct cfg_k8s_limits {
		uint32_t ports;	   /**< `portsPerObject`: service-table entries, addresses x
				    *  ports of all its ports entries */
		uint32_t backends; /**< `backendsPerObject`: backend entries, ports entries x
				    *  backends, summed over its mappings */
		uint32_t maglev;   /**< `maglevTablesPerObject`: Maglev tables (one per ports
				    *  entry balanced over several backends, maglev.tableSize x
				    *  2 bytes each) */
		uint32_t total;	   /**< `totalPorts`: service-table entries of every source
				    *  together (the config file's and the CLI's count first) */
	} limits;
};

/* `kubernetes.limits` defaults and upper bounds (the lower bound is 1). */
#define CFG_K8S_LIMIT_PORTS	   65536u
#define CFG_K8S_LIMIT_PORTS_MAX	   (1u << 22) /**< TABLES_MAX_KEYS */
#define CFG_K8S_LIMIT_BACKENDS	   65536u
#define CFG_K8S_LIMIT_BACKENDS_MAX (1u << 24)
#define CFG_K8S_LIMIT_MAGLEV	   64u
#define CFG_K8S_LIMIT_MAGLEV_MAX   4096u /**< 512 MiB of Maglev tables */
#define CFG_K8S_LIMIT_TOTAL	   (1u << 22)
#define CFG_K8S_LIMIT_TOTAL_MAX	   (1u << 22) /**< TABLES_MAX_KEYS */

#define CFG_MAX_POOLS		32 /**< `addressPools` entries (config file and API together) */
#define CFG_MAX_POOL_CIDRS	16 /**< addresses entries (CIDRs or ranges) per pool */
#define CFG_MAX_POOL_NAMESPACES 16 /**< namespaces entries per pool */

/**
 * One `addresses` entry of a pool: an IPv4 CIDR (a bare address is a /32) or, as MetalLB's
 * IPAddressPool accepts, a range `A.B.C.D-E.F.G.H` (both ends included).
 */
struct cfg_pool_range {
	uint32_t first, last; /**< host order, first <= last, first != 0 */
	uint8_t len;	      /**< the prefix length when written as a CIDR; 0 for a range */
};

/**
 * An address pool (`addressPools:` in the config file, or a strait.io AddressPool object, as
 * MetalLB's IPAddressPool): the external addresses that Kubernetes objects of some namespaces
 * may use. The config file's and the CLI's own mappings are not restricted by pools.
 */
struct cfg_pool {
	char name[CFG_NAME_MAX];
	struct cfg_pool_range ranges[CFG_MAX_POOL_CIDRS]; /**< as written, none overlapping */
	unsigned int n_ranges;
	char namespaces[CFG_MAX_POOL_NAMESPACES][CFG_NAME_MAX]; /**< none = every namespace */
	unsigned int n_namespaces;
	bool auto_assign;  /**< addresses may be allocated from it (default true) */
	unsigned int line; /**< line of the entry in its file, 0 if none */
};

/**
 * Parse one pool `addresses` entry @p s: `A.B.C.D/N` (no host bits set), `A.B.C.D` (a /32)
 * or `A.B.C.D-E.F.G.H` (spaces around '-' allowed, as MetalLB does).
 * @param why receives, on -EINVAL, what is wrong, to follow the entry in a message:
 *            "is not an IPv4 CIDR or range (A.B.C.D-E.F.G.H)", "has host bits set: the
 *            network is 10.0.0.0/24", "is a reversed range: 10.0.0.9 comes after 10.0.0.1",
 *            "includes 0.0.0.0, which is never an address".
 * @return 0 or -EINVAL. Any thread.
 */
int cfg_pool_range_parse(const char *s, struct cfg_pool_range *r, char *why, size_t whylen);

/** Pool entry @p r as written back ("10.0.0.0/24", "10.0.0.1-10.0.0.9") into @p buf. */
#define CFG_POOL_RANGE_STR 32
char *cfg_pool_range_str(const struct cfg_pool_range *r, char buf[CFG_POOL_RANGE_STR]);

/** The number of addresses of @p r (1 to 2^32 - 1). */
static inline uint64_t cfg_pool_range_size(const struct cfg_pool_range *r)
{
	return (uint64_t)r->last - r->first + 1;
}

/** Whether pool @p p lists host-order @p addr. Any thread. */
bool cfg_pool_contains(const struct cfg_pool *p, uint32_t addr);

/** Whether pool @p p admits namespace @p ns (no namespaces listed = every one). Any thread. */
bool cfg_pool_admits_ns(const struct cfg_pool *p, const char *ns);

/** The whole config file. */
struct cfg {
	char path[CFG_PATH_MAX];   /**< file it came from, for messages */
	struct cfg_port ext, intl; /**< `ports.ext`, `ports.int` */
	unsigned int workers;	   /**< worker lcores, 1..CFG_MAX_WORKERS, default 1 */
	/** `maglevThreads`, 0..CFG_MAX_MAGLEV_THREADS, default 0: DPDK control threads (on the
	 *  process's cores that are no lcore) that compute, with the control thread, the Maglev
	 *  tables of a publication's changed services (cp/maglev_pool.h); 0 = the control thread
	 *  alone. Read at every build, so a reload changes it */
	unsigned int maglev_threads;
	uint32_t sessions_max;	      /**< split over workers; 1..CFG_MAX_SESSIONS, default 2^20 */
	struct cfg_timeouts timeouts; /**< defaults: CFG_TIMEOUTS */
	/** `sessions.resetOnBackendRemoval`, default true: a TCP session cleared by the control
	 *  plane (backend deleted, mapping deleted, source or port no longer mapped) gets a RST
	 *  sent to its client */
	bool reset_on_backend_removal;
	struct cfg_kubernetes k8s;
	char cli_socket[CFG_PATH_MAX];	   /**< "" = no socket */
	char metrics_listen[CFG_PATH_MAX]; /**< "host:port", "" = no metrics */
	struct cfg_mapping *mappings;	   /**< owned; n_mappings entries */
	unsigned int n_mappings;
	/** `addressPools`, no two overlapping; a reload (SIGHUP) re-reads them */
	struct cfg_pool pools[CFG_MAX_POOLS];
	unsigned int n_pools;
	enum cfg_ha_mode ha_mode; /**< `ha.mode` */
	/** `ha.drainSeconds` (mode bgp): on SIGTERM/SIGINT, seconds of not-ready forwarding after
	 *  the mapping addresses are withdrawn, before strait stops; 0 = stop at once */
	unsigned int ha_drain_s;
	struct cfg_ha_sync ha_sync; /**< `ha.sync` */
};

/** Whether host-order @p addr is one of the full-NAT source addresses of arm @p p
 *  (`ports.int.snat.addresses`; none on ports.ext). Any thread. */
static inline bool cfg_port_is_snat(const struct cfg_port *p, uint32_t addr)
{
	for (unsigned int i = 0; i < p->n_snat; i++)
		if (p->snat[i] == addr)
			return true;
	return false;
}

/**
 * Whether host-order @p addr is served only while the kernel TAP of its arm holds it
 * (docs/ha.md): it then answers ARP, is a destination and, for a SNAT address, is the source
 * of new full-NAT sessions only while keepalived has put it on the TAP.
 * - ha mode vrrp: every mapping address and every address of @p p (an arm) but its first (the
 *   gateway's own, which keepalived and BIRD speak from).
 * - ha mode bgp: an address of @p p listed in `snat.addresses` (so ports.int) that is not its
 *   first, when @p p has a kernel TAP (`kernel.tap`): each gateway's SNAT address is a VRRP
 *   address on the int arm, so that it moves, with the synced sessions, to a survivor
 *   ("Full NAT in BGP mode"). Without an int TAP nothing could hold it: served always, as in
 *   mode none. Mapping addresses are never gated in mode bgp (BIRD announces them).
 * @p is_mapping: @p addr is a mapping's. Any thread.
 */
static inline bool cfg_ha_gated(const struct cfg *c, const struct cfg_port *p, uint32_t addr,
				bool is_mapping)
{
	if (c->ha_mode == CFG_HA_BGP)
		return !is_mapping && p->kernel_tap[0] && p->n_addrs && p->addrs[0].addr != addr &&
		       cfg_port_is_snat(p, addr);
	if (c->ha_mode != CFG_HA_VRRP)
		return false;
	return is_mapping || p->n_addrs == 0 || p->addrs[0].addr != addr;
}

/** Whether host-order @p addr is one the kernel TAP of arm @p p holds now. Any thread. */
static inline bool cfg_port_holds(const struct cfg_port *p, uint32_t addr)
{
	for (unsigned int i = 0; i < p->n_held; i++)
		if (p->held[i] == addr)
			return true;
	return false;
}

/**
 * Load a config file: the whole file is read, then checked against the schema (config.c) and
 * each `mappings:` entry against the Mapping field list (CFG_MAPPING_FIELDS).
 * @param path   file to read.
 * @param out    filled on success (addresses host order, durations seconds); release with
 *               cfg_free(). Zeroed on failure.
 * @param err    buffer of @p errlen bytes for a one-line message naming file, line and key
 *               (`FILE:LINE: KEY.PATH: what`); may be NULL. Truncated to fit.
 * @return 0; -ENOENT/-EACCES (any -errno of fopen()/fread()) when the file cannot be read;
 *         -EINVAL on a syntax error, an unknown or duplicate key, a missing required key or a
 *         bad value; -ENOMEM.
 * Control plane only (not thread-safe against itself on the same @p out).
 */
int cfg_load_file(const char *path, struct cfg *out, char *err, size_t errlen);

/**
 * Load a config from @p len bytes at @p buf (the embedded default, tests); as cfg_load_file(),
 * with @p name (NULL = "<string>") as the file name in messages.
 * @return 0, -EINVAL (see cfg_load_file()) or -ENOMEM. Control plane only.
 */
int cfg_load_string(const char *name, const char *buf, size_t len, struct cfg *out, char *err,
		    size_t errlen);

/**
 * Parse one mapping written as YAML (block or flow style, e.g. the argument of the CLI's
 * `add mapping {name: web, addresses: [...], ...}`, or a CRD spec as JSON), with the same keys
 * (CFG_MAPPING_FIELDS) and checks as an entry of the config file's `mappings:`. Messages name
 * @p name, the line and the key path from the mapping (`cli:1: ports[0].port: ...`).
 * @return 0; -EINVAL with @p err set on a bad mapping; -ENOMEM. On success @p out owns its
 *         backends (cfg_mapping_free()); on failure it is zeroed. Control plane only.
 */
int cfg_mapping_parse(const char *name, const char *buf, size_t len, struct cfg_mapping *out,
		      char *err, size_t errlen);

/** Release what a mapping owns (its backends); the struct itself is the caller's. Idempotent. */
void cfg_mapping_free(struct cfg_mapping *m);

/**
 * Deep copy @p src into @p dst (which owns nothing yet: it is overwritten, not freed).
 * @return 0 or -ENOMEM (then @p dst is untouched). Any thread, with @p src not changing.
 */
int cfg_mapping_copy(struct cfg_mapping *dst, const struct cfg_mapping *src);

/** Release everything a cfg owns (its mappings and their backends). Safe on a zeroed cfg. */
void cfg_free(struct cfg *c);

/**
 * The most nodes a YAML document may expand to, aliases followed: YAML_EXPAND_RATIO times its
 * own nodes, plus YAML_EXPAND_SLACK. Without aliases a document expands to its own nodes.
 */
#define YAML_EXPAND_RATIO 10
#define YAML_EXPAND_SLACK 10000
/**
 * Deepest nesting of a YAML document, aliases followed (an alias may refer to its own
 * ancestor, which nests without end).
 */
#define YAML_DEPTH_MAX 64

struct yaml_document_s; /* libyaml's yaml_document_t */

/**
 * Check a loaded YAML document against an alias bomb ("billion laughs": each alias is a
 * reference, but every reader that follows it walks the whole aliased node again): its nodes,
 * counted once per reference from the root, may not pass YAML_EXPAND_RATIO x its own node count
 * + YAML_EXPAND_SLACK, nor nest deeper than YAML_DEPTH_MAX. The walk stops at the budget, so a
 * bomb is refused in time proportional to the document's size.
 * @param doc  a document from yaml_parser_load(); not changed.
 * @param name file name for messages.
 * @param err  buffer of @p errlen bytes (may be NULL) for `NAME:LINE: ...`; LINE is that of the
 *             outermost aliased node (its anchor) on the path that passed the budget.
 * @return 0, -EINVAL with the message, -ENOMEM. Any thread, @p doc not changing.
 */
int cfg_yaml_check_expansion(const struct yaml_document_s *doc, const char *name, char *err,
			     size_t errlen);

/**
 * Parse "a.b.c.d" into @p addr, host byte order. Strict: four decimal octets 0-255, no
 * leading zeros (inet_aton() would read them as octal), nothing before or after.
 * @return 0, or -EINVAL (then @p addr is untouched). Any thread; no allocation.
 */
int cfg_parse_ipv4(const char *s, uint32_t *addr);

/**
 * Parse "a.b.c.d/len" (len 0-32, no leading zero) or a bare address (as /32) into @p c, host
 * byte order; host bits are kept as written (an address plus its subnet).
 * @return 0, or -EINVAL (then @p c is untouched). Any thread; no allocation.
 */
int cfg_parse_cidr(const char *s, struct cfg_cidr *c);

/** Whether host-order @p addr lies in @p c. Any thread, fast path. */
static inline bool cfg_cidr_contains(const struct cfg_cidr *c, uint32_t addr)
{
	uint32_t mask = c->len == 0 ? 0 : ~0u << (32 - c->len);
	return (addr & mask) == (c->addr & mask);
}

/** Format host-order @p addr as "a.b.c.d" into @p buf (>= 16 bytes). @return buf. Any thread. */
char *cfg_ipv4_str(uint32_t addr, char *buf);

/** The embedded default config (config/strait.yaml), NUL-terminated. */
extern const char strait_default_config[];

#endif
