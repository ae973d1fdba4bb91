#!/usr/bin/env python3
"""Drive tests/k8s/fake_apiserver.py from a test (stdlib only).

    fakectl.py URL apply [FILE|-] [--interval-ms N]   objects (one, a list, or YAML-free JSON)
    fakectl.py URL delete KIND NAMESPACE NAME
    fakectl.py URL get RESOURCE NAMESPACE NAME [PATH]  PATH like status.conditions[0].status;
                                                       prints the value (JSON if not a string)
    fakectl.py URL list RESOURCE
    fakectl.py URL requests
    fakectl.py URL state
    fakectl.py URL compact | close-watches | fail-clear
    fakectl.py URL token TOKEN
    fakectl.py URL fail METHOD PATH_RE CODE [COUNT]

URL is the control endpoint, e.g. http://127.0.0.1:6444. Exit status 1 when the server
answers an error (or the object does not exist), 2 on bad usage.
"""
import json
import re
import sys
import urllib.error
import urllib.request


def call(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def walk(obj, path):
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        if part.startswith("["):
            obj = obj[int(part[1:-1])]
        elif isinstance(obj, list):
            # a[type=Ready] style is not needed: conditions are found by type below
            obj = [o for o in obj if o.get("type") == part][0]
        else:
            obj = obj[part]
    return obj


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    url, cmd, args = argv[1], argv[2], argv[3:]
    if cmd == "apply":
        src = args[0] if args and not args[0].startswith("--") else "-"
        text = sys.stdin.read() if src == "-" else open(src).read()
        q = ""
        if "--interval-ms" in args:
            q = "?interval_ms=" + args[args.index("--interval-ms") + 1]
        code, out = call(url, "POST", "/ctl/apply" + q, json.loads(text))
    elif cmd == "delete":
        code, out = call(url, "POST", "/ctl/delete",
                         {"kind": args[0], "namespace": args[1], "name": args[2]})
    elif cmd == "get":
        code, out = call(url, "GET", "/ctl/get?resource=%s&namespace=%s&name=%s" %
                         (args[0], args[1], args[2]))
        if code == 200 and len(args) > 3:
            try:
                out = walk(out, args[3])
            except (KeyError, IndexError, TypeError):
                return 1
            if isinstance(out, str):
                print(out)
                return 0
    elif cmd == "list":
        code, out = call(url, "GET", "/ctl/list?resource=" + args[0])
    elif cmd in ("requests", "state"):
        code, out = call(url, "GET", "/ctl/" + cmd)
    elif cmd in ("compact", "close-watches", "fail-clear"):
        code, out = call(url, "POST", "/ctl/" + cmd, {})
    elif cmd == "token":
        code, out = call(url, "POST", "/ctl/token", {"token": args[0]})
    elif cmd == "fail":
        code, out = call(url, "POST", "/ctl/fail",
                         {"method": args[0], "path_re": args[1], "code": int(args[2]),
                          "count": int(args[3]) if len(args) > 3 else -1})
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out, separators=(",", ":")))
    return 0 if code < 400 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
