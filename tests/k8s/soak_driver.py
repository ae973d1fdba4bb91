#!/usr/bin/env python3
"""The load generators of scripts/soak.sh (Python stdlib only).

    soak_driver.py setup CTL_URL --ext ADDR --stay-pod ADDR --churn-pods A,B,C
        Create the soak's objects in namespace demo through the fake API server's control
        endpoint (tests/k8s/fake_apiserver.py --ctl): Service, EndpointSlice and Mapping
        "stay" (:7778/udp -> endpoint :9, :9000/tcp -> endpoint :9000, one endpoint that
        never changes) and "churn" (:7777/udp -> :7, :8080/tcp -> :80 over the churn pods).

    soak_driver.py churn CTL_URL --ext ADDR --stay-pod ADDR --churn-pods A,B,C
                   --seconds S --rate R --names-per-s K [--keep N] [--stats FILE]
                   [--compact-every S]
        R updates per second in all, each one object applied or deleted through the control
        endpoint (one HTTP request on a kept-alive connection, paced on the clock):
        - K fresh Mapping names per second (demo/soak-TAG-I, one TCP port each, on Service
          churn): created, and deleted again once N newer ones exist (so 2 updates a name);
        - the rest in turn: the churn EndpointSlice (backends removed and added), the churn
          Mapping's spec (udp timeout, allowedSources), the stay EndpointSlice (a label only:
          its endpoint stays) and the stay Mapping's spec (udp timeout only).
        Every S seconds (default 30, 0 = never) the server's watch history is forgotten and
        every watch connection dropped: watches resuming from before that get 410 Expired
        and strait lists again.
        FILE gets a JSON summary every second and at the end: updates applied and failed,
        names created and deleted, the last churn backends and the fresh names still alive
        (what strait must converge to).

    soak_driver.py tcp-echo PORT
        TCP echo server (a thread per connection).
    soak_driver.py tcp-stream HOST PORT --seconds S --rate BYTES_PER_S [--start-file F]
        One TCP connection for S seconds: a seeded pseudo-random byte stream sent at the rate,
        its echo compared byte for byte as it comes back; then a half-close and the rest.
        Prints one JSON line; exit 1 on a mismatch, a short echo, a reset or a stall (20 s
        without a byte back while bytes are outstanding).

    soak_driver.py udp-stream HOST PORT --pps P --seconds S [--done-file F]
        tests/k8s/udp_stream.py's numbered datagrams to its echo server at P/s; prints one
        JSON line with the losses as runs of consecutive numbers, each with the time its
        first datagram was sent (to lay beside reloads and publishes); exit 1 on any loss.

    soak_driver.py udp-spray HOST PORT --flows F --pps P --seconds S
        F UDP sockets (F sessions) sending in turn at P datagrams/s to an echo mapping; prints
        sent/received. Informational: its backends are the churned ones, whose sessions are
        cleared when they are removed, so losses are expected.

    soak_driver.py tel SOCKET COMMAND
        One telemetry command; prints the reply.
    soak_driver.py logstamp LOG OUT --seconds S
        Copy the lines appended to LOG (strait's log) to OUT, each prefixed with the time
        (epoch seconds) it appeared: strait's log has no timestamps.

    soak_driver.py telemetry SOCKET --seconds S --count-file F
        Query DPDK telemetry (SOCK_SEQPACKET, the protocol of dpdk-telemetry.py) on one
        connection in a loop: /strait/stats, /strait/tables, /strait/mappings,
        /strait/sessions,demo/stay, /strait/workers, /strait/ports. F gets "reads errors
        generation_regressions last_error" after every read (the tables generation must never go back).
"""
import argparse
import http.client
import json
import os
import random
import select
import socket
import sys
import threading
import time
import urllib.parse

NS = "demo"


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# ---- objects --------------------------------------------------------------------------------


def service(name, ports):
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"app": name}, "type": "ClusterIP",
                     "ports": [{"name": n, "protocol": pr, "port": p, "targetPort": p}
                               for n, pr, p in ports]}}


