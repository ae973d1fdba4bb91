#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

From files of this tree (config/, config/examples, config/deploy, config/crd, tests/unit/data,
tests/data/k8s-wire) and hand-made inputs: kubeconfigs, annotations, CLI lines, and the
frames of nat_fuzz and parse_fuzz, built here byte by byte (Ethernet, IPv4, TCP, UDP, ICMP
errors with quoted headers, fragments, ARP, TTL 1) with correct checksums. Deterministic:
running it again rewrites the same files. Usage: python3 tests/fuzz/make_corpus.py
"""
import glob
import re
import hashlib
import json
import os
import shutil
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'tests', 'fuzz', 'corpus')
WIRE = os.path.join(ROOT, 'tests', 'data', 'k8s-wire')
# Corpora seeded by hand, which this script keeps as they are.
BY_HAND = ['sync_fuzz']  # commit 240776c

# Kinds in K8S_KINDS order (include/strait/k8s_kinds.h): the first byte of list_fuzz.
# The recorded list of each kind that has one (tests/data/k8s-wire).
LISTS = {'Mapping': 'mappings-list.json', 'Service': 'services-list.json',
         'EndpointSlice': 'endpointslices-v1beta1-list.json',
         'StatefulSet': 'statefulsets-list.json', 'Pod': 'pods-list.json',
         'Node': 'nodes-list.json'}


def kind_order():
    """The kinds in K8S_KINDS order (include/strait/k8s_kinds.h): watch_fuzz and list_fuzz
    take the kind's index from an input's first byte."""
    with open(os.path.join(ROOT, 'include', 'strait', 'k8s_kinds.h')) as f:
        return re.findall(r'X\([A-Z_]+, "([A-Za-z]+)"', f.read())


KINDS = kind_order()


def read(path):
    with open(path, 'rb') as f:
        return f.read()


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def files(*patterns):
    out = []
    for p in patterns:
        out += sorted(glob.glob(os.path.join(ROOT, p)))
    return out


def slug(path):
    return os.path.relpath(path, ROOT).replace('/', '_')


# ---------------------------------------------------------------- config, mapping, YAML
def config_seeds():
    for p in files('config/*.yaml', 'tests/unit/data/*.yaml'):
        put('config_fuzz', slug(p), read(p))
    put('config_fuzz', 'minimal.yaml', 'ports:\n  ext: {device: net_null0, addresses: '
        '[198.51.100.1/24]}\n  int: {device: net_null1, addresses: [10.0.0.1/24]}\n')
    put('config_fuzz', 'alias.yaml', 'a: &a [1, 2]\nb: [*a, *a]\nports: *a\n')


MAPPINGS = [
    '{name: web, addresses: [198.51.100.1], ports: [{port: 8080, servicePort: 80}], '
    'backends: [{address: 10.0.0.11}, {address: 10.0.0.12, weight: 2}]}',
    '{name: echo, namespace: dev, addresses: [198.51.100.1], ports: [{port: 7777, '
    'servicePort: 7, protocol: udp}], backends: [{address: 10.0.0.11}]}',
    '{name: kafka, namespace: prod, addresses: [198.51.100.1], ports: [{port: 9094, '
    'servicePort: 9092}, {port: 30000, endPort: 30009, protocol: udp}], '
    'backends: [{address: 10.0.0.13}], allowedSources: [192.0.2.0/24], nat: preserveSource}',
    '{name: broker-0, ordinal: 0, addresses: [198.51.100.1], ports: [{port: 32000, '
    'servicePort: 9092}], backends: [{address: 10.0.0.12, port: 9092}], '
    'timeouts: {udp: 60, tcpEstablished: 3600}}',
    'name: block\naddresses:\n- 198.51.100.1\nports:\n- port: 80\n  servicePort: http\n'
    'backends:\n- address: 10.0.0.11\n',
    '{"name": "json", "addresses": ["198.51.100.1"], "ports": [{"port": 443}], '
    '"backends": [{"address": "10.0.0.11"}]}',
]


def mapping_seeds():
    for i, m in enumerate(MAPPINGS):
        put('mapping_fuzz', 'mapping-%d.yaml' % i, m)
    for p in files('tests/unit/data/mapping_*.yaml'):
        put('mapping_fuzz', slug(p), read(p))


def yaml_seeds():
    for p in files('config/*.yaml', 'config/examples/*.yaml', 'config/deploy/*.yaml',
                   'config/crd/*.yaml', 'tests/unit/data/*.yaml'):
        put('k8s_yaml_fuzz', slug(p), read(p))
    put('k8s_yaml_fuzz', 'scalars.yaml', '---\na: true\nb: ~\nc: 0x1f\nd: 1.5e3\ne: "1"\n'
        'f: [yes, No, .inf, -.NaN, 0o17]\n---\n- &x {k: v}\n- *x\n...\n')


# ---------------------------------------------------------------- Kubernetes wire
def dechunk(raw):
    """The body of an HTTP/1.1 chunked transfer (RFC 9112 §7.1), as curl hands it over."""
    out, i = b'', 0
    while i < len(raw):
        j = raw.index(b'\r\n', i)
        n = int(raw[i:j].split(b';')[0], 16)
        if n == 0:
            break
        out += raw[j + 2:j + 2 + n]
        i = j + 2 + n + 2
    return out


def event_lines(typ, items):
    return b''.join(json.dumps({'type': typ, 'object': it}, separators=(',', ':')).encode()
                    + b'\n' for it in items)


def strip(obj):
    obj.get('metadata', {}).pop('managedFields', None)
    return obj


def watch_seeds():
    for name in ['services-watch.jsonl', 'services-watch-too-old.jsonl']:
        body = read(os.path.join(WIRE, name))
        put('watch_fuzz', name + '.whole', b'\x00' + body)
        put('watch_fuzz', name + '.split', b'\x07' + body)
    raw = read(os.path.join(WIRE, 'services-watch.raw-chunked.txt'))
    try:
        put('watch_fuzz', 'services-watch.dechunked', b'\x2a' + dechunk(raw))
    except (ValueError, IndexError):
        pass
    # One stream per kind from its recorded list: ADDED, MODIFIED, DELETED, a BOOKMARK.
    for kind, name in LISTS.items():
        k = KINDS.index(kind)
        doc = json.loads(read(os.path.join(WIRE, name)))
        items = [strip(it) for it in doc['items']][:3]
        api = doc.get('apiVersion', 'v1')
        for it in items:
            it.setdefault('kind', kind)
            it.setdefault('apiVersion', api)
        body = event_lines('ADDED', items) + event_lines('MODIFIED', items[:1]) + \
            event_lines('DELETED', items[1:2]) + \
            b'{"type":"BOOKMARK","object":{"kind":"%s","apiVersion":"%s","metadata":' \
            b'{"resourceVersion":"999"}}}\n' % (kind.encode(), api.encode())
        put('watch_fuzz', 'events-%s' % kind.lower(), bytes([k]) + body)
    put('watch_fuzz', 'error-410', b'\x00{"type":"ERROR","object":{"kind":"Status",'
        b'"apiVersion":"v1","status":"Failure","message":"too old resource version",'
        b'"reason":"Expired","code":410}}\r\n')


def list_seeds():
    for kind, name in LISTS.items():
        k = KINDS.index(kind)
        body = read(os.path.join(WIRE, name))
        doc = json.loads(body)
        for it in doc['items']:
            strip(it)
        put('list_fuzz', name, bytes([k]) + json.dumps(doc, separators=(',', ':')).encode())
    for p in files('tests/data/k8s-wire/error-*.json'):
        put('list_fuzz', os.path.basename(p), b'\x01' + read(p))
    put('list_fuzz', 'empty-null', b'\x02{"kind":"List","metadata":{"resourceVersion":"7",'
        b'"continue":"abc"},"items":null}')


def json_decode_seeds():
    """json_decode_fuzz: the recorded bodies (first byte 1: managedFields left out), and
    texts at JSON's edges: escapes, a surrogate pair, numbers at their limits, nesting."""
    for p in files('tests/data/k8s-wire/*.json'):
        put('json_decode_fuzz', os.path.basename(p), b'\x01' + read(p))
    put('json_decode_fuzz', 'escapes', b'\x00["\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9'
        b'\\ud83d\\ude00","\xc3\xa9\xf0\x9f\x98\x80",{"\\u00e9":""}]')
    put('json_decode_fuzz', 'numbers', b'\x00[9223372036854775807,-9223372036854775808,-0,'
        b'1.5,-0.0,1E2,1e-2,2.5e+3,1e308,1e-400,true,false,null]')
    # The same slices with the anchors of every shape (byte 0: 3) and the informers' keep (5).
    es = read(os.path.join(WIRE, 'endpointslices-v1beta1-list.json'))
    put('json_decode_fuzz', 'endpointslices-keep-anchors', b'\x03' + es)
    put('json_decode_fuzz', 'endpointslices-keep-informer', b'\x05' + es)
    put('json_decode_fuzz', 'nested', b'\x01{"metadata":{"managedFields":[{"a":[1,{}]}],'
        b'"name":"x"},"spec":{"managedFields":1},"m":[[[[{"metadata":[]}]]]]}')


