#!/usr/bin/env python3
"""Servers that say which pod they are, and clients that watch one connection (stdlib only).

    probe.py tcp-serve PORT NAME     each line received is answered with "NAME\\n"
    probe.py udp-serve PORT NAME     a datagram starting with "seq:" or "warm" is echoed (so
                                     tests/k8s/udp_stream.py can stream through it), any
                                     other is answered with "NAME"
    probe.py tcp-once HOST PORT [--src ADDR] [--timeout S]
                                     one connection, one "PING": prints the answering NAME;
                                     exit 1 if refused, reset or unanswered within S (3)
    probe.py udp-who HOST PORT SPORT [--timeout S]
                                     one datagram from source port SPORT (the same 5-tuple
                                     every time, so the same NAT session): prints the NAME
    probe.py tcp-client HOST PORT OUT [--src ADDR] [--interval S] [--stop-file F]
                                     one long-lived connection, a "PING" every S (0.1 s),
                                     each answered within 3 s; appends to OUT, flushed:
                                       ok EPOCH NAME           an answer
                                       end EPOCH REASON        and exits: reset (ECONNRESET),
                                                               timeout, closed (FIN), stopped
                                                               (F exists), connect-failed, ...
"""
import errno
import os
import socket
import sys
import threading
import time


def opt(argv, name, default):
    return argv[argv.index(name) + 1] if name in argv else default


def tcp_serve(port, name):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", port))
    srv.listen(128)
    reply = name.encode() + b"\n"

    def serve(c):
        buf = b""
        try:
            while True:
                data = c.recv(4096)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    _, buf = buf.split(b"\n", 1)
                    c.sendall(reply)
        except OSError:
            pass
        finally:
            c.close()

    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def udp_serve(port, name):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # As udp_stream.py's echo: a datagram lost to a full socket buffer is not the gateway's.
    for force, o in ((33, socket.SO_RCVBUF), (32, socket.SO_SNDBUF)):
        try:
            s.setsockopt(socket.SOL_SOCKET, force, 4 << 20)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, o, 4 << 20)
    s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data if data[:4] in (b"seq:", b"warm") else name.encode(), peer)


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(256)
        if not chunk:
            raise EOFError
        buf += chunk
    return buf.decode().strip()


def connect(host, port, src, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def tcp_once(argv):
    host, port = argv[2], int(argv[3])
    try:
        s = connect(host, port, opt(argv, "--src", None), float(opt(argv, "--timeout", 3)))
        s.sendall(b"PING\n")
        print(read_line(s))
        return 0
    except (OSError, EOFError) as e:
        print("error %r" % e, file=sys.stderr)
        return 1


def udp_who(argv):
    host, port, sport = argv[2], int(argv[3]), int(argv[4])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", sport))
    s.settimeout(float(opt(argv, "--timeout", 2)))
    try:
        s.sendto(b"who", (host, port))
        data, _ = s.recvfrom(2048)
    except OSError as e:
        print("error %r" % e, file=sys.stderr)
        return 1
    print(data.decode())
    return 0


def tcp_client(argv):
    host, port, out = argv[2], int(argv[3]), argv[4]
    src = opt(argv, "--src", None)
    interval = float(opt(argv, "--interval", 0.1))
    stop_file = opt(argv, "--stop-file", None)
    f = open(out, "a", buffering=1)

    def end(reason):
        f.write("end %.3f %s\n" % (time.time(), reason))
        return 0

    try:
        s = connect(host, port, src, 3)
    except OSError as e:
        return end("connect-failed " + (errno.errorcode.get(e.errno, "") or repr(e)))
    s.settimeout(3)
    while True:
        if stop_file and os.path.exists(stop_file):
            return end("stopped")
        try:
            s.sendall(b"PING\n")
            name = read_line(s)
        except ConnectionResetError:
            return end("reset")
        except socket.timeout:
            return end("timeout")
        except EOFError:
            return end("closed")
        except OSError as e:
            return end(errno.errorcode.get(e.errno, "error"))
        f.write("ok %.3f %s\n" % (time.time(), name))
        time.sleep(interval)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "tcp-serve":
        tcp_serve(int(argv[2]), argv[3])
    elif cmd == "udp-serve":
        udp_serve(int(argv[2]), argv[3])
    elif cmd == "tcp-once":
        return tcp_once(argv)
    elif cmd == "udp-who":
        return udp_who(argv)
    elif cmd == "tcp-client":
        return tcp_client(argv)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
