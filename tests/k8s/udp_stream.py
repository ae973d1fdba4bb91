#!/usr/bin/env python3
"""Numbered UDP datagrams to an echo server, counting what comes back (stdlib only).

    udp_stream.py HOST PORT COUNT INTERVAL_MS [--start-file F] [--done-file F] [--sport N]
    udp_stream.py echo PORT        the echo server for it (one per pod)

Sends 20 unnumbered warm-up datagrams first (they create the NAT session and resolve the
neighbours on the way) and waits for them, then COUNT datagrams numbered 0..COUNT-1 every
INTERVAL_MS from the same socket (the same 5-tuple, so one NAT session), then waits 2 s
for stragglers. --start-file is created when the numbered stream begins (so a test can
start changing things exactly then); the stream also ends early once --done-file exists and
at least 500 datagrams went out. --sport sends from that source port (a 5-tuple whose NAT
session a test has already created, so it knows the backend). Prints one JSON line: sent, received, missing (the first 50
numbers), duplicates, and exits 1 if any is missing.

Both ends take 4 MB socket buffers: on a two-core test machine the test's other processes can
keep a Python receiver off the CPU for a while, and a datagram dropped by a full socket
buffer (UdpRcvbufErrors) would be blamed on the gateway.
"""
import json
import os
import socket
import struct
import sys
import threading
import time


BUF = 4 << 20


def big_buffers(s):
    # SO_RCVBUF is capped at net.core.rmem_max (208 KiB by default, a few hundred
    # datagrams); root may go past it with the FORCE variants (32 and 33 on Linux).
    for force, opt in ((33, socket.SO_RCVBUF), (32, socket.SO_SNDBUF)):
        try:
            s.setsockopt(socket.SOL_SOCKET, force, BUF)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, opt, BUF)


def echo(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_buffers(s)
    s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def main(argv):
    if argv[1] == "echo":
        echo(int(argv[2]))
        return 0
    host, port, count, interval = argv[1], int(argv[2]), int(argv[3]), float(argv[4]) / 1000
    start_file = argv[argv.index("--start-file") + 1] if "--start-file" in argv else None
    done_file = argv[argv.index("--done-file") + 1] if "--done-file" in argv else None
    sport = int(argv[argv.index("--sport") + 1]) if "--sport" in argv else 0
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    big_buffers(s)
    if sport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", sport))
    s.connect((host, port))
    s.settimeout(0.2)
    got = {}
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
                n = struct.unpack("!Q", data[4:12])[0]
                got[n] = got.get(n, 0) + 1

    t = threading.Thread(target=rx, daemon=True)
    t.start()
    for i in range(20):
        s.send(b"warm-up %d" % i)
        time.sleep(0.01)
    deadline = time.time() + 5
    while warm[0] == 0 and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    if start_file:
        open(start_file, "w").close()
    pad = b"x" * 64
    sent = 0
    t0 = time.time()
    for n in range(count):
        s.send(b"seq:" + struct.pack("!Q", n) + pad)
        sent += 1
        if done_file and sent >= 500 and os.path.exists(done_file):
            break
        # Paced on the clock, not on sleeps, so the rate holds even if a sleep runs long.
        delay = t0 + (n + 1) * interval - time.time()
        if delay > 0:
            time.sleep(delay)
    time.sleep(2)
    stop.set()
    t.join()
    missing = [n for n in range(sent) if n not in got]
    dups = sum(c - 1 for c in got.values() if c > 1)
    print(json.dumps({"warmup_replies": warm[0], "sent": sent, "received": len(got),
                      "missing": missing[:50], "n_missing": len(missing), "duplicates": dups,
                      "seconds": round(time.time() - t0, 2)}))
    return 1 if missing or warm[0] == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
