/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateway API (gateway.networking.k8s.io): strait as the controller of the GatewayClasses whose
 * spec.controllerName is K8S_GW_CONTROLLER. Three source rows (cp/k8s_source.h):
 *
 * - Gateway (k8s_gateway.c): one mapping per TCP/UDP listener that a route serves, on the
 *   Gateway's addresses (spec.addresses, checked against the address pools, or one allocated
 *   from a pool, or the ext port's first address when no pool exists), balanced over the
 *   route's backendRefs by weight (Maglev weights), a missing backend's share rejected;
 * - GatewayClass, TCPRoute, UDPRoute (k8s_gateway.c, k8s_route.c): no mapping, status only.
 *
 * Attachment (this file's functions, k8s_gateway_attach.c) is a pure function of the caches,
 * computed the same way by the Gateway's build and by each route's status writer, so that no
 * state passes between the rows: a route's parentRef names a Gateway of ours, and a listener
 * by sectionName and/or port (neither: every listener); the listener must admit the route
 * (allowedRoutes.kinds, default the kind of its protocol; allowedRoutes.namespaces.from Same
 * (default), All, or Selector over the Namespace's labels). Of the routes a listener admits,
 * the oldest (creationTimestamp, then namespace/name) is served: one L4 listener has one
 * backend set. Cost: O(routes x parentRefs) per listener, O(routes^2) per pass.
 *
 * Control thread, no I/O, no logs.
 */
#ifndef STRAIT_K8S_GATEWAY_H
#define STRAIT_K8S_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include <strait/k8s_cache.h>
#include <strait/k8s_kinds.h>

#define K8S_GW_CONTROLLER "strait.io/gateway-controller"
#define K8S_GW_GROUP	  "gateway.networking.k8s.io"
/** Reason of a valid result of a Gateway or route that is not ours: nothing is reported. The
 * source rows' decode() cannot see the store, so their build() decides. */
#define K8S_GW_NOT_OURS "NotOurs"
/** Listeners per Gateway (the CRD's maxItems). */
#define K8S_GW_LISTENERS_MAX 64

/** Why a listener is not served (K8S_GW_LS_OK: served). */
enum k8s_gw_listener_state {
	K8S_GW_LS_OK = 0,
	K8S_GW_LS_UNSUPPORTED_PROTOCOL, /**< not TCP or UDP: Accepted=False UnsupportedProtocol */
	K8S_GW_LS_CONFLICTED,		/**< an earlier listener has its port and protocol */
};

/** Whether GatewayClass @p name exists and names our controller. */
bool k8s_gw_class_ours(const struct k8s_store *s, const char *name);

/** Gateway @p ns/@p name when it exists and its class is ours, else NULL. Borrowed. */
const json_t *k8s_gw_ours(const struct k8s_store *s, const char *ns, const char *name);

/** The IPPROTO_ of a listener's protocol (TCP, UDP), or 0 for any other. */
uint8_t k8s_gw_listener_proto(const json_t *listener);

/** The state of listener @p li of Gateway @p gw. */
enum k8s_gw_listener_state k8s_gw_listener_state(const json_t *gw, size_t li);

/**
 * The route kinds listener @p l supports, as a listener status's supportedKinds, and whether
 * every kind its allowedRoutes.kinds names is one (else ResolvedRefs=False InvalidRouteKinds).
 * @return a new array [{group, kind}] or NULL (ENOMEM).
 */
json_t *k8s_gw_supported_kinds(const json_t *l, bool *all_valid);

/** What one parentRef of a route comes to. */
struct k8s_gw_parent {
	const json_t *gw;   /**< our Gateway it names, or NULL: not ours, no status entry */
	uint64_t listeners; /**< bit li: the route is the one listener li serves */
	bool accepted;
	const char *reason; /**< of Accepted: Accepted, NoMatchingParent, NotAllowedByListeners,
			     *   ListenerInUse */
	char message[256];
};

/** Evaluate parentRef @p ref of route @p route (kind @p rkind: TCPROUTE or UDPROUTE). */
void k8s_gw_route_parent(const struct k8s_store *s, enum k8s_kind rkind, const json_t *route,
			 const json_t *ref, struct k8s_gw_parent *out);

/**
 * The route listener @p li of @p gw serves (the oldest that attaches to it), or NULL.
 * @param rkind receives its kind.
 */
const json_t *k8s_gw_listener_route(const struct k8s_store *s, const json_t *gw, size_t li,
				    enum k8s_kind *rkind);

/**
 * Whether a backendRef of route @p route (kind @p rkind) to Service @p to_ns/@p to_name is
 * permitted: same namespace, or a ReferenceGrant in @p to_ns from the route's kind and
 * namespace to Services (all, or this name).
 */
bool k8s_gw_ref_permitted(const struct k8s_store *s, enum k8s_kind rkind, const json_t *route,
			  const char *to_ns, const char *to_name);

/**
 * The ResolvedRefs condition of route @p route: reason ResolvedRefs (@return true) or the
 * first fault, BackendNotFound, RefNotPermitted or InvalidKind, with a message.
 */
bool k8s_gw_route_refs(const struct k8s_store *s, enum k8s_kind rkind, const json_t *route,
		       const char **reason, char *msg, size_t len);

/** Age order of two objects: creationTimestamp (absent = youngest), then namespace/name. */
int k8s_gw_older(const json_t *a, const json_t *b);

/* ---- Status (k8s_gateway_status.c) ---- */

struct k8s_report;

/**
 * A metav1.Condition: lastTransitionTime kept from @p cur_conds when the status is unchanged.
 * @return a new object or NULL (ENOMEM).
 */
json_t *k8s_gw_cond(const char *type, bool status, const char *reason, const char *message,
		    int64_t generation, const json_t *cur_conds, int64_t now_us);

/**
 * Write @p want (stolen) as the .status of object @p ns/@p name of @p kind through @p rep
 * (offline: a log line when it changes), unless the cached object already says it.
 */
void k8s_gw_status_write(const struct k8s_report *rep, enum k8s_kind kind, const char *ns,
			 const char *name, json_t *entry, json_t *want, const char *key);

struct k8s_result;

/**
 * The desired .status of Gateway result @p r: conditions Accepted and Programmed, addresses,
 * and per listener supportedKinds, attachedRoutes and conditions Accepted, Conflicted,
 * ResolvedRefs, Programmed. @p cur: the current status (transition times), or NULL.
 * @return a new object, or NULL (ENOMEM).
 */
json_t *k8s_gateway_status(const struct k8s_report *rep, const struct k8s_result *r,
			   const json_t *cur, bool programmed);

/**
 * The desired .status of TCPRoute/UDPRoute result @p r: parents[] (other controllers' entries
 * of @p cur kept) with conditions Accepted and ResolvedRefs per parentRef of ours; for a route
 * with no parent of ours, @p cur's parents without strait's entries.
 * @return a new object, or NULL (ENOMEM; or not ours and @p cur has no entry of strait's).
 */
json_t *k8s_route_status(const struct k8s_report *rep, const struct k8s_result *r,
			 const json_t *cur);

/** The status the book says was last sent for @p entry, else the cached object's. Borrowed. */
const json_t *k8s_gw_status_cur(const struct k8s_report *rep, enum k8s_kind kind, const char *ns,
				const char *name, json_t *entry);

#endif
