#!/usr/bin/env python3
"""A fake kube-apiserver for strait's tests (Python stdlib only).

It speaks the wire format recorded from a real kube-apiserver v1.20.2 in
tests/data/k8s-wire/: compact one-line JSON, list bodies with metadata.resourceVersion
(and limit/continue paging), watches as chunked HTTP/1.1 with one JSON event per chunk
(ADDED, MODIFIED, DELETED, BOOKMARK about 2 s before timeoutSeconds and every
--bookmark-interval, and the single `ERROR` event with a 410 Expired Status for a
resourceVersion older than its history), Status bodies for 401/403/404/409/410, status
PATCH (application/merge-patch+json) on the status subresource, merge PATCH of objects,
Lease create/update with resourceVersion preconditions, Event create.

    fake_apiserver.py --listen 127.0.0.1:6443 --ctl 127.0.0.1:6444 --cert C --key K
                      --token T [--state FILE] [--version 1.20] [--preload FILE]...
                      [--bookmark-interval S] [--max-watch-seconds S]
                      [--gateway-routes v1|v1alpha2|none]

HTTPS with the given certificate (tests generate a self-signed one with openssl); bearer
token authentication. --version 1.20 serves EndpointSlices only as discovery.k8s.io/v1beta1,
like the recorded server. --state FILE persists objects and the resourceVersion across a
restart (the watch history does not survive, as in a real apiserver whose watch cache is
gone: a watch from before the restart gets 410 Expired). --preload FILE applies a JSON list
of {"op": "apply"|"delete", ...} or of objects, or a List document's items, after loading the
state (changes made "while strait was not looking"); it may be repeated. Gateway API kinds are served as the v1.6 standard-channel CRDs do; with
--gateway-routes v1alpha2, TCPRoute/UDPRoute only as v1alpha2 (Gateway API before v1.6);
with none, no Gateway API kind (CRDs not installed). --no-l7mp: no l7mp VirtualService
(its CRD not installed).

The test drives it through a plain-HTTP control endpoint (--ctl), see Ctl below, or with
fakectl.py.
"""
import argparse
import base64
import collections
import datetime
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (group, version, plural) -> kind; the storage key is the plural.
RESOURCES = {
    ("", "v1", "services"): ("Service", True),
    ("", "v1", "pods"): ("Pod", True),
    ("", "v1", "nodes"): ("Node", False),
    ("discovery.k8s.io", "v1", "endpointslices"): ("EndpointSlice", True),
    ("discovery.k8s.io", "v1beta1", "endpointslices"): ("EndpointSlice", True),
    ("apps", "v1", "statefulsets"): ("StatefulSet", True),
    ("strait.io", "v1alpha1", "mappings"): ("Mapping", True),
    ("strait.io", "v1alpha1", "addresspools"): ("AddressPool", False),
    ("l7mp.io", "v1", "virtualservices"): ("VirtualService", True),
    ("", "v1", "namespaces"): ("Namespace", False),
    ("gateway.networking.k8s.io", "v1", "gatewayclasses"): ("GatewayClass", False),
    ("gateway.networking.k8s.io", "v1", "gateways"): ("Gateway", True),
    ("gateway.networking.k8s.io", "v1", "tcproutes"): ("TCPRoute", True),
    ("gateway.networking.k8s.io", "v1alpha2", "tcproutes"): ("TCPRoute", True),
    ("gateway.networking.k8s.io", "v1", "udproutes"): ("UDPRoute", True),
    ("gateway.networking.k8s.io", "v1alpha2", "udproutes"): ("UDPRoute", True),
    ("gateway.networking.k8s.io", "v1beta1", "referencegrants"): ("ReferenceGrant", True),
    ("coordination.k8s.io", "v1", "leases"): ("Lease", True),
    ("events.k8s.io", "v1", "events"): ("Event", True),
}
KIND_PLURAL = {v[0]: k[2] for k, v in RESOURCES.items()}
GATEWAY_API = {"gatewayclasses", "gateways", "tcproutes", "udproutes", "referencegrants"}
CRD = {"mappings", "addresspools", "virtualservices"} | GATEWAY_API  # custom resources: list items keep kind/apiVersion, as the real server does
STATUS_SUBRESOURCE = {"mappings", "addresspools", "statefulsets", "pods", "services", "nodes",
                      "virtualservices", "gatewayclasses", "gateways", "tcproutes", "udproutes"}
