"""Like a CLI whose model server is down: reports a reconnect, waits, and tries again forever."""

import sys
import time

while True:
    print('{"type":"error","message":"Reconnecting... (Connection failed: refused)"}', flush=True)
    sys.stderr.write("still trying\n")
    time.sleep(0.2)