def extra_objects():
    """Objects of the kinds with no recorded list: the Gateway API examples (with a
    GatewayClass of strait's), the l7mp seed, a LoadBalancer Service and a Namespace."""
    import yaml  # python3-yaml
    objs = []
    for p in files('tests/data/gateway-api/example-*.yaml', 'tests/data/l7mp/*.yaml'):
        objs += [o for o in yaml.safe_load_all(read(p)) if isinstance(o, dict)]
    objs.append({'apiVersion': 'gateway.networking.k8s.io/v1', 'kind': 'GatewayClass',
                 'metadata': {'name': 'my-tcp-gateway-class'},
                 'spec': {'controllerName': 'strait.io/gateway-controller'}})
    objs.append({'apiVersion': 'gateway.networking.k8s.io/v1beta1', 'kind': 'ReferenceGrant',
                 'metadata': {'name': 'g', 'namespace': 'default'},
                 'spec': {'from': [{'group': 'gateway.networking.k8s.io', 'kind': 'TCPRoute',
                                    'namespace': 'other'}],
                          'to': [{'group': '', 'kind': 'Service'}]}})
    objs.append({'apiVersion': 'v1', 'kind': 'Namespace',
                 'metadata': {'name': 'default', 'labels': {'team': 'a'}}})
    objs.append({'apiVersion': 'v1', 'kind': 'Service',
                 'metadata': {'name': 'lb', 'namespace': 'default',
                              'annotations': {'strait.io/allow-shared-ip': 'k'}},
                 'spec': {'type': 'LoadBalancer', 'loadBalancerClass': 'strait.io/gateway',
                          'externalTrafficPolicy': 'Local', 'sessionAffinity': 'ClientIP',
                          'ports': [{'port': 9092, 'protocol': 'TCP', 'targetPort': 9092}]}})
    return objs