def endpoint_slice(name, svc, ports, addrs, labels=None):
    lab = {"kubernetes.io/service-name": svc,
           "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}
    lab.update(labels or {})
    return {"apiVersion": "discovery.k8s.io/v1beta1", "kind": "EndpointSlice",
            "metadata": {"name": name, "namespace": NS, "labels": lab},
            "addressType": "IPv4",
            "ports": [{"name": n, "protocol": pr, "port": p} for n, pr, p in ports],
            "endpoints": [{"addresses": [a],
                           "conditions": {"ready": True, "serving": True, "terminating": False},
                           "targetRef": {"kind": "Pod", "namespace": NS,
                                         "name": "%s-%s" % (svc, a.split(".")[-1])},
                           "nodeName": "node-1"} for a in addrs]}


def mapping(name, ext, svc, ports, udp_timeout=300, allowed=None):
    spec = {"addresses": [ext], "mode": "service", "serviceName": svc,
            "timeouts": {"udp": udp_timeout}, "ports": ports}
    if allowed:
        spec["allowedSources"] = allowed
    return {"apiVersion": "strait.io/v1alpha1", "kind": "Mapping",
            "metadata": {"name": name, "namespace": NS}, "spec": spec}


STAY_PORTS = [("stream", "UDP", 9), ("blob", "TCP", 9000)]
CHURN_PORTS = [("echo", "UDP", 7), ("http", "TCP", 80)]
# Each step removes at least one backend and adds another (the first three pods).
CHURN_SETS = [[0, 1], [0, 1, 2], [1, 2], [2, 0], [0], [0, 1, 2], [1]]
ALLOWED = [None, ["198.51.100.0/24", "203.0.113.0/24"]]


def stay_mapping(ext, udp_timeout=300):
    return mapping("stay", ext, "stay",
                   [{"port": 7778, "servicePort": "stream", "protocol": "udp"},
                    {"port": 9000, "servicePort": "blob"}], udp_timeout)


def churn_mapping(ext, udp_timeout=300, allowed=None):
    return mapping("churn", ext, "churn",
                   [{"port": 7777, "servicePort": "echo", "protocol": "udp"},
                    {"port": 8080, "servicePort": "http"}], udp_timeout, allowed)


def stay_slice(stay_pod, tick=0):
    return endpoint_slice("stay-s1", "stay", STAY_PORTS, [stay_pod], {"soak/tick": str(tick)})


def churn_slice(pods, step):
    return endpoint_slice("churn-s1", "churn", CHURN_PORTS,
                          [pods[i % len(pods)] for i in CHURN_SETS[step % len(CHURN_SETS)]])


class Ctl:
    """The fake API server's control endpoint on one kept-alive HTTP/1.1 connection."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.conn = None

    def post(self, path, body):
        data = json.dumps(body).encode()
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                self.conn.request("POST", path, body=data,
                                  headers={"Content-Type": "application/json"})
                # The server writes its headers and its body separately: without an
                # immediate ACK of the first, Nagle holds the second for our delayed ACK
                # (40 ms a request).
                self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                r = self.conn.getresponse()
                out = r.read()
                if r.status >= 400:
                    return False, out.decode(errors="replace")[:200]
                res = json.loads(out or b"null")
                # /ctl/apply answers 200 with the per-object codes
                if isinstance(res, list) and any(x.get("code", 200) >= 400 for x in res):
                    return False, json.dumps(res)[:200]
                return True, ""
            except (OSError, http.client.HTTPException) as e:
                self.conn = None
                if attempt:
                    return False, repr(e)
        return False, "unreachable"

    def apply_ops(self, ops):
        """POST a list of ops to /ctl/apply: [(ok, error)] for each."""
        data = json.dumps(ops).encode()
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.conn.request("POST", "/ctl/apply", body=data,
                                  headers={"Content-Type": "application/json"})
                self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                r = self.conn.getresponse()
                out = r.read()
                if r.status >= 400:
                    return [(False, out.decode(errors="replace")[:200])] * len(ops)
                return [(x.get("code", 200) < 400, json.dumps(x.get("object"))[:200])
                        for x in json.loads(out)]
            except (OSError, http.client.HTTPException, ValueError) as e:
                self.conn = None
                if attempt:
                    return [(False, repr(e))] * len(ops)
        return [(False, "unreachable")] * len(ops)

    def apply(self, obj):
        return self.post("/ctl/apply", obj)

    def delete(self, kind, name):
        return self.post("/ctl/delete", {"kind": kind, "namespace": NS, "name": name})


def cmd_setup(a):
    ctl = Ctl(a.ctl)
    pods = a.churn_pods.split(",")
    objs = [service("stay", STAY_PORTS), stay_slice(a.stay_pod), stay_mapping(a.ext),
            service("churn", CHURN_PORTS), churn_slice(pods, 0), churn_mapping(a.ext)]
    for o in objs:
        ok, err = ctl.apply(o)
        if not ok:
            print("setup: %s %s: %s" % (o["kind"], o["metadata"]["name"], err),
                  file=sys.stderr)
            return 1
    return 0


def cmd_churn(a):
    ctl = Ctl(a.ctl)
    pods = a.churn_pods.split(",")
    tag = "%x" % (int(time.time()) & 0xfffff)
    st = {"applied": 0, "failed": 0, "names_created": 0, "names_deleted": 0,
          "by_kind": {}, "last_error": "", "rate": a.rate, "names_per_s": a.names_per_s}
    alive = []  # fresh names, oldest first
    step = {"churn_slice": 0, "churn_map": 0, "stay_slice": 0, "stay_map": 0}
    regular = ["churn_slice", "stay_slice", "churn_map", "churn_slice", "stay_map"]
    n_name = 0

    def count(kind, res):
        ok, err = res
        st["by_kind"][kind] = st["by_kind"].get(kind, 0) + 1
        if ok:
            st["applied"] += 1
        else:
            st["failed"] += 1
            st["last_error"] = "%s: %s" % (kind, err)
        return ok

    def dump(final=False):
        st["alive_names"] = len(alive)
        st["churn_backends"] = sorted(
            pods[i % len(pods)] for i in CHURN_SETS[(step["churn_slice"]) % len(CHURN_SETS)])
        st["names_alive"] = alive[:]
        st["seconds"] = round(time.time() - t0, 1)
        st["final"] = final
        if a.stats:
            write_atomic(a.stats, json.dumps(st))

    def next_ops():
        """The next update: a fresh name's create (and the oldest's delete) when one is
        due, else the next regular update. Returns [(kind, op)]."""
        nonlocal n_name, r
        now = time.time()
        if a.names_per_s > 0 and now >= t0 + n_name / a.names_per_s:
            name = "soak-%s-%d" % (tag, n_name)
            port = 20000 + n_name % 2000
            n_name += 1
            out = [("name_create", {"op": "apply", "object": mapping(
                name, a.ext, "churn", [{"port": port, "servicePort": "http"}])})]
            alive.append(name)
            if len(alive) > a.keep:
                out.append(("name_delete", {"op": "delete", "kind": "Mapping",
                                            "namespace": NS, "name": alive.pop(0)}))
            return out
        kind = regular[r % len(regular)]
        r += 1
        step[kind] += 1
        k = step[kind]
        if kind == "churn_slice":
            obj = churn_slice(pods, k)
        elif kind == "stay_slice":
            obj = stay_slice(a.stay_pod, k)
        elif kind == "churn_map":
            obj = churn_mapping(a.ext, 300 + k % 2, ALLOWED[(k // 2) % 2])
        else:
            obj = stay_mapping(a.ext, 300 + k % 2)
        return [(kind, {"op": "apply", "object": obj})]

    t0 = time.time()
    end = t0 + a.seconds
    i = 0  # updates sent
    next_dump = t0 + 1
    r = 0
    st["max_batch"] = 0
    st["compactions"] = 0
    next_compact = t0 + a.compact_every if a.compact_every > 0 else end
    while True:
        now = time.time()
        if now >= end:
            break
        if now >= next_compact:
            # An API server restarted (its watch cache gone) or a watch cache too small for
            # the churn: the history is forgotten and every watch connection drops; a watch
            # that resumes from before that gets 410 Expired, and strait lists again.
            if ctl.post("/ctl/compact", {})[0] and ctl.post("/ctl/close-watches", {})[0]:
                st["compactions"] += 1
            next_compact = now + a.compact_every
        # Every update due by now, in one request when the driver is behind (each is still
        # its own object write, resourceVersion and watch event): a loaded machine slows the
        # round trips, not the rate.
        batch = []
        while len(batch) < 200 and t0 + i / a.rate <= now:
            ops = next_ops()
            batch += ops
            i += len(ops)
        if batch:
            st["max_batch"] = max(st["max_batch"], len(batch))
            results = ctl.apply_ops([op for _, op in batch])
            for (kind, op), res in zip(batch, results):
                ok = count(kind, res)
                if kind == "name_create":
                    if ok:
                        st["names_created"] += 1
                    else:
                        alive.remove(op["object"]["metadata"]["name"])
                elif kind == "name_delete" and ok:
                    st["names_deleted"] += 1
        if now >= next_dump:
            dump()
            next_dump = now + 1
        delay = t0 + i / a.rate - time.time()
        if delay > 0:
            time.sleep(delay)
    dump(final=True)
    print(json.dumps({k: st[k] for k in ("applied", "failed", "names_created",
                                         "names_deleted", "alive_names", "max_batch",
                                         "compactions",
                                         "seconds", "last_error")}))
    return 0


# ---- TCP ------------------------------------------------------------------------------------


def cmd_tcp_echo(a):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", a.port))
    srv.listen(16)

    def serve(c):
        with c:
            while True:
                try:
                    data = c.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                c.sendall(data)

    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


class Stream:
    """The same pseudo-random byte stream on both sides of the comparison, however chunked."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.buf = bytearray()

    def take(self, n):
        while len(self.buf) < n:
            self.buf += self.rng.randbytes(65536)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


