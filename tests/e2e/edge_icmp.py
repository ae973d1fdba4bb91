#!/usr/bin/env python3
"""ICMP errors through strait, both directions, checked byte for byte (edge_test.sh, part d).

    edge_icmp.py sniff IFACE PCAP TIMEOUT_S STOP_ID [BPF]
        capture ICMP (or BPF) on IFACE into PCAP until an ICMP error quoting IP id STOP_ID
        arrives (0: never), or TIMEOUT_S; prints "ready" once capturing.
    edge_icmp.py send DIR IFACE GWMAC SESSIONS_JSON STRAITCTL SOCK RESULT_JSON
        from the namespace of DIR's sender (i2e: the pod, e2i: the client), send the case
        table's ICMP errors to the gateway; around each case that must be dropped, the drop
        counters (straitctl --json show stats) before and after go to RESULT_JSON, with the
        number of ICMP messages the gateway sent back to the sender.
    edge_icmp.py check DIR PCAP SESSIONS_JSON RESULT_JSON
        what the receiver captured against what the case table expects; one line per check,
        "NAME<TAB>EXPECTED<TAB>ACTUAL", which edge_test.sh turns into check_eq; "info: ..."
        lines are for the log.

DIR i2e: the pod answers the packet it received (src SNAT address:port, dst pod:port) and
the client must see the error about its own packet (src client:cport, dst external:eport).
DIR e2i: the client answers the packet it received (src external:eport, dst client:cport)
and the pod must see it about its own (src pod:port, dst SNAT address:port).

Checksums at the receiver: outer IP header and ICMP (whole message) verify; the quoted IP
header verifies (options included); the quoted L4 checksum is the one of the receiver's own
packet: with the whole UDP datagram or TCP segment quoted it verifies over the translated
pseudo-header; with an 8-byte UDP quote it must equal the checksum of the receiver's whole
datagram (strait adjusts it incrementally, RFC 1624, for the addresses and ports it rewrites);
a UDP checksum of 0 means "none" (RFC 768) and must stay 0, never become the adjusted value
of a checksum that was not computed. An 8-byte TCP quote holds no checksum.

SESSIONS_JSON: {"udp": row, "tcp": row}, rows of `straitctl --json show sessions` (fields
client, external, snat, backend, "a.b.c.d:port"). A case is told apart at the receiver by the
IP id of the quoted header (strait rewrites addresses, ports and checksums, not ids).
"""
import json
import signal
import socket
import struct
import subprocess
import sys
import time

# Scapy only where it is needed (crafting, sniffing): its import costs a second or two.

PAYLOAD_UDP = b"edge-icmp-udp-probe-0123456789ab"  # 32 bytes of quoted UDP payload
PAYLOAD_TCP = b"edge-icmp-tcp-probe-0123456789abcdef0123"  # 40 bytes
# An ICMP error from a router on the path rather than from the endpoint itself.
ROUTER = {"i2e": "10.0.0.12", "e2i": "192.0.2.254"}
OPT4 = b"\x01\x01\x01\x00"  # NOP NOP NOP EOL: IHL 6
# Record route with 9 empty slots (39 bytes) and EOL: 40 bytes of options, IHL 15.
OPT40 = bytes([7, 39, 4]) + b"\x00" * 36 + b"\x00"
MTU_FLOOR = 576