def new_kind_seeds():
    by_kind = {}
    for o in extra_objects():
        by_kind.setdefault(o['kind'], []).append(o)
    for kind, items in sorted(by_kind.items()):
        if kind not in KINDS:
            continue
        k = KINDS.index(kind)
        api = items[0].get('apiVersion', 'v1')
        doc = {'kind': kind + 'List', 'apiVersion': api, 'metadata': {'resourceVersion': '5'},
               'items': items}
        put('list_fuzz', 'extra-%s' % kind.lower(),
            bytes([k]) + json.dumps(doc, separators=(',', ':')).encode())
        put('watch_fuzz', 'extra-events-%s' % kind.lower(),
            bytes([k]) + event_lines('ADDED', items) + event_lines('MODIFIED', items[:1]))


KUBECONFIGS = [
    'apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: c1\n  cluster:\n'
    '    server: https://127.0.0.1:6443/\n    certificate-authority-data: '
    'LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQQo=\nusers:\n- name: u1\n'
    '  user: {token: abc.def.ghi}\ncontexts:\n- name: dev\n  context: {cluster: other, '
    'user: u1}\n- name: prod\n  context: {cluster: c1, user: u1, namespace: kafka}\n',
    'current-context: x\nclusters: [{name: c, cluster: {server: "http://h:8080", '
    'insecure-skip-tls-verify: true, certificate-authority: ca.crt}}]\nusers: [{name: u, '
    'user: {client-certificate: certs/me.crt, client-key: /abs/me.key, tokenFile: tok}}]\n'
    'contexts: [{name: x, context: {cluster: c, user: u}}]\n',
    'current-context: x\nclusters: [{name: c, cluster: {server: "https://h"}}]\nusers: '
    '[{name: u, user: {client-certificate-data: QUJD, client-key-data: REVG}}]\n'
    'contexts: [{name: x, context: {cluster: c, user: u}}]\n',
    'current-context: x\nclusters: [{name: c, cluster: {server: "https://h"}}]\nusers: '
    '[{name: u, user: {exec: {command: aws}}}]\ncontexts: [{name: x, context: {cluster: c, '
    'user: u}}]\n',
    'current-context: x\nclusters: [{name: c, cluster: {server: "https://h"}}]\n'
    'contexts: [{name: x, context: {cluster: c}}]\n',
]


