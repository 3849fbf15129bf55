"""Forks children, a grandchild that leaves the process group (setsid), and hangs."""

import os
import subprocess
import sys
import time

tag = sys.argv[-1]
for _ in range(3):
    subprocess.Popen([sys.executable, "-c", "import time\nwhile True: time.sleep(1)", tag])
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(
            sys.executable, [sys.executable, "-c", "import time\nwhile True: time.sleep(1)", tag]
        )
    os._exit(0)
print("spawned helpers", flush=True)
while True:
    time.sleep(1)