# The case table. Fields:
#   id     IP id of the quoted header (how the receiver tells the cases apart)
#   proto  "udp" or "tcp": which session is quoted
#   type, code, mtu   the ICMP error (mtu: frag needed's next-hop MTU)
#   opts   IP options in the quoted header
#   l4     bytes of the quoted L4 segment: "full", or a number
#   cksum0 UDP sent with checksum 0 ("no checksum", RFC 768)
#   wrap   quoted packet is itself an ICMP error quoting the session's packet
#   nosess quote a tuple without a session (the session's peer port + 1)
#   src    outer source: "peer" (the endpoint) or "router"
#   expect "translate", "drop", or "floor" (translated with MTU raised to MTU_FLOOR)
CASES = [
    dict(name="udp port unreachable", id=0x01, proto="udp", type=3, code=3),
    dict(name="udp port unreachable, udp checksum 0", id=0x02, proto="udp", type=3, code=3,
         cksum0=True),
    dict(name="udp frag needed mtu 1200", id=0x03, proto="udp", type=3, code=4, mtu=1200),
    dict(name="udp time exceeded", id=0x04, proto="udp", type=11, code=0),
    dict(name="udp port unreachable from a router", id=0x05, proto="udp", type=3, code=3,
         src="router"),
    dict(name="tcp frag needed mtu 1200, whole segment quoted", id=0x06, proto="tcp", type=3,
         code=4, mtu=1200),
    dict(name="tcp time exceeded, 8-byte quote", id=0x07, proto="tcp", type=11, code=0, l4=8),
    dict(name="udp quote with ip options (ihl 6)", id=0x08, proto="udp", type=3, code=3,
         opts=OPT4),
    dict(name="udp quote with ip options (ihl 15)", id=0x09, proto="udp", type=11, code=0,
         opts=OPT40),
    dict(name="udp quote with ip options (ihl 15), 8-byte quote", id=0x0a, proto="udp",
         type=3, code=3, opts=OPT40, l4=8),
    dict(name="udp 8-byte quote", id=0x0b, proto="udp", type=3, code=3, l4=8),
    dict(name="udp 4-byte quote", id=0x0c, proto="udp", type=3, code=3, l4=4, expect="drop"),
    dict(name="icmp error quoting an icmp error", id=0x0d, proto="udp", type=3, code=1,
         wrap=True, expect="drop"),
    dict(name="udp quote of a tuple without session", id=0x0e, proto="udp", type=3, code=3,
         nosess=True, expect="drop", reason="icmp_no_session"),
    dict(name="udp frag needed mtu 68", id=0x0f, proto="udp", type=3, code=4, mtu=68,
         expect="floor"),
    # Last, the stop signal of the receiver's sniffer.
    dict(name="udp time exceeded (last)", id=0xff, proto="udp", type=11, code=0),
]
# Quoted IP ids: the case's low byte on a base per direction, so that the two directions'
# sniffers can run at once and neither stops on the other's last case.
BASE = {"i2e": 0x1100, "e2i": 0x2200}


def case_defaults(c, direction):
    d = dict(mtu=0, opts=b"", l4="full", cksum0=False, wrap=False, nosess=False, src="peer",
             expect="translate", reason=None)
    d.update(c)
    d["id"] = BASE[direction] + c["id"]
    return d


def hostport(s):
    h, p = s.rsplit(":", 1)
    return h, int(p)


def cksum(data):
    """RFC 1071 Internet checksum of data (the value to store: ~sum)."""
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4_cksum(src, dst, proto, seg):
    """Checksum of a whole TCP/UDP segment with its checksum field as it is: 0 if valid."""
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, proto, len(seg))
    return cksum(ph + seg)


def views(direction, sess):
    """(sender's view, receiver's view) of the quoted packet: (src, sport, dst, dport), plus
    the outer addresses the receiver must see (src, dst)."""
    client, external = hostport(sess["client"]), hostport(sess["external"])
    snat, backend = hostport(sess["snat"]), hostport(sess["backend"])
    if direction == "i2e":
        # The pod received snat -> backend; the client sent client -> external.
        return ((snat[0], snat[1], backend[0], backend[1]),
                (client[0], client[1], external[0], external[1]),
                (external[0], client[0]))
    # The client received external -> client; the pod sent backend -> snat.
    return ((external[0], external[1], client[0], client[1]),
            (backend[0], backend[1], snat[0], snat[1]),
            (snat[0], backend[0]))