def kubeconfig_seeds():
    for i, k in enumerate(KUBECONFIGS):
        put('kubeconfig_fuzz', 'kubeconfig-%d' % i, k)


ANNOTATIONS = [
    '{"prefix": "broker-", "start_port": 32000, "target_port": 9092}',
    '{"prefix": "domain-", "start_port": 32000}',
    '{"prefix": "game-", "start_port": 31000, "target_port": 7000, "protocol": "UDP", '
    '"address": "198.51.100.1", "bootstrap_port": 30999}',
    '{"prefix": "x-", "start_port": 65535, "target_port": 0}',
    '["not", "an", "object"]',
]


def portmap_seeds():
    for i, a in enumerate(ANNOTATIONS):
        put('portmap_fuzz', 'annotation-%d' % i, bytes([(i * 5) % 24]) + a.encode())


CLI = ['help', 'show mappings', 'show backends', 'show config', 'show ports', 'show stats',
       'show workers', 'show neighbors', 'show sessions', 'show sessions limit 1',
       'show sessions mapping echo limit 1', 'show sessions mapping prod/kafka',
       'clear sessions', 'clear sessions mapping echo', 'set timeout udp 120',
       'set timeout tcp 5', 'del mapping ops', 'del mapping dev/echo', 'frobnicate now',
       '   # a comment', 'show ports extra', 'quit',
       'add mapping {name: ops, addresses: [198.51.100.1], ports: [{port: 9001, '
       'servicePort: 9000}], backends: [{address: 10.0.0.11}]}',
       'add mapping {name: echo, namespace: dev, addresses: [198.51.100.1], ports: [{port: '
       '7000, protocol: udp}], backends: [{address: 10.0.0.12}]}']


def cli_seeds():
    for i, line in enumerate(CLI):
        put('cli_fuzz', 'line-%02d' % i, line)


# ---------------------------------------------------------------- packets
MAC_EXT = bytes([0x02, 0xe0, 0, 0, 0, 1])  # any: nat_fuzz sets the arm's MAC
MAC_PEER = bytes([0x02, 0xc1, 0, 0, 0, 2])


def ip(s):
    return bytes(int(x) for x in s.split('.'))


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ipv4(src, dst, proto, payload, ttl=64, ident=0x1234, flags_off=0, total=None):
    tl = total if total is not None else 20 + len(payload)
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, tl, ident, flags_off, ttl, proto, 0, ip(src),
                    ip(dst))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload


def l4sum(src, dst, proto, seg):
    return csum(ip(src) + ip(dst) + struct.pack('!BBH', 0, proto, len(seg)) + seg)


def tcp(src, sport, dst, dport, flags, data=b'', seq=1):
    h = struct.pack('!HHIIBBHHH', sport, dport, seq, 0, 5 << 4, flags, 0xffff, 0, 0) + data
    c = l4sum(src, dst, 6, h)
    return h[:16] + struct.pack('!H', c) + h[18:]


def udp(src, sport, dst, dport, data=b'', zero=False):
    h = struct.pack('!HHHH', sport, dport, 8 + len(data), 0) + data
    c = 0 if zero else (l4sum(src, dst, 17, h) or 0xffff)
    return h[:6] + struct.pack('!H', c)


