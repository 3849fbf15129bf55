"""Prints 100 MB and exits successfully."""

import sys

line = b"x" * 1023 + b"\n"
out = sys.stdout.buffer
for _ in range(100 * 1024):
    out.write(line)
out.flush()
sys.stderr.write("flooded\n")
