"""Tries to send the repository's README to a server on this machine."""

import socket
import sys
from pathlib import Path

port = int(sys.argv[2])  # argv: how the prompt came, the port, the test tag
try:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(Path("README.md").read_bytes())
    print("sent")
except OSError as e:
    print(f"could not connect: {type(e).__name__}")