def udp_full(src, sport, dst, dport, data=b'', zero=False):
    return udp(src, sport, dst, dport, data, zero) + data


def icmp(typ, code, rest, data):
    h = struct.pack('!BBH', typ, code, 0) + rest + data
    return h[:2] + struct.pack('!H', csum(h)) + h[4:]


def eth(payload, etype=0x0800, dst=MAC_EXT):
    return dst + MAC_PEER + struct.pack('!H', etype) + payload


def arp(op, sha, sip, tha, tip):
    return struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + sha + ip(sip) + tha + ip(tip)


def rec(arm, frame, raw=False, keep_mac=False, new_burst=False, split=False, clock=0):
    ctl = arm | raw << 1 | keep_mac << 2 | new_burst << 3 | split << 4 | clock << 5
    return bytes([ctl]) + struct.pack('!H', len(frame)) + frame


EXT, INT = 0, 1
VIP, CLIENT, GW_INT = '198.51.100.1', '198.51.100.2', '10.0.0.1'
# nat_fuzz's presessions: client 198.51.100.2:40000 → web 8080 (backends 10.0.0.11-13:80),
# :5000 → echo 7777 (→ :7), 203.0.113.9:6000 → range 30005 (→ 10.0.0.13:40005),
# 192.0.2.7:5353 → allow 9100, :5001 → keep-src 9000 (preserveSource), :40001 → routed 8443.
# SNAT ports start at 1024 (one worker), in the order of those sessions: web 1024, echo 1025,
# range 1026, allow 1027, routed 1028. Maglev puts web's and echo's client on 10.0.0.13.