def quoted_packet(c, sent_view):
    """The whole packet, as seen from @sent_view (src, sport, dst, dport), that case c's
    error quotes (before truncate_quote): IP header with c's options, UDP or TCP, payload."""
    from scapy.all import IP, TCP, UDP, raw
    src, sport, dst, dport = sent_view
    if c["nosess"]:
        dport += 1
    opts = c["opts"]
    ip = IP(src=src, dst=dst, id=c["id"], ttl=63, flags="DF", options=opts) if opts else \
        IP(src=src, dst=dst, id=c["id"], ttl=63, flags="DF")
    if c["proto"] == "udp":
        pkt = ip / UDP(sport=sport, dport=dport) / PAYLOAD_UDP
        b = bytearray(raw(pkt))
        if c["cksum0"]:
            ihl = (b[0] & 0xF) * 4
            b[ihl + 6:ihl + 8] = b"\x00\x00"
        return bytes(b)
    pkt = ip / TCP(sport=sport, dport=dport, flags="PA", seq=0x1000 + c["id"], ack=0x2000,
                   window=501) / PAYLOAD_TCP
    return raw(pkt)


def ihl_of(pkt):
    return (pkt[0] & 0xF) * 4


def truncate_quote(c, pkt):
    if c["l4"] == "full":
        return pkt
    return pkt[:ihl_of(pkt) + c["l4"]]


def error_message(c, direction, sent_view, sender_ip, gw_ip):
    """The whole ICMP error (IP header onward) the sender sends."""
    from scapy.all import ICMP, IP, Raw, raw
    quote = truncate_quote(c, quoted_packet(c, sent_view))
    if c["wrap"]:
        # The quoted packet is itself an ICMP error (port unreachable) quoting the session's
        # packet: what the sender would send if it answered an error with an error.
        src, sport, dst, dport = sent_view
        back = truncate_quote(dict(c, l4=8), quoted_packet(dict(c, nosess=False),
                                                            (dst, dport, src, sport)))
        inner = IP(src=src, dst=dst, id=c["id"], ttl=63) / ICMP(type=3, code=3) / Raw(back)
        quote = raw(inner)
    src = ROUTER[direction] if c["src"] == "router" else sender_ip
    icmp = ICMP(type=c["type"], code=c["code"])
    if c["type"] == 3 and c["code"] == 4:
        icmp = ICMP(type=3, code=4, nexthopmtu=c["mtu"])
    return raw(IP(src=src, dst=gw_ip, id=0x7000 + c["id"], ttl=64) / icmp / Raw(quote))


def ctl_drops(ctl, sock):
    out = subprocess.run([ctl, "-s", sock, "--json", "show", "stats"], capture_output=True,
                         timeout=5, check=True).stdout
    return json.loads(out)["drops"]


def cmd_sniff(iface, pcap, timeout_s, stop_id, bpf="icmp"):
    from scapy.all import ICMP, IP, AsyncSniffer, conf, wrpcap
    conf.verb = 0
    stop_id = int(stop_id, 0)

    def stop(p):
        # The ids of the two directions differ: the other direction's errors, which this
        # interface may carry outbound, never stop this capture.
        if not stop_id or not p.haslayer(ICMP) or not p.haslayer(IP):
            return False
        b = bytes(p[ICMP])
        if len(b) < 8 + 20:
            return False
        return struct.unpack("!H", b[8 + 4:8 + 6])[0] == stop_id

    sn = AsyncSniffer(iface=iface, filter=bpf, timeout=float(timeout_s), stop_filter=stop,
                      started_callback=lambda: print("ready", flush=True), store=True)
    sn.start()
    # SIGTERM (topo_down, or a caller done early) ends the capture, which is still written.
    signal.signal(signal.SIGTERM, lambda *_: sn.stop(join=False))
    sn.join()
    wrpcap(pcap, sn.results or [])
    print("captured %d" % len(sn.results or []), flush=True)


