#!/usr/bin/python3
"""ds_to_podman.py DAEMONSET_YAML NODE POD CONFIG_DIR: the `podman run` options that give the
DaemonSet's container what the kubelet would give it, one per line, then the image's args.

From the manifest: capabilities (drop, add), privileged, allowPrivilegeEscalation, env
(value, and the downward API's spec.nodeName, metadata.name, metadata.namespace as this
node and pod would get them), the ConfigMap volume's mountPath (CONFIG_DIR is mounted there
read-only, standing in for the ConfigMap), emptyDir volumes without a medium (tmpfs), and the
args with $(VAR) expanded from that env as the kubelet does. What podman cannot reproduce here
is left out and listed on stderr: resources (no cgroup limits in this sandbox), the
HugePages emptyDir (no hugepages), probes, the image name.
"""
import re
import sys

import yaml

path, node, pod, config_dir = sys.argv[1:5]
ds = next(d for d in yaml.safe_load_all(open(path)) if d and d.get("kind") == "DaemonSet")
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
meta = {"spec.nodeName": node, "metadata.name": pod, "metadata.namespace": ds["metadata"]["namespace"]}
opts, env, skipped = [], {}, ["resources", "probes"]

sc = c.get("securityContext", {})
caps = sc.get("capabilities", {})
for cap in caps.get("drop", []):
    opts.append(f"--cap-drop={cap}")
if caps.get("add"):
    opts.append("--cap-add=" + ",".join("CAP_" + x for x in caps["add"]))
if sc.get("privileged"):
    opts.append("--privileged")
if sc.get("allowPrivilegeEscalation") is False:
    opts.append("--security-opt=no-new-privileges")
for e in c.get("env", []):
    if "value" in e:
        env[e["name"]] = e["value"]
    else:
        env[e["name"]] = meta[e["valueFrom"]["fieldRef"]["fieldPath"]]
    opts.append(f"--env={e['name']}={env[e['name']]}")
volumes = {v["name"]: v for v in spec.get("volumes", [])}
for m in c.get("volumeMounts", []):
    v = volumes[m["name"]]
    if "configMap" in v:
        opts.append(f"--volume={config_dir}:{m['mountPath']}:ro")
    elif "emptyDir" in v and not v["emptyDir"].get("medium"):
        opts.append(f"--tmpfs={m['mountPath']}")
    else:
        skipped.append(f"volume {m['name']} ({m['mountPath']})")
print("\n".join(opts))
print("--")
for a in c.get("args", []):
    print(re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda g: env.get(g[1], g[0]), a))
print("ds_to_podman: not reproduced: " + ", ".join(skipped), file=sys.stderr)