def cmd_tcp_stream(a):
    seed = 0x50A4
    s = socket.create_connection((a.host, a.port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    res = {"sent": 0, "received": 0, "mismatch_at": None, "error": None, "max_lag": 0}
    tx = Stream(seed)
    rx = Stream(seed)
    done_sending = threading.Event()
    chunk = 4096

    def sender():
        t0 = time.time()
        end = t0 + a.seconds
        try:
            if a.start_file:
                open(a.start_file, "w").close()
            while time.time() < end and res["error"] is None and res["mismatch_at"] is None:
                s.sendall(tx.take(chunk))
                res["sent"] += chunk
                delay = t0 + res["sent"] / a.rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            res["error"] = res["error"] or "send: %r" % e
        done_sending.set()

    t = threading.Thread(target=sender, daemon=True)
    t0 = time.time()
    t.start()
    # The socket stays blocking for the sender (a timeout would be shared by both threads,
    # and a send may wait out a retransmission backoff); the receiver waits in select().
    s.settimeout(None)
    last_progress = time.time()
    while True:
        try:
            if not select.select([s], [], [], 1)[0]:
                raise socket.timeout
            data = s.recv(65536)
        except socket.timeout:
            if res["sent"] > res["received"] and time.time() - last_progress > 20:
                res["error"] = "stalled: no echo for 20 s with %d bytes outstanding" % (
                    res["sent"] - res["received"])
                break
            if done_sending.is_set() and res["sent"] == res["received"] and res["sent"]:
                break  # everything back; the server's FIN is not needed
            continue
        except OSError as e:
            res["error"] = "recv: %r" % e
            break
        if not data:
            break
        want = rx.take(len(data))
        if data != want:
            off = next(i for i in range(len(data)) if data[i] != want[i])
            res["mismatch_at"] = res["received"] + off
            break
        res["received"] += len(data)
        res["max_lag"] = max(res["max_lag"], res["sent"] - res["received"])
        last_progress = time.time()
    done_sending.wait(timeout=5)
    s.close()
    res["seconds"] = round(time.time() - t0, 1)
    ok = (res["error"] is None and res["mismatch_at"] is None and res["sent"] > 0 and
          res["received"] == res["sent"])
    res["ok"] = ok
    print(json.dumps(res))
    return 0 if ok else 1


# ---- UDP stream -----------------------------------------------------------------------------


def cmd_udp_stream(a):
    """udp_stream.py's stream (the same datagrams, so its echo server serves it), with the
    losses grouped into runs of consecutive numbers, each with the wall-clock time its first
    datagram was sent: a loss can be laid beside the reloads and table publishes."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for force, opt in ((33, socket.SO_RCVBUF), (32, socket.SO_SNDBUF)):
        try:
            s.setsockopt(socket.SOL_SOCKET, force, 4 << 20)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, opt, 4 << 20)
    s.connect((a.host, a.port))
    s.settimeout(0.2)
    got = bytearray()  # got[n] = times datagram n came back (saturating)
    warm = [0]
    stop = threading.Event()

    def rx():
        while not stop.is_set():
            try:
                data = s.recv(2048)
            except socket.timeout:
                continue
            except OSError:
                return
            if data.startswith(b"warm"):
                warm[0] += 1
            elif len(data) >= 12 and data[:4] == b"seq:":
                n = int.from_bytes(data[4:12], "big")
                if n < len(got) and got[n] < 255:
                    got[n] += 1

    t = threading.Thread(target=rx, daemon=True)
    t.start()
    for i in range(20):
        s.send(b"warm-up %d" % i)
        time.sleep(0.01)
    deadline = time.time() + 5
    while warm[0] == 0 and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    interval = 1.0 / a.pps
    total = int(a.seconds * a.pps)
    got.extend(bytes(total))
    pad = b"x" * 64
    sent = 0
    t0 = time.time()
    for n in range(total):
        s.send(b"seq:" + n.to_bytes(8, "big") + pad)
        sent += 1
        if a.done_file and n % 256 == 0 and os.path.exists(a.done_file):
            break
        delay = t0 + (n + 1) * interval - time.time()
        if delay > 0:
            time.sleep(delay)
    time.sleep(2)
    stop.set()
    t.join()
    runs = []
    n = 0
    while n < sent:
        if got[n]:
            n += 1
            continue
        m = n
        while m < sent and not got[m]:
            m += 1
        # The send time is the schedule's (the sender keeps to it within a few ms).
        runs.append({"first": n, "count": m - n, "at": round(t0 + n * interval, 3)})
        n = m
    lost = sum(r["count"] for r in runs)
    dups = sum(c - 1 for c in got[:sent] if c > 1)
    print(json.dumps({"warmup_replies": warm[0], "sent": sent, "received": sent - lost,
                      "n_missing": lost, "duplicates": dups, "start": round(t0, 3),
                      "seconds": round(time.time() - t0, 2), "loss_runs": runs[:100]}))
    return 1 if lost or warm[0] == 0 else 0


# ---- UDP spray --------------------------------------------------------------------------------


def cmd_udp_spray(a):
    socks = []
    for _ in range(a.flows):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((a.host, a.port))
        s.setblocking(False)
        socks.append(s)
    sent = received = 0
    t0 = time.time()
    end = t0 + a.seconds
    n = 0
    while time.time() < end:
        s = socks[n % len(socks)]
        try:
            s.send(b"spray %d" % n)
            sent += 1
        except OSError:
            pass
        n += 1
        while True:
            r, _, _ = select.select(socks, [], [], 0)
            if not r:
                break
            for x in r:
                try:
                    while x.recv(2048):
                        received += 1
                except OSError:
                    pass
        delay = t0 + n / a.pps - time.time()
        if delay > 0:
            time.sleep(delay)
    time.sleep(1)
    r, _, _ = select.select(socks, [], [], 0)
    for x in r:
        try:
            while x.recv(2048):
                received += 1
        except OSError:
            pass
    print(json.dumps({"flows": a.flows, "sent": sent, "received": received}))
    return 0


# ---- telemetry --------------------------------------------------------------------------------

TEL_CMDS = ["/strait/stats", "/strait/tables", "/strait/mappings", "/strait/sessions,demo/stay",
            "/strait/workers", "/strait/ports"]


def cmd_telemetry(a):
    reads = errors = regressions = 0
    last_err = ""
    cmd = "connect"
    gen = -1
    end = time.time() + a.seconds
    s = None
    n = 0
    while time.time() < end:
        try:
            if s is None:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                s.settimeout(5)
                s.connect(a.socket)
                hello = json.loads(s.recv(1024).decode())
                maxlen = int(hello.get("max_output_len", 16384))
            cmd = TEL_CMDS[n % len(TEL_CMDS)]
            n += 1
            s.send(cmd.encode())
            reply = json.loads(s.recv(maxlen).decode())
            body = reply.get(cmd.split(",")[0])
            if body is None:
                errors += 1
                last_err = "%s: %s" % (cmd, json.dumps(reply)[:80])
            else:
                reads += 1
                g = body.get("generation", body.get("tables_generation"))
                if isinstance(g, int):
                    if g < gen:
                        regressions += 1
                    gen = max(gen, g)
        except (OSError, ValueError) as e:
            errors += 1
            last_err = "%s: %r" % (cmd, e)
            if s is not None:
                s.close()
            s = None
            time.sleep(0.5)
        write_atomic(a.count_file, "%d %d %d %s\n" % (reads, errors, regressions,
                                                      " ".join(last_err.split())))
        time.sleep(a.interval)
    return 0


def cmd_tel(a):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(a.socket)
    maxlen = int(json.loads(s.recv(1024).decode()).get("max_output_len", 16384))
    s.send(a.command.encode())
    print(s.recv(maxlen).decode())
    return 0


def cmd_logstamp(a):
    """Copy the lines appended to LOG into OUT, each prefixed with the time it was seen."""
    end = time.time() + a.seconds
    while not os.path.exists(a.log) and time.time() < end:
        time.sleep(0.1)
    with open(a.log, "rb") as f, open(a.out, "a") as out:
        part = b""
        while time.time() < end:
            chunk = f.read()
            if not chunk:
                time.sleep(0.02)
                continue
            now = "%.3f " % time.time()
            lines = (part + chunk).split(b"\n")
            part = lines.pop()
            out.write("".join(now + ln.decode(errors="replace") + "\n" for ln in lines))
            out.flush()
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("setup", "churn"):
        p = sub.add_parser(name)
        p.add_argument("ctl")
        p.add_argument("--ext", required=True)
        p.add_argument("--stay-pod", required=True)
        p.add_argument("--churn-pods", required=True)
        if name == "churn":
            p.add_argument("--seconds", type=float, required=True)
            p.add_argument("--rate", type=float, default=200)
            p.add_argument("--names-per-s", type=float, default=10)
            p.add_argument("--keep", type=int, default=16)
            p.add_argument("--stats")
            p.add_argument("--compact-every", type=float, default=30)
    p = sub.add_parser("tcp-echo")
    p.add_argument("port", type=int)
    p = sub.add_parser("tcp-stream")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--rate", type=float, default=131072)
    p.add_argument("--start-file")
    p = sub.add_parser("udp-stream")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--pps", type=float, default=2000)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--done-file")
    p = sub.add_parser("udp-spray")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--flows", type=int, default=64)
    p.add_argument("--pps", type=float, default=200)
    p.add_argument("--seconds", type=float, required=True)
    p = sub.add_parser("telemetry")
    p.add_argument("socket")
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--count-file", required=True)
    p.add_argument("--interval", type=float, default=0.05)
    p = sub.add_parser("tel")
    p.add_argument("socket")
    p.add_argument("command")
    p = sub.add_parser("logstamp")
    p.add_argument("log")
    p.add_argument("out")
    p.add_argument("--seconds", type=float, required=True)
    a = ap.parse_args(argv[1:])
    return {"setup": cmd_setup, "churn": cmd_churn, "tcp-echo": cmd_tcp_echo,
            "tcp-stream": cmd_tcp_stream, "udp-stream": cmd_udp_stream,
            "udp-spray": cmd_udp_spray,
            "telemetry": cmd_telemetry, "tel": cmd_tel, "logstamp": cmd_logstamp}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