HISTORY_MAX = 200000

VERSION_120 = {
    "major": "1", "minor": "20", "gitVersion": "v1.20.2",
    "gitCommit": "faecb196815e248d3ecfb03c680a4507229c2a56", "gitTreeState": "archive",
    "buildDate": "2026-11-21T16:22:48Z", "goVersion": "go1.15.15", "compiler": "gc",
    "platform": "linux/amd64",
}


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def clone(v):
    """A copy of a JSON value (dicts, lists, scalars): copy.deepcopy's result for JSON, five
    times faster (no memo), which matters with tens of thousands of objects (k8s_scale_test)."""
    if isinstance(v, dict):
        return {k: clone(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clone(x) for x in v]
    return v


def compact(obj):
    return json.dumps(obj, separators=(",", ":"))


def status_body(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
         "message": message, "reason": reason}
    if details:
        s["details"] = details
    s["code"] = code
    return s


def merge_patch(target, patch):
    """RFC 7386."""
    if not isinstance(patch, dict):
        return clone(patch)
    if not isinstance(target, dict):
        target = {}
    out = dict(target)
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def parse_selector(sel):
    reqs = []
    for part in filter(None, (p.strip() for p in sel.split(","))):
        m = re.match(r"^([^!=]+)(==|=|!=)(.*)$", part)
        if m:
            reqs.append((m.group(1), m.group(2), m.group(3)))
        else:
            reqs.append((part, "exists", None))
    return reqs


def selector_matches(reqs, obj):
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for key, op, val in reqs:
        if op == "exists" and key not in labels:
            return False
        if op in ("=", "==") and labels.get(key) != val:
            return False
        if op == "!=" and labels.get(key) == val:
            return False
    return True


class Store:
    """Objects, the resourceVersion counter and the watch history, under one condition."""

    def __init__(self, state_file):
        self.cond = threading.Condition()
        self.rv = 100
        self.objs = {}  # (plural, ns, name) -> obj
        self.history = []  # (rv, plural, type, obj, old)
        self.state_file = state_file
        if state_file and os.path.exists(state_file):
            with open(state_file) as f:
                st = json.load(f)
            self.rv = st["rv"]
            for e in st["objects"]:
                self.objs[(e["resource"], e["ns"], e["name"])] = e["object"]
        # Nothing older than this is in the history: a watch from before it gets 410.
        self.oldest = self.rv

    def save(self):
        if not self.state_file:
            return
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"rv": self.rv, "objects": [
                {"resource": k[0], "ns": k[1], "name": k[2], "object": v}
                for k, v in self.objs.items()]}, f)
        os.replace(tmp, self.state_file)

    def _record(self, plural, typ, obj, old):
        # No copies: the store never changes an object in place (a change puts a new one).
        self.history.append((self.rv, plural, typ, obj, old))
        if len(self.history) > HISTORY_MAX:
            drop = len(self.history) - HISTORY_MAX
            self.oldest = self.history[drop - 1][0]
            del self.history[:drop]
        self.save()
        self.cond.notify_all()

    def put(self, plural, obj, create_only=False, precondition=None, subresource=None):
        """Create or replace; returns (code, obj or Status)."""
        md = obj.setdefault("metadata", {})
        ns = md.get("namespace", "")
        name = md.get("name", "")
        kind = obj.get("kind", "")
        if not name:
            return 422, status_body(422, "Invalid", "metadata.name: Required value")
        with self.cond:
            key = (plural, ns, name)
            old = self.objs.get(key)
            if old is not None and create_only:
                return 409, status_body(409, "AlreadyExists",
                                        '%s "%s" already exists' % (plural, name),
                                        {"name": name, "kind": plural})
            cur_rv = (old or {}).get("metadata", {}).get("resourceVersion")
            if precondition is not None and cur_rv != precondition:
                return 409, status_body(
                    409, "Conflict",
                    'Operation cannot be fulfilled on %s "%s": the object has been modified; '
                    "please apply your changes to the latest version and try again"
                    % (plural, name), {"name": name, "kind": plural})
            self.rv += 1
            new = clone(obj)
            nmd = new["metadata"]
            if old is None:
                nmd.setdefault("uid", str(uuid.uuid4()))
                nmd.setdefault("creationTimestamp", now_rfc3339())
                nmd["generation"] = 1
            else:
                omd = old["metadata"]
                nmd["uid"] = omd.get("uid")
                nmd["creationTimestamp"] = omd.get("creationTimestamp")
                gen = omd.get("generation", 1)
                if old.get("spec") != new.get("spec"):
                    gen += 1
                nmd["generation"] = gen
            nmd["resourceVersion"] = str(self.rv)
            if kind:
                new["kind"] = kind
            self.objs[key] = new
            self._record(plural, "ADDED" if old is None else "MODIFIED", new, old)
            return (201 if old is None else 200), new

    def delete(self, plural, ns, name):
        with self.cond:
            old = self.objs.pop((plural, ns, name), None)
            if old is None:
                return 404, status_body(404, "NotFound", '%s "%s" not found' % (plural, name),
                                        {"name": name, "kind": plural})
            self.rv += 1
            gone = clone(old)
            gone["metadata"]["resourceVersion"] = str(self.rv)
            self._record(plural, "DELETED", gone, old)
            return 200, gone

    def compact(self):
        with self.cond:
            self.history = []
            self.oldest = self.rv


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []  # {"method", "path_re", "code", "count"}

    def add(self, rule):
        with self.lock:
            rule.setdefault("method", "*")
            rule.setdefault("count", -1)
            self.rules.append(rule)

    def clear(self):
        with self.lock:
            self.rules = []

    def match(self, method, path):
        with self.lock:
            for r in self.rules:
                if r["count"] == 0:
                    continue
                if r["method"] not in ("*", method) or not re.search(r["path_re"], path):
                    continue
                if r["count"] > 0:
                    r["count"] -= 1
                return r["code"]
        return None


