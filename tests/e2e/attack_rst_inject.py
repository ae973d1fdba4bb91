#!/usr/bin/env python3
"""rst_inject.py IFACE GW_MAC HOST PORT PAUSE_S: open a TCP connection to a Redis server, PING,
then from the same 5-tuple inject (with scapy, behind the kernel's back) an RST and a FIN whose
sequence numbers lie 2^30 beyond what the connection has sent (out of any window), and an
ACK-less FIN; wait PAUSE_S, PING again. Prints "before after" as "ok"/"fail"."""
import socket
import sys
import time
from scapy.all import Ether, IP, TCP, AsyncSniffer, sendp, conf

conf.verb = 0
iface, gwmac, host, port, pause = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])


def ping(s):
    try:
        s.sendall(b"PING\r\n")
        return "ok" if s.recv(64) == b"+PONG\r\n" else "fail"
    except OSError:
        return "fail"


s = socket.create_connection((host, port), timeout=3)
s.settimeout(3)
lport = s.getsockname()[1]
sn = AsyncSniffer(iface=iface, filter=f"tcp and src port {lport} and dst port {port}")
sn.start()
time.sleep(0.5)
before = ping(s)
time.sleep(0.3)
sn.stop()
last = [p for p in sn.results if p.haslayer(TCP)][-1][TCP]
seq, ack = last.seq, last.ack
src = s.getsockname()[0]
far = (seq + (1 << 30)) & 0xFFFFFFFF
ip = Ether(dst=gwmac) / IP(src=src, dst=host)
sendp([ip / TCP(sport=lport, dport=port, flags="R", seq=far),
       ip / TCP(sport=lport, dport=port, flags="RA", seq=far, ack=ack),
       ip / TCP(sport=lport, dport=port, flags="FA", seq=far, ack=ack)], iface=iface)
time.sleep(pause)
after = ping(s)
print(before, after)
