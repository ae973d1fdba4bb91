#!/usr/bin/env python3
"""Write a C file holding a text file as the NUL-terminated array strait_default_config."""
import sys

data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as out:
    out.write("/* generated from %s */\n" % sys.argv[1])
    out.write("const char strait_default_config[] = {\n")
    for i in range(0, len(data), 16):
        out.write("\t" + ", ".join(str(b) for b in data[i:i + 16]) + ",\n")
    out.write("\t0,\n};\n")