def frames():
    """(name, nat_fuzz input, the first frame alone for parse_fuzz)."""
    out = []
    payload = bytes(range(32))
    syn = eth(ipv4(CLIENT, VIP, 6, tcp(CLIENT, 41000, VIP, 8080, 0x02)))
    out.append(('tcp-syn-web', rec(EXT, syn)))
    ack = eth(ipv4(CLIENT, VIP, 6, tcp(CLIENT, 40000, VIP, 8080, 0x10, payload)))
    out.append(('tcp-ack-existing', rec(EXT, ack)))
    for be in ('10.0.0.11', '10.0.0.12', '10.0.0.13'):
        synack = eth(ipv4(be, GW_INT, 6, tcp(be, 80, GW_INT, 1024, 0x12)))
        out.append(('tcp-synack-%s' % be, rec(INT, synack)))
    rst = eth(ipv4(CLIENT, VIP, 6, tcp(CLIENT, 40000, VIP, 8080, 0x04)))
    fin = eth(ipv4(CLIENT, VIP, 6, tcp(CLIENT, 40000, VIP, 8080, 0x11)))
    out.append(('tcp-fin-rst', rec(EXT, fin) + rec(EXT, rst, new_burst=True)))
    u = eth(ipv4(CLIENT, VIP, 17, udp_full(CLIENT, 5000, VIP, 7777, payload)))
    out.append(('udp-echo', rec(EXT, u)))
    u0 = eth(ipv4(CLIENT, VIP, 17, udp_full(CLIENT, 5002, VIP, 7777, payload, zero=True)))
    out.append(('udp-zero-cksum', rec(EXT, u0)))
    for be in ('10.0.0.11', '10.0.0.12', '10.0.0.13'):
        r = eth(ipv4(be, GW_INT, 17, udp_full(be, 7, GW_INT, 1025, payload)))
        out.append(('udp-reply-%s' % be, rec(INT, r)))
    rng = eth(ipv4('203.0.113.9', VIP, 17, udp_full('203.0.113.9', 6001, VIP, 30009, payload)))
    out.append(('udp-port-range', rec(EXT, rng)))
    rr = eth(ipv4('10.0.0.13', GW_INT, 17, udp_full('10.0.0.13', 40005, GW_INT, 1026, payload)))
    out.append(('udp-port-range-reply', rec(INT, rr)))
    al = eth(ipv4('192.0.2.7', VIP, 17, udp_full('192.0.2.7', 5354, VIP, 9100, payload)))
    out.append(('udp-allowed', rec(EXT, al)))
    na = eth(ipv4('203.0.113.7', VIP, 17, udp_full('203.0.113.7', 5354, VIP, 9100, payload)))
    out.append(('udp-not-allowed', rec(EXT, na)))
    ks = eth(ipv4('10.0.0.13', CLIENT, 17, udp_full('10.0.0.13', 9000, CLIENT, 5001, payload)))
    out.append(('udp-preserve-source-reply', rec(INT, ks)))
    rt = eth(ipv4('10.244.1.5', GW_INT, 6, tcp('10.244.1.5', 443, GW_INT, 1028, 0x12)))
    out.append(('tcp-routed-reply', rec(INT, rt)))
    # ICMP errors quoting a session's packet: from a pod (frag needed) and from the outside.
    q = ipv4(GW_INT, '10.0.0.11', 6, tcp(GW_INT, 1024, '10.0.0.11', 80, 0x10, payload))
    for be in ('10.0.0.11', '10.0.0.12', '10.0.0.13'):
        qb = ipv4(GW_INT, be, 6, tcp(GW_INT, 1024, be, 80, 0x10, payload))
        e = eth(ipv4(be, GW_INT, 1, icmp(3, 4, struct.pack('!HH', 0, 1400), qb[:28 + 20])))
        out.append(('icmp-frag-needed-from-%s' % be, rec(INT, e)))
    qe = ipv4(VIP, CLIENT, 17, udp_full(VIP, 7777, CLIENT, 5000, payload))
    e = eth(ipv4('198.51.100.254', VIP, 1, icmp(3, 3, b'\0' * 4, qe[:28])))
    out.append(('icmp-port-unreach-from-ext', rec(EXT, e)))
    e = eth(ipv4('203.0.113.1', VIP, 1, icmp(11, 0, b'\0' * 4, qe)))
    out.append(('icmp-time-exceeded-from-ext', rec(EXT, e)))
    q3 = ipv4(GW_INT, '10.0.0.13', 6, tcp(GW_INT, 1024, '10.0.0.13', 80, 0x10, payload))
    e = eth(ipv4('10.0.0.13', GW_INT, 1, icmp(12, 0, b'\x14\0\0\0', q3[:28])))
    out.append(('icmp-param-problem', rec(INT, e)))
    echo = eth(ipv4(CLIENT, VIP, 1, icmp(8, 0, struct.pack('!HH', 7, 1), payload)))
    out.append(('icmp-echo-vip', rec(EXT, echo)))
    echo_int = eth(ipv4('10.0.0.11', GW_INT, 1, icmp(8, 0, struct.pack('!HH', 7, 1), payload)))
    out.append(('icmp-echo-int', rec(INT, echo_int)))
    # Fragments: a first fragment makes the session, the later ones follow it.
    data = udp(CLIENT, 5003, VIP, 7777, bytes(64)) + bytes(64)  # 72-byte datagram
    f1 = eth(ipv4(CLIENT, VIP, 17, data[:32], ident=0x4242, flags_off=0x2000))
    f2 = eth(ipv4(CLIENT, VIP, 17, data[32:64], ident=0x4242, flags_off=0x2000 | 4))
    f3 = eth(ipv4(CLIENT, VIP, 17, data[64:], ident=0x4242, flags_off=8))
    out.append(('frag-in-one-burst', rec(EXT, f1) + rec(EXT, f2) + rec(EXT, f3)))
    out.append(('frag-later-first', rec(EXT, f3) + rec(EXT, f1, new_burst=True) +
                rec(EXT, f2, new_burst=True)))
    out.append(('frag-later-alone', rec(EXT, f2)))
    # ARP: a request for the VIP and for the int address, a reply that resolves a parked
    # next hop, a gratuitous one.
    req = eth(arp(1, MAC_PEER, CLIENT, bytes(6), VIP), 0x0806, b'\xff' * 6)
    out.append(('arp-request-vip', rec(EXT, req, keep_mac=True)))
    req = eth(arp(1, bytes([2, 0xb0, 0, 0, 0, 11]), '10.0.0.11', bytes(6), GW_INT), 0x0806,
              b'\xff' * 6)
    out.append(('arp-request-int', rec(INT, req, keep_mac=True)))
    park = eth(ipv4('198.51.100.77', VIP, 6, tcp('198.51.100.77', 1234, VIP, 8080, 0x02)))
    rep = eth(arp(2, bytes([2, 0xc1, 0, 0, 0, 77]), '198.51.100.77', MAC_EXT, VIP), 0x0806)
    # The SYN-ACK back to 198.51.100.77 (7th session: SNAT port 1029; whichever backend
    # Maglev chose) waits in the slow path for its ARP reply.
    back = b''.join(rec(INT, eth(ipv4(be, GW_INT, 6, tcp(be, 80, GW_INT, 1029, 0x12))))
                    for be in ('10.0.0.11', '10.0.0.12', '10.0.0.13'))
    out.append(('arp-reply-unparks', rec(EXT, park) + back + rec(EXT, rep, new_burst=True)))
    # TTL: 1 goes to the slow path (time exceeded), 0 too; an ICMP error with TTL 1.
    t1 = eth(ipv4(CLIENT, VIP, 17, udp_full(CLIENT, 5000, VIP, 7777, payload), ttl=1))
    out.append(('ttl-1', rec(EXT, t1)))
    t1i = eth(ipv4('10.0.0.13', GW_INT, 6, tcp('10.0.0.13', 80, GW_INT, 1024, 0x10), ttl=1))
    out.append(('ttl-1-int', rec(INT, t1i)))
    # Sessions that time out: the clock jumps 7 × 50 s before the second packet.
    out.append(('udp-after-timeout', rec(EXT, u) + rec(EXT, u, clock=7)))
    # Multi-segment mbuf, raw (bad checksums), wrong MAC, options, truncated, bad ethertype.
    out.append(('two-segments', rec(EXT, syn, split=True)))
    bad = bytearray(u)
    bad[14 + 10] ^= 0xff
    out.append(('raw-bad-ip-cksum', rec(EXT, bytes(bad), raw=True)))
    out.append(('not-our-mac', rec(EXT, eth(ipv4(CLIENT, VIP, 17, udp_full(CLIENT, 1, VIP, 2)),
                                             dst=b'\x02\x99\0\0\0\1'), keep_mac=True)))
    opt = bytearray(ipv4(CLIENT, VIP, 17, b''))
    opt[0] = 0x46
    opt = bytes(opt[:20]) + b'\x01\x01\x01\x00' + udp_full(CLIENT, 5000, VIP, 7777, payload)
    opt = opt[:2] + struct.pack('!H', len(opt)) + opt[4:]
    out.append(('ip-options', rec(EXT, eth(opt))))
    out.append(('truncated', rec(EXT, syn[:30])))
    out.append(('ipv6-ethertype', rec(EXT, eth(bytes(40), 0x86dd))))
    out.append(('mixed-burst', rec(EXT, syn) + rec(EXT, u) + rec(INT, echo_int) + rec(EXT, t1)))
    return out


def nat_seeds():
    for name, data in frames():
        put('nat_fuzz', name, data)
        # parse_fuzz takes a bare frame: the first record's.
        n = struct.unpack('!H', data[1:3])[0]
        put('parse_fuzz', name, data[3:3 + n])


def regression_seeds():
    """The reproducers of fixed findings (tests/fuzz/regressions/<target>/): seeds too."""
    for p in files('tests/fuzz/regressions/*/*'):
        put(os.path.basename(os.path.dirname(p)), 'regression-' + os.path.basename(p), read(p))


def main():
    if os.path.isdir(OUT):
        for d in os.listdir(OUT):
            if d not in BY_HAND:
                shutil.rmtree(os.path.join(OUT, d))
    config_seeds()
    mapping_seeds()
    yaml_seeds()
    watch_seeds()
    list_seeds()
    json_decode_seeds()
    new_kind_seeds()
    kubeconfig_seeds()
    portmap_seeds()
    cli_seeds()
    nat_seeds()
    regression_seeds()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(OUT) for f in fs)
    print('corpus: %d bytes in %s' % (total, os.path.relpath(OUT, ROOT)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
