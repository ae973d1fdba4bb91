#!/usr/bin/env python3
"""Tiny servers for the netns "pods" of scripts/topo.sh (stdlib only).

    pod_http.py http NAME [PORT]     GET -> "NAME\n"; POST/PUT -> the body echoed back,
                                     with X-Body-Sha256 of what arrived (so a test can tell
                                     which direction corrupted a transfer)
    pod_http.py udp-echo [PORT]      echo every datagram's bytes back to its sender
    pod_http.py udp-client HOST PORT [TIMEOUT_S]
                                     send stdin as one datagram, print the reply to stdout;
                                     exit 1 on timeout (socat cannot stop at the first reply)

Every GET answers with the pod's name so that a client behind the NAT can see which backend
a mapping chose.
"""
import hashlib
import http.server
import socket
import sys

MAX_BODY = 256 << 20  # refuse anything absurd rather than run the pod out of memory


def serve_http(name, port):
    reply = (name + "\n").encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so every curl is a new 5-tuple (and a new
        # NAT session) and no keep-alive pins a client to one backend.
        protocol_version = "HTTP/1.0"
        server_version = "strait-pod/1"

        def do_GET(self):
            self._send(200, reply, {"Content-Type": "text/plain"})

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length < 0 or length > MAX_BODY:
                self._send(413, b"too large\n", {})
                return
            # Read the whole body before answering: a client that sends everything before it
            # reads would deadlock against a streaming echo once the socket buffers fill.
            chunks, left = [], length
            while left:
                chunk = self.rfile.read(min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
            body = b"".join(chunks)
            self._send(200, body, {"Content-Type": "application/octet-stream",
                                   "X-Pod": name,
                                   "X-Body-Sha256": hashlib.sha256(body).hexdigest()})

        do_PUT = do_POST

        def _send(self, code, body, headers):
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            pass  # a benchmark's thousands of requests would only fill the log

    srv = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


def serve_udp_echo(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def udp_client(host, port, timeout_s):
    payload = sys.stdin.buffer.read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout_s)
    s.connect((host, port))  # connected: replies from any other address are not ours
    s.send(payload)
    try:
        data = s.recv(65535)
    except (socket.timeout, ConnectionRefusedError) as e:
        print("udp-client: no reply from %s:%d: %s" % (host, port, e), file=sys.stderr)
        return 1
    sys.stdout.buffer.write(data)
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "http":
        serve_http(argv[1], int(argv[2]) if len(argv) > 2 else 80)
    elif len(argv) >= 1 and argv[0] == "udp-echo":
        serve_udp_echo(int(argv[1]) if len(argv) > 1 else 7)
    elif len(argv) >= 3 and argv[0] == "udp-client":
        return udp_client(argv[1], int(argv[2]), float(argv[3]) if len(argv) > 3 else 3.0)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