class Server:
    def __init__(self, args):
        self.args = args
        self.store = Store(args.state)
        self.faults = Faults()
        self.token = args.token
        self.requests = []  # writes and errors, for the test
        self.req_lock = threading.Lock()
        self.watches = set()
        self.watch_lock = threading.Lock()
        self.pending = 0  # paced applies still to run
        self.bookmark_interval = args.bookmark_interval
        self.max_watch_seconds = args.max_watch_seconds
        self.version = args.version

    def served(self, group, version, plural):
        if (group, version, plural) not in RESOURCES:
            return False
        if self.version == "1.20" and group == "discovery.k8s.io" and version == "v1":
            return False
        if self.args.gateway_routes == "none" and plural in GATEWAY_API:
            return False  # the Gateway API CRDs are not installed
        if self.args.no_l7mp and group == "l7mp.io":
            return False
        # TCPRoute/UDPRoute v1 came with Gateway API v1.6.0: most clusters serve v1alpha2 only.
        if (self.args.gateway_routes == "v1alpha2" and group == "gateway.networking.k8s.io" and
                version == "v1" and plural in ("tcproutes", "udproutes")):
            return False
        return True

    def log_request(self, method, path, code, body):
        with self.req_lock:
            self.requests.append({"time": time.time(), "method": method, "path": path,
                                  "code": code, "body": body})

    def apply_op(self, op):
        """A control operation: {"op": "apply", "object": {...}} or {"op": "delete", ...}."""
        if op.get("op", "apply") == "apply":
            obj = op["object"] if "object" in op else op
            plural = KIND_PLURAL[obj["kind"]]
            md = obj.setdefault("metadata", {})
            if RESOURCES_NAMESPACED.get(plural, True):
                md.setdefault("namespace", "default")
            with self.store.cond:
                old = self.store.objs.get((plural, md.get("namespace", ""), md["name"]))
                if old is not None and "status" not in obj and "status" in old:
                    obj = dict(obj, status=old["status"])  # an apply does not touch status
            return self.store.put(plural, obj)  # put() stores a copy
        plural = KIND_PLURAL[op["kind"]]
        ns = op.get("namespace", "default") if RESOURCES_NAMESPACED.get(plural, True) else ""
        return self.store.delete(plural, ns, op["name"])


    def preload(self, ops):
        """--preload: apply_op() each, but an object that does not exist yet is stored as it
        is (freshly parsed: no copy) with no watch history (dropped after a preload anyway),
        so that tens of thousands of objects (k8s_scale_test.sh) load in seconds."""
        st, ts = self.store, now_rfc3339()
        for op in ops:
            if op.get("op", "apply") != "apply":
                self.apply_op(op)
                continue
            obj = op["object"] if "object" in op else op
            plural = KIND_PLURAL[obj["kind"]]
            md = obj.setdefault("metadata", {})
            if RESOURCES_NAMESPACED.get(plural, True):
                md.setdefault("namespace", "default")
            key = (plural, md.get("namespace", ""), md.get("name", ""))
            if not md.get("name") or key in st.objs:
                self.apply_op(op)
                continue
            st.rv += 1
            md.setdefault("uid", str(uuid.uuid4()))
            md.setdefault("creationTimestamp", ts)
            md["generation"] = 1
            md["resourceVersion"] = str(st.rv)
            st.objs[key] = obj
        st.save()