def cmd_send(direction, iface, gwmac, sess_file, ctl, sock, result_file):
    import threading
    from scapy.all import ICMP, IP, AsyncSniffer, Ether, conf
    conf.verb = 0
    sessions = json.load(open(sess_file))
    l2 = conf.L2socket(iface=iface)
    results = {}
    # ICMP the gateway sends back to the sender: none expected (no error about an error).
    gw = "10.0.0.1" if direction == "i2e" else "198.51.100.1"
    ready = threading.Event()
    back = AsyncSniffer(iface=iface, filter="icmp and src host %s" % gw, timeout=30,
                        store=True, started_callback=ready.set)
    back.start()
    ready.wait(10)
    for c in (case_defaults(x, direction) for x in CASES):
        sess = sessions[c["proto"]]
        sent_view, _, _ = views(direction, sess)
        # The sender is the endpoint of the quoted packet's destination.
        sender_ip, gw_ip = sent_view[2], sent_view[0]
        msg = error_message(c, direction, sent_view, sender_ip, gw_ip)
        frame = bytes(Ether(dst=gwmac) / IP(msg))
        if c["expect"] == "drop":
            before = ctl_drops(ctl, sock)
            l2.send(frame)
            after = before
            for _ in range(30):  # the counters are read by the control thread: poll, 3 s
                time.sleep(0.1)
                after = ctl_drops(ctl, sock)
                if after != before:
                    break
            results[c["name"]] = {k: after.get(k, 0) - before.get(k, 0)
                                  for k in set(after) | set(before)
                                  if after.get(k, 0) != before.get(k, 0)}
        else:
            l2.send(frame)
            time.sleep(0.05)
    time.sleep(1.0)
    back.stop()
    answers = [p for p in (back.results or []) if p.haslayer(ICMP)]
    json.dump({"drops": results, "answers": len(answers)}, open(result_file, "w"))
    print("sent %d cases" % len(CASES), flush=True)


def parse_error(b):
    """An IPv4 ICMP error, from its IP header: a dict of its fields, or None."""
    if len(b) < 20 or b[0] >> 4 != 4:
        return None
    ihl = (b[0] & 0xF) * 4
    tot = struct.unpack("!H", b[2:4])[0]
    b = b[:tot]
    if b[9] != 1 or len(b) < ihl + 8:
        return None
    icmp = b[ihl:]
    r = dict(src=socket.inet_ntoa(b[12:16]), dst=socket.inet_ntoa(b[16:20]), ttl=b[8],
             ip_ok=cksum(b[:ihl]) == 0, type=icmp[0], code=icmp[1], icmp_ok=cksum(icmp) == 0,
             mtu=struct.unpack("!H", icmp[6:8])[0], quote=icmp[8:])
    q = r["quote"]
    if len(q) < 20:
        return r
    qihl = (q[0] & 0xF) * 4
    r.update(qid=struct.unpack("!H", q[4:6])[0], qsrc=socket.inet_ntoa(q[12:16]),
             qdst=socket.inet_ntoa(q[16:20]), qproto=q[9], qihl=qihl,
             qip_ok=cksum(q[:qihl]) == 0, qopts=q[20:qihl], ql4=q[qihl:])
    if len(q) >= qihl + 4:
        r.update(qsport=struct.unpack("!H", q[qihl:qihl + 2])[0],
                 qdport=struct.unpack("!H", q[qihl + 2:qihl + 4])[0])
    return r


