#!/usr/bin/env python3
"""IPv4 fragment torture through strait (edge_test.sh, part e), run in the client namespace.

    edge_frag.py IFACE GWMAC EXT PORT TCP_PORT STRAITCTL SOCK CLIENT_A CLIENT_B

Every case sends, with scapy, the fragments of a UDP datagram of 3000 bytes of payload to
EXT:PORT (a mapping to one pod's UDP echo) in an order or shape of its own, each fragment in
a burst of its own (50 ms apart, as reordering on a real path delivers them), and waits for
the echo on an ordinary UDP socket bound to the datagram's source address and port before
anything is sent: the client's kernel reassembles the echo, the pod's kernel reassembled
what strait forwarded. Cases:

  out-of-order   last fragment first, first fragment last: echo intact
  duplicates     every fragment twice: echo intact
  overlap        the second fragment overlaps the first by 8 bytes: strait counts it (the
                 pod's kernel decides about the datagram; reported)
  tiny-first     a first fragment with 4 bytes of the UDP header (RFC 1858): dropped and
                 counted, no session; and one with 16 bytes of a TCP SYN's header to
                 EXT:TCP_PORT (no flags in it): dropped and counted
  colliding-ids  CLIENT_A and CLIENT_B send different datagrams with the same IP id at the
                 same time, fragments interleaved: through full NAT both have the same source
                 (the SNAT address): each must get its own echo back intact

One line per check, "NAME<TAB>EXPECTED<TAB>ACTUAL" (edge_test.sh turns them into check_eq),
and "info: ..." lines. Every wait is bounded.
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import time

GAP_S = 0.05
ECHO_TIMEOUT_S = 3.0
FRAG = 1480  # data bytes per fragment on a 1500-byte link


def main():
    if len(sys.argv) != 10:
        print(__doc__, file=sys.stderr)
        return 2
    iface, gwmac, ext, port, tcp_port, ctl, sock, cli_a, cli_b = sys.argv[1:]
    port, tcp_port = int(port), int(tcp_port)
    from scapy.all import IP, TCP, UDP, Ether, Raw, conf, raw
    conf.verb = 0
    l2 = conf.L2socket(iface=iface)
    eth = Ether(dst=gwmac)

    def stats():
        out = subprocess.run([ctl, "-s", sock, "--json", "show", "stats"],
                             capture_output=True, timeout=5, check=True).stdout
        return json.loads(out)

    def drops():
        return stats()["drops"]

    def created():
        d = stats()
        return next((m["created"] for m in d["mappings"] if m["mapping"] == "edge-frag"), -1)

    def grew(before, after):
        return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after)
                if after.get(k, 0) != before.get(k, 0)}

    def settle(before):
        """Poll the drop counters (the control thread reads them): up to 2 s for a change."""
        after = before
        for _ in range(20):
            time.sleep(0.1)
            after = drops()
            if after != before:
                time.sleep(0.2)  # let the rest of a burst land
                return drops()
        return after

    def datagram(src, sport, ipid, payload):
        """The whole IP datagram (header + UDP), checksums filled in."""
        return raw(IP(src=src, dst=ext, id=ipid, ttl=64) / UDP(sport=sport, dport=port) /
                   payload)

    def frag(dgram, off, end, more):
        """A fragment of dgram's IP payload bytes [off, end) (off a multiple of 8); dgram
        has a 20-byte header."""
        h = IP(dgram[:20])
        body = dgram[20:][off:end]
        return IP(src=h.src, dst=h.dst, id=h.id, ttl=64, proto=h.proto, frag=off // 8,
                  flags="MF" if more else 0) / Raw(body)

    def frags(dgram):
        n = len(dgram) - 20
        return [frag(dgram, o, min(o + FRAG, n), o + FRAG < n) for o in range(0, n, FRAG)]

    def send(pkts, gap=GAP_S):
        for p in pkts:
            l2.send(raw(eth / p))
            time.sleep(gap)

    def listener(src, sport):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, sport))
        s.settimeout(ECHO_TIMEOUT_S)
        return s

    def echo(s):
        try:
            return s.recv(65535)
        except socket.timeout:
            return None

    def sha(b):
        return hashlib.sha256(b).hexdigest()[:16] if b is not None else "no echo"

    def out(name, expected, actual):
        print("%s\t%s\t%s" % (name, expected, actual), flush=True)

    def info(msg):
        print("info: " + msg, flush=True)

    def one_case(name, sport, ipid, order, gap=GAP_S):
        payload = os.urandom(3000)
        s = listener(cli_a, sport)
        fr = frags(datagram(cli_a, sport, ipid, payload))
        before = drops()
        send(order(fr), gap)
        got = echo(s)
        s.close()
        info("%s: %d fragments sent; drops that grew: %s" %
             (name, len(order(fr)), grew(before, drops()) or "none"))
        out("%s: 3000-byte echo comes back intact (sha256)" % name, sha(payload), sha(got))

    # (1) out of order: last first, first last. 200 ms apart: a worker held up by a loaded
    # machine must not receive them in one burst (strait handles a burst's later fragments
    # after its first ones, which would hide the reordering).
    one_case("out-of-order", 41001, 0x5101, lambda f: list(reversed(f)), 0.2)
    # (2) duplicates: each fragment twice, the first fragment again at the end.
    one_case("duplicates", 41002, 0x5102, lambda f: [x for x in f for _ in (0, 1)] + [f[0]])

    # (5) colliding IP ids: two clients, one id, fragments interleaved.
    pa, pb = os.urandom(3000), os.urandom(3000)
    sa, sb = listener(cli_a, 41005), listener(cli_b, 41005)
    fa = frags(datagram(cli_a, 41005, 0x5105, pa))
    fb = frags(datagram(cli_b, 41005, 0x5105, pb))
    before = drops()
    send([x for pair in zip(fa, fb) for x in pair])
    ga, gb = echo(sa), echo(sb)
    sa.close()
    sb.close()
    info("colliding-ids: drops that grew: %s" % (grew(before, drops()) or "none"))
    out("colliding-ids: %s's echo comes back intact (sha256)" % cli_a, sha(pa), sha(ga))
    out("colliding-ids: %s's echo comes back intact (sha256)" % cli_b, sha(pb), sha(gb))

    # (3) overlap: the second fragment starts 8 bytes inside the first (RFC 1858's overlap
    # attack moves the L4 header that way; RFC 5722 has IPv6 discard such datagrams).
    payload = os.urandom(3000)
    d = datagram(cli_a, 41003, 0x5103, payload)
    n = len(d) - 20
    s = listener(cli_a, 41003)
    before = drops()
    send([frag(d, 0, FRAG, True), frag(d, FRAG - 8, 2 * FRAG - 8, True),
          frag(d, 2 * FRAG - 8, n, False)])
    after = settle(before)
    g = grew(before, after)
    got = echo(s)
    s.close()
    info("overlap: the pod's kernel %s the datagram; drops that grew: %s" %
         ("reassembled (echo back)" if got is not None else "dropped (no echo)", g or "none"))
    counted = sorted(k for k in g if "frag" in k or "overlap" in k)
    out("overlap: overlapping fragment counted by a fragment drop reason (%s)" %
        (",".join(counted) or "none"), "yes", "yes" if counted else "no")

    # (4) a tiny first fragment: 4 bytes of the UDP header (ports only), MF set.
    d = datagram(cli_a, 41004, 0x5104, os.urandom(3000))
    c0 = created()
    before = drops()
    send([frag(d, 0, 4, True)])
    after = settle(before)
    g = grew(before, after)
    out("tiny first fragment (4 bytes of UDP header) dropped and counted (%s)" %
        (",".join(sorted(g)) or "none"), "yes", "yes" if g else "no")
    out("tiny first fragment created no session", c0, created())
    before = after
    send([frag(d, 8, 8 + FRAG, True)])
    info("tiny-first: its later fragment: drops that grew: %s" %
         (grew(before, settle(before)) or "none"))
    # The same for TCP (RFC 1858 3.1: a first fragment too short to hold the flags): the
    # first 16 bytes of a SYN's 24-byte header (MSS option), to TCP_PORT.
    t = raw(IP(src=cli_a, dst=ext, id=0x5106, ttl=64) /
            TCP(sport=41006, dport=tcp_port, flags="S", seq=1, options=[("MSS", 1460)]))
    before = drops()
    send([frag(t, 0, 16, True)])
    after = settle(before)
    g = grew(before, after)
    out("tiny first fragment (16 bytes of TCP header) dropped and counted (%s)" %
        (",".join(sorted(g)) or "none"), "yes", "yes" if g else "no")

    # Good traffic after all of it: a small datagram through the same mapping.
    s = listener(cli_a, 41009)
    s.sendto(b"still there?", (ext, port))
    got = echo(s)
    s.close()
    out("after the torture: a small datagram is echoed", "still there?",
        got.decode(errors="replace") if got is not None else "no echo")
    info("drops at the end: %s" % {k: v for k, v in drops().items() if v})
    return 0


if __name__ == "__main__":
    sys.exit(main())