RESOURCES_NAMESPACED = {k[2]: v[1] for k, v in RESOURCES.items()}


def route(path):
    """/api/v1/[namespaces/NS/]PLURAL[/NAME[/SUB]] or /apis/G/V/...: a dict or None."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    ns = ""
    if len(rest) >= 3 and rest[0] == "namespaces":
        ns, rest = rest[1], rest[2:]
    if not rest:
        return None
    r = {"group": group, "version": version, "ns": ns, "plural": rest[0],
         "name": rest[1] if len(rest) > 1 else None, "sub": rest[2] if len(rest) > 2 else None}
    return r if len(rest) <= 3 else None


def make_handler(srv):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "fake-kube-apiserver"

        def log_message(self, fmt, *a):
            sys.stderr.write("api: %s %s\n" % (self.address_string(), fmt % a))

        def send_json(self, code, obj, req_body=None):
            body = compact(obj).encode()
            self.send_response(code)
            self.send_header("Cache-Control", "no-cache, private")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            # Everything but a successful read of one object: lists, writes, failures.
            r = route(urllib.parse.urlsplit(self.path).path)
            if not (self.command == "GET" and code < 400 and r and r["name"]):
                srv.log_request(self.command, self.path, code,
                                req_body if code < 400 else obj)

        def read_body(self):
            n = int(self.headers.get("Content-Length") or 0)
            data = self.rfile.read(n) if n else b""
            return json.loads(data) if data else None

        def authorized(self):
            if self.headers.get("Authorization") in ["Bearer " + t for t in
                                                     srv.token.split(",")]:
                return True
            self.send_json(401, status_body(401, "Unauthorized", "Unauthorized"))
            return False

        def handle_any(self):
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
            if not self.authorized():
                return
            code = srv.faults.match(self.command, self.path)
            if code:
                r = route(u.path) or {}
                reason = {401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
                          500: "InternalError", 503: "ServiceUnavailable"}.get(code, "Unknown")
                self.send_json(code, status_body(
                    code, reason, "%s is %s: injected by the test" %
                    (r.get("plural", "resource"), reason.lower()),
                    {"kind": r.get("plural", "")}))
                return
            if u.path == "/version":
                self.send_json(200, VERSION_120 if srv.version == "1.20" else
                               dict(VERSION_120, minor=srv.version.split(".")[1],
                                    gitVersion="v%s.0" % srv.version))
                return
            r = route(u.path)
            if r is None or not srv.served(r["group"], r["version"], r["plural"]):
                self.send_json(404, status_body(404, "NotFound",
                                                "the server could not find the requested resource",
                                                {}))
                return
            kind, namespaced = RESOURCES[(r["group"], r["version"], r["plural"])]
            api_version = (r["group"] + "/" if r["group"] else "") + r["version"]
            if self.command == "GET" and r["name"] is None:
                if q.get("watch") in ("1", "true"):
                    self.watch(r, q, kind, api_version)
                else:
                    self.list(r, q, kind, api_version)
                return
            if self.command == "GET":
                with srv.store.cond:
                    obj = srv.store.objs.get((r["plural"], r["ns"], r["name"]))
                    obj = clone(obj)
                if obj is None:
                    self.not_found(r)
                else:
                    obj["apiVersion"] = api_version
                    self.send_json(200, obj)
                return
            body = self.read_body()
            if self.command == "POST" and r["name"] is None:
                body.setdefault("metadata", {})["namespace"] = r["ns"] if namespaced else ""
                if not namespaced:
                    body["metadata"].pop("namespace")
                code, obj = srv.store.put(r["plural"], body, create_only=True)
                self.send_json(code, self.versioned(obj, api_version), body)
                return
            if self.command == "PUT" and r["name"]:
                md = body.setdefault("metadata", {})
                md["name"] = r["name"]
                if namespaced:
                    md["namespace"] = r["ns"]
                pre = md.get("resourceVersion")
                with srv.store.cond:
                    exists = (r["plural"], r["ns"], r["name"]) in srv.store.objs
                if not exists:
                    self.not_found(r)
                    return
                code, obj = srv.store.put(r["plural"], body, precondition=pre)
                self.send_json(code, self.versioned(obj, api_version), body)
                return
            if self.command == "PATCH" and r["name"]:
                ctype = self.headers.get("Content-Type", "")
                if ctype != "application/merge-patch+json":
                    self.send_json(415, status_body(415, "UnsupportedMediaType",
                                                    "the body of the request was in an unknown "
                                                    "format - accepted media types include: "
                                                    "application/merge-patch+json", {}))
                    return
                self.patch(r, body, api_version)
                return
            if self.command == "DELETE" and r["name"]:
                code, obj = srv.store.delete(r["plural"], r["ns"], r["name"])
                self.send_json(code, obj)
                return
            self.send_json(405, status_body(405, "MethodNotAllowed",
                                            "the server does not allow this method", {}))

        def versioned(self, obj, api_version):
            if obj.get("kind") != "Status":
                obj = dict(obj, apiVersion=api_version)
            return obj

        def not_found(self, r):
            gr = r["plural"] + ("." + r["group"] if r["group"] else "")
            self.send_json(404, status_body(404, "NotFound",
                                            '%s "%s" not found' % (gr, r["name"]),
                                            {"name": r["name"], "group": r["group"],
                                             "kind": r["plural"]} if r["group"] else
                                            {"name": r["name"], "kind": r["plural"]}))

        def patch(self, r, body, api_version):
            key = (r["plural"], r["ns"], r["name"])
            with srv.store.cond:
                cur = clone(srv.store.objs.get(key))
            if cur is None:
                self.not_found(r)
                return
            if r["sub"] not in (None, "status") or (r["sub"] == "status" and
                                                   r["plural"] not in STATUS_SUBRESOURCE):
                self.send_json(404, status_body(404, "NotFound",
                                                "the server could not find the requested "
                                                "resource", {}))
                return
            pre = ((body or {}).get("metadata") or {}).get("resourceVersion")
            if r["sub"] == "status":
                # The status subresource takes .status from the patch and nothing else.
                new = dict(cur, status=merge_patch(cur.get("status"), body.get("status", {})))
            else:
                new = merge_patch(cur, body)
                new["status"] = cur.get("status")
                if new["status"] is None:
                    new.pop("status")
            new["metadata"]["resourceVersion"] = cur["metadata"]["resourceVersion"]
            code, obj = srv.store.put(r["plural"], new, precondition=pre if pre else
                                      cur["metadata"]["resourceVersion"])
            self.send_json(code, self.versioned(obj, api_version), body)

        def list(self, r, q, kind, api_version):
            sel = parse_selector(urllib.parse.unquote(q.get("labelSelector", "")))
            limit = int(q.get("limit") or 0)
            start = 0
            with srv.store.cond:
                rv = srv.store.rv
                if q.get("continue"):
                    tok = json.loads(base64.b64decode(q["continue"]))
                    if tok["rv"] < srv.store.oldest:
                        self.send_json(410, status_body(
                            410, "Expired", "The provided continue parameter is too old to "
                            "display a consistent list result. You can start a new list "
                            "without the continue parameter.", {}))
                        return
                    rv, start = tok["rv"], tok["start"]
                items = [obj for (plural, ns, name), obj in sorted(srv.store.objs.items())
                         if plural == r["plural"] and (not r["ns"] or ns == r["ns"])
                         and selector_matches(sel, obj)]
                md = {"resourceVersion": str(rv)}
                page = items[start:]
                if limit and len(page) > limit:
                    page = page[:limit]
                    md["continue"] = base64.b64encode(
                        compact({"rv": rv, "start": start + limit}).encode()).decode()
                elif r["plural"] in CRD:
                    md["continue"] = ""
                # Only the page's objects are copied: a list of thousands comes in pages.
                page = [clone(obj) for obj in page]
            for it in page:
                if r["plural"] in CRD:
                    it["apiVersion"] = api_version
                else:
                    it.pop("kind", None)
                    it.pop("apiVersion", None)
            out = {"kind": kind + "List", "apiVersion": api_version, "metadata": md,
                   "items": page}
            if r["plural"] in CRD:
                out = {"apiVersion": api_version, "items": page, "kind": kind + "List",
                       "metadata": md}
            self.send_json(200, out)

        def chunk(self, data):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        def event(self, typ, obj):
            self.chunk(compact({"type": typ, "object": obj}).encode() + b"\n")

        def watch(self, r, q, kind, api_version):
            sel = parse_selector(urllib.parse.unquote(q.get("labelSelector", "")))
            rv_s = q.get("resourceVersion", "")
            timeout = min(int(q.get("timeoutSeconds") or 1800), srv.max_watch_seconds)
            bookmarks = q.get("allowWatchBookmarks") == "true"
            self.send_response(200)
            self.send_header("Cache-Control", "no-cache, private")
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            st = srv.store

            def wire(obj):
                o = clone(obj)
                o["kind"] = kind
                o["apiVersion"] = api_version
                return o

            def mine(plural, obj):
                return plural == r["plural"] and (not r["ns"] or
                                                  obj["metadata"].get("namespace") == r["ns"])

            srv.log_request("GET", self.path, 200, None)
            with srv.watch_lock:
                srv.watches.add(self.connection)
            try:
                with st.cond:
                    if rv_s not in ("", "0") and int(rv_s) < st.oldest:
                        # As the real server: 200, then one ERROR event with a 410 Status.
                        self.event("ERROR", status_body(
                            410, "Expired",
                            "too old resource version: %s (%d)" % (rv_s, st.oldest)))
                        self.chunk(b"")
                        return
                    if rv_s in ("", "0"):
                        cursor = st.rv
                        for (plural, ns, name), obj in sorted(st.objs.items()):
                            if mine(plural, obj) and selector_matches(sel, obj):
                                self.event("ADDED", wire(obj))
                    else:
                        cursor = int(rv_s)
                deadline = time.time() + timeout
                next_bm = time.time() + srv.bookmark_interval
                bm_end_sent = False
                while True:
                    now = time.time()
                    if now >= deadline:
                        break
                    out = []
                    with st.cond:
                        # The history is ordered by rv: find the first event after cursor.
                        lo, hi = 0, len(st.history)
                        while lo < hi:
                            mid = (lo + hi) // 2
                            if st.history[mid][0] <= cursor:
                                lo = mid + 1
                            else:
                                hi = mid
                        if lo == len(st.history):
                            wait = min(deadline, next_bm,
                                       deadline - 2 if bookmarks and not bm_end_sent
                                       else deadline) - now
                            st.cond.wait(max(0.01, min(wait, 1.0)))
                        else:
                            out = st.history[lo:]
                            cursor = out[-1][0]
                    for ev_rv, plural, typ, obj, old in out:
                        if not mine(plural, obj):
                            continue
                        now_in = selector_matches(sel, obj) if typ != "DELETED" else False
                        was_in = old is not None and selector_matches(sel, old)
                        if typ == "DELETED":
                            if was_in:
                                self.event("DELETED", wire(obj))
                        elif now_in and was_in:
                            self.event("MODIFIED", wire(obj))
                        elif now_in:
                            self.event("ADDED", wire(obj))
                        elif was_in:
                            self.event("DELETED", wire(obj))
                    now = time.time()
                    end_bm = bookmarks and not bm_end_sent and now >= deadline - 2
                    if bookmarks and (now >= next_bm or end_bm):
                        self.event("BOOKMARK", {"kind": kind, "apiVersion": api_version,
                                                "metadata": {"resourceVersion": str(cursor),
                                                             "creationTimestamp": None}})
                        next_bm = now + srv.bookmark_interval
                        bm_end_sent = bm_end_sent or end_bm
                self.chunk(b"")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                self.close_connection = True
            finally:
                with srv.watch_lock:
                    srv.watches.discard(self.connection)

        def do_GET(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

        def do_PUT(self):
            self.handle_any()

        def do_PATCH(self):
            self.handle_any()

        def do_DELETE(self):
            self.handle_any()

    return Handler


def make_ctl_handler(srv):
    class Ctl(BaseHTTPRequestHandler):
        """The test's side door (plain HTTP, no auth):

        POST /ctl/apply[?interval_ms=N]  object, or list of objects/ops (paced when N > 0)
        POST /ctl/delete                 {"kind", "namespace", "name"} or a list
        GET  /ctl/get?resource=P&namespace=NS&name=N
        GET  /ctl/list?resource=P        items
        GET  /ctl/requests               lists, watches, writes and failures seen by the API
        POST /ctl/compact                forget the watch history (next old watch: 410)
        POST /ctl/token                  {"token": "T[,T2...]"}: the accepted bearer tokens
        POST /ctl/fail                   {"method", "path_re", "code", "count"}
        POST /ctl/fail-clear
        POST /ctl/close-watches          drop every open watch connection (no chunk end)
        GET  /ctl/state                  {"rv", "pending", "watches"}
        """
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            sys.stderr.write("ctl: %s\n" % (fmt % a))

        def reply(self, code, obj):
            body = compact(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(n)) if n else None

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            st = srv.store
            if u.path == "/ctl/get":
                with st.cond:
                    obj = st.objs.get((q["resource"], q.get("namespace", ""), q["name"]))
                self.reply(200 if obj else 404, obj or {})
            elif u.path == "/ctl/list":
                with st.cond:
                    items = [o for (p, _, _), o in sorted(st.objs.items())
                             if p == q["resource"]]
                self.reply(200, items)
            elif u.path == "/ctl/requests":
                with srv.req_lock:
                    self.reply(200, srv.requests)
            elif u.path == "/ctl/state":
                with srv.watch_lock:
                    n = len(srv.watches)
                self.reply(200, {"rv": st.rv, "pending": srv.pending, "watches": n})
            else:
                self.reply(404, {"error": "no such control endpoint"})

        def do_POST(self):
            u = urllib.parse.urlsplit(self.path)
            q = dict(urllib.parse.parse_qsl(u.query))
            try:
                b = self.body()
                if u.path in ("/ctl/apply", "/ctl/delete"):
                    ops = b if isinstance(b, list) else [b]
                    if u.path == "/ctl/delete":
                        ops = [dict(o, op="delete") for o in ops]
                    interval = int(q.get("interval_ms") or 0)
                    if interval:
                        srv.pending += len(ops)
                        threading.Thread(target=self.paced, args=(ops, interval),
                                         daemon=True).start()
                        self.reply(202, {"queued": len(ops)})
                        return
                    results = [srv.apply_op(o) for o in ops]
                    self.reply(200, [{"code": c, "object": o} for c, o in results])
                elif u.path == "/ctl/compact":
                    srv.store.compact()
                    self.reply(200, {"oldest": srv.store.oldest})
                elif u.path == "/ctl/token":
                    srv.token = b["token"]
                    self.reply(200, {})
                elif u.path == "/ctl/fail":
                    srv.faults.add(b)
                    self.reply(200, {})
                elif u.path == "/ctl/fail-clear":
                    srv.faults.clear()
                    self.reply(200, {})
                elif u.path == "/ctl/close-watches":
                    with srv.watch_lock:
                        conns = list(srv.watches)
                    for c in conns:
                        try:
                            c.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass
                    self.reply(200, {"closed": len(conns)})
                else:
                    self.reply(404, {"error": "no such control endpoint"})
            except Exception as e:  # the test wants to see what went wrong
                traceback.print_exc()
                self.reply(400, {"error": repr(e)})

        @staticmethod
        def paced(ops, interval):
            for o in ops:
                try:
                    srv.apply_op(o)
                finally:
                    srv.pending -= 1
                time.sleep(interval / 1000.0)

    return Ctl


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:6443")
    ap.add_argument("--ctl", default="127.0.0.1:6444")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--state")
    ap.add_argument("--version", default="1.20")
    ap.add_argument("--preload", action="append", default=[],
                    help="a JSON list of ops or objects, or a List document (its items); "
                    "may be repeated, applied in order")
    ap.add_argument("--no-l7mp", action="store_true",
                    help="do not serve l7mp.io VirtualServices (CRD not installed)")
    ap.add_argument("--gateway-routes", choices=["v1", "v1alpha2", "none"], default="v1",
                    help="the versions of TCPRoute/UDPRoute served: v1 (and v1alpha2), "
                    "v1alpha2 only (Gateway API before v1.6), or none: no Gateway API kind "
                    "at all (CRDs not installed)")
    ap.add_argument("--bookmark-interval", type=float, default=60.0)
    # A real apiserver ends a watch at the client's timeoutSeconds; tests want that sooner,
    # to see watches resumed from a BOOKMARK's resourceVersion without waiting minutes.
    ap.add_argument("--max-watch-seconds", type=int, default=1800)
    args = ap.parse_args()

    srv = Server(args)
    for path in args.preload:
        with open(path) as f:
            ops = json.load(f)
        srv.preload(ops["items"] if isinstance(ops, dict) and ops.get("kind") == "List"
                    else ops)
    if args.preload:
        # As after a real restart, the watch cache starts at the current resourceVersion.
        srv.store.compact()

    host, port = args.listen.rsplit(":", 1)
    api = ThreadingHTTPServer((host, int(port)), make_handler(srv))
    api.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    # The handshake happens in the request's thread, not in accept().
    api.socket = ctx.wrap_socket(api.socket, server_side=True, do_handshake_on_connect=False)

    chost, cport = args.ctl.rsplit(":", 1)
    ctl = ThreadingHTTPServer((chost, int(cport)), make_ctl_handler(srv))
    ctl.daemon_threads = True
    threading.Thread(target=ctl.serve_forever, daemon=True).start()
    sys.stderr.write("fake-apiserver: https://%s ctl http://%s rv %d\n" %
                     (args.listen, args.ctl, srv.store.rv))
    sys.stderr.flush()
    api.serve_forever()


if __name__ == "__main__":
    main()
