#!/usr/bin/env python3
"""pinger.py HOST PORT SECONDS [INTERVAL_S]: one TCP connection to a Redis server, a PING
every INTERVAL_S (default 0.02) for SECONDS; prints "sent answered" (answered = +PONG read
back), and on stderr why it stopped early, if it did.

Each PONG is waited for until GRACE_S after the SECONDS, and at least 5 s: the question is
whether the connection survives (a SYN flood must not cost it its session), not how late a
segment that a loaded 2-core host queued behind a flood comes. TCP retransmits a lost one
with backoff (up to 6.4 s apart by its fifth try), and GRACE_S covers one such wait after
the flood ends. A connection that lost its session is never answered, and still counts.
Bounded: stops after SECONDS plus at most GRACE_S."""
import socket
import sys
import time

host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 0.02
GRACE_S = 10.0
sent = answered = 0
try:
    s = socket.create_connection((host, port), timeout=3)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        s.settimeout(max(5.0, end + GRACE_S - time.monotonic()))
        s.sendall(b"PING\r\n")
        sent += 1
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = s.recv(64)
            if not chunk:
                raise OSError("closed")
            buf += chunk
        if buf == b"+PONG\r\n":
            answered += 1
        time.sleep(interval)
except OSError as e:
    print(f"pinger: stopped after {sent} PINGs: {e!r}", file=sys.stderr)
print(sent, answered)
