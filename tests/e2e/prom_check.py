#!/usr/bin/env python3
"""Check a Prometheus text exposition page (format 0.0.4) and read values from it.

    prom_check.py validate FILE           strict check; exit 1 with the offending line
    prom_check.py value FILE NAME [K=V]...  print the value of the one sample of NAME whose
                                          labels include every K=V; exit 1 if not exactly one

`validate` runs two parsers: a strict one written here (every sample belongs to the family
its HELP and TYPE lines announced, families are contiguous and appear once, names and labels
are well formed, no duplicate series, counters end in _total), and, when Debian's
python3-prometheus-client is installed, the reference parser of the Prometheus project.
"""
import math
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*)?,?\})? (\S+)(?: -?\d+)?$" % (NAME, LABEL, LABEL))
HELP = re.compile(r"^# HELP (%s) (.*)$" % NAME)
TYPE = re.compile(r"^# TYPE (%s) (counter|gauge|histogram|summary|untyped)$" % NAME)
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def fail(msg):
    print("prom_check: " + msg, file=sys.stderr)
    sys.exit(1)


def parse_value(v, line):
    try:
        return float(v)
    except ValueError:
        if v in ("+Inf", "-Inf", "NaN"):
            return float(v.replace("Inf", "inf").replace("NaN", "nan"))
        fail("bad value %r in: %s" % (v, line))


def strict_parse(text):
    """Return {(name, frozenset(labels)): value}."""
    if not text.endswith("\n"):
        fail("the page does not end with a newline")
    families, samples = {}, {}
    current, current_type, last_help = None, None, None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d: %s" % (n, line)
        if line.startswith("# HELP "):
            m = HELP.match(line)
            if not m:
                fail("bad HELP, " + where)
            if m.group(1) in families:
                fail("family %s appears twice, %s" % (m.group(1), where))
            last_help = m.group(1)
            families[last_help] = None
            current, current_type = None, None
            continue
        if line.startswith("# TYPE "):
            m = TYPE.match(line)
            if not m:
                fail("bad TYPE, " + where)
            if m.group(1) != last_help:
                fail("TYPE without its HELP, " + where)
            current, current_type = m.group(1), m.group(2)
            families[current] = current_type
            if current_type == "counter" and not current.endswith("_total"):
                fail("counter not named *_total, " + where)
            continue
        if line.startswith("#") or not line:
            fail("unexpected line, " + where)
        m = SAMPLE.match(line)
        if not m:
            fail("malformed sample, " + where)
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        if current is None or name != current:
            fail("sample outside its family (%s), %s" % (current, where))
        pairs = LABEL_RE.findall(labels)
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            fail("duplicate label, " + where)
        key = (name, frozenset(pairs))
        if key in samples:
            fail("duplicate series, " + where)
        v = parse_value(value, line)
        if current_type == "counter" and (v < 0 or math.isnan(v)):
            fail("negative counter, " + where)
        samples[key] = v
    if not samples:
        fail("no samples")
    return samples


def reference_parse(text):
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        return None
    n = 0
    for fam in text_string_to_metric_families(text):
        n += len(fam.samples)
    return n


def main():
    if len(sys.argv) < 3:
        fail(__doc__)
    text = open(sys.argv[2]).read()
    samples = strict_parse(text)
    if sys.argv[1] == "validate":
        ref = reference_parse(text)
        if ref is not None and ref != len(samples):
            fail("prometheus_client saw %d samples, the strict parser %d" % (ref, len(samples)))
        print("valid: %d families, %d samples%s" % (
            len({k[0] for k in samples}), len(samples),
            "" if ref is None else ", prometheus_client agrees"))
    elif sys.argv[1] == "value":
        want = dict(a.split("=", 1) for a in sys.argv[4:])
        hits = [v for (name, labels), v in samples.items()
                if name == sys.argv[3] and all(dict(labels).get(k) == x for k, x in want.items())]
        if len(hits) != 1:
            fail("%d samples of %s with %s" % (len(hits), sys.argv[3], want))
        v = hits[0]
        print(int(v) if v == int(v) else v)
    else:
        fail(__doc__)


if __name__ == "__main__":
    main()
