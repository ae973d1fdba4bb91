#!/usr/bin/env python3
"""pinger.py HOST PORT SECONDS [INTERVAL_S]: one TCP connection to a Redis server, a PING
every INTERVAL_S (default 0.02) for SECONDS; prints "sent answered" (answered = +PONG read
back within 5 s each). Bounded: stops after SECONDS plus at most one 5 s wait."""
import socket
import sys
import time

host, port, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 0.02
sent = answered = 0
try:
    s = socket.create_connection((host, port), timeout=3)
    s.settimeout(5)
    end = time.monotonic() + secs
    while time.monotonic() < end:
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
except OSError:
    pass
print(sent, answered)