def cmd_check(direction, pcap, sess_file, result_file):
    from scapy.all import IP, rdpcap
    sessions = json.load(open(sess_file))
    res = json.load(open(result_file))
    pkts = rdpcap(pcap) if pcap else []
    got = []
    for p in pkts:
        if p.haslayer(IP):
            e = parse_error(bytes(p[IP]))
            if e and "qid" in e:
                got.append(e)
    where = "client" if direction == "i2e" else "pod"
    out = []

    def line(name, expected, actual):
        out.append("%s: %s\t%s\t%s" % (direction, name, expected, actual))

    known = set()
    for c in (case_defaults(x, direction) for x in CASES):
        sess = sessions[c["proto"]]
        sent_view, want_view, (osrc, odst) = views(direction, sess)
        known.add(c["id"])
        mine = [e for e in got if e["qid"] == c["id"] and e["dst"] == odst]
        n = c["name"]
        if c["expect"] == "drop":
            line("%s: nothing reaches the %s" % (n, where), 0, len(mine))
            grew = res["drops"].get(c["name"], {})
            if c["reason"]:
                line("%s: counted as %s" % (n, c["reason"]), 1, grew.get(c["reason"], 0))
            else:
                line("%s: dropped and counted (reasons that grew: %s)" %
                     (n, ",".join(sorted(grew)) or "none"), "yes", "yes" if grew else "no")
            continue
        if len(mine) != 1:
            line("%s: reaches the %s once" % (n, where), 1, len(mine))
            continue
        e = mine[0]
        qb = quoted_packet(c, want_view)  # what the receiver's own packet was
        qlen = len(truncate_quote(c, qb))
        errs = []
        if (e["src"], e["dst"]) != (osrc, odst):
            errs.append("outer %s->%s, want %s->%s" % (e["src"], e["dst"], osrc, odst))
        if not e["ip_ok"]:
            errs.append("outer ip checksum bad")
        if not e["icmp_ok"]:
            errs.append("icmp checksum bad")
        if (e["type"], e["code"]) != (c["type"], c["code"]):
            errs.append("type/code %d/%d" % (e["type"], e["code"]))
        if e["ttl"] != 63:
            errs.append("outer ttl %d, want 63 (decremented once)" % e["ttl"])
        want_mtu = MTU_FLOOR if c["expect"] == "floor" else c["mtu"]
        if c["type"] == 3 and c["code"] == 4 and e["mtu"] != want_mtu:
            errs.append("next-hop mtu %d, want %d" % (e["mtu"], want_mtu))
        if len(e["quote"]) != qlen:
            errs.append("quote of %d bytes, want %d" % (len(e["quote"]), qlen))
        got_view = (e.get("qsrc"), e.get("qsport"), e.get("qdst"), e.get("qdport"))
        if got_view != want_view:
            errs.append("quoted %s:%s->%s:%s, want %s:%s->%s:%s" % (got_view + want_view))
        if not e["qip_ok"]:
            errs.append("quoted ip header checksum bad")
        # Everything but the checksums (checked below) is the receiver's own packet's bytes:
        # TTL, id, options, lengths, sequence number, payload.
        mask = [10, 11, ihl_of(qb) + (6 if c["proto"] == "udp" else 16)]
        mask.append(mask[2] + 1)
        a, b = bytearray(e["quote"]), bytearray(truncate_quote(c, qb))
        for i in mask:
            if i < len(a) and i < len(b):
                a[i] = b[i] = 0
        if len(a) == len(b) and a != b:
            errs.append("quoted bytes differ at offset %d" %
                        next(i for i in range(len(a)) if a[i] != b[i]))
        if e["qopts"] != c["opts"]:
            errs.append("quoted ip options changed")
        ihl = e["qihl"]
        if c["proto"] == "udp":
            got_ck = struct.unpack("!H", e["ql4"][6:8])[0] if len(e["ql4"]) >= 8 else None
            if c["cksum0"]:
                # RFC 768: 0 is "no checksum"; an incremental update must leave it 0.
                if got_ck != 0:
                    errs.append("udp checksum 0x%04x, want 0 (as sent)" % got_ck)
            else:
                # The receiver's own datagram, whole: its checksum is what must be quoted,
                # whether the quote holds all of it or only the 8-byte header.
                want_ck = struct.unpack("!H", qb[ihl + 6:ihl + 8])[0]
                if got_ck != want_ck:
                    errs.append("quoted udp checksum 0x%04x, want 0x%04x" % (got_ck or 0,
                                                                             want_ck))
                if c["l4"] == "full" and l4_cksum(want_view[0], want_view[2], 17,
                                                  e["ql4"]) != 0:
                    errs.append("quoted udp segment does not verify")
        elif c["l4"] == "full":
            if l4_cksum(want_view[0], want_view[2], 6, e["ql4"]) != 0:
                errs.append("quoted tcp segment does not verify")
        line("%s: reaches the %s translated, bytes and checksums right" % (n, where), "ok",
             "; ".join(errs) or "ok")
    mine = [e for e in got if e["dst"] == views(direction, sessions["udp"])[2][1]]
    out.append("info: %s: %d ICMP errors reached the %s, %d of them test cases" %
               (direction, len(mine), where, sum(1 for e in mine if e["qid"] in known)))
    line("no ICMP sent back to the sender of the errors", 0, res["answers"])
    print("\n".join(out))


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "sniff" and len(sys.argv) in (6, 7):
        cmd_sniff(*sys.argv[2:])
    elif cmd == "send" and len(sys.argv) == 9:
        cmd_send(*sys.argv[2:])
    elif cmd == "check" and len(sys.argv) == 6:
        cmd_check(*sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
