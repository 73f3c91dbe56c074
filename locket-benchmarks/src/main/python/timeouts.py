"""Timeout overshoot of Python's locket: how long after its timeout a failing acquire() returns.

The lock file is held with flock(2) through a separate open file description (flock locks
belong to open file descriptions, so this conflicts exactly as another process would).
Prints key=value lines (a Java properties file), overshoot in nanoseconds.
Usage: /usr/bin/python3 timeouts.py [samples at 10 ms] [samples at 100 ms]
"""
import fcntl
import os
import sys
import tempfile
import time

import locket


def main():
    counts = {10: int(sys.argv[1]) if len(sys.argv) > 1 else 100,
              100: int(sys.argv[2]) if len(sys.argv) > 2 else 40}
    d = tempfile.mkdtemp(prefix="locket-py-timeouts")
    path = os.path.join(d, "held.lock")
    holder = open(path, "wb")
    fcntl.flock(holder.fileno(), fcntl.LOCK_EX)
    for ms, n in counts.items():
        lock = locket.lock_file(path, timeout=ms / 1000.0)
        samples = []
        for _ in range(n):
            t = time.monotonic_ns()
            try:
                lock.acquire()
                raise SystemExit("acquired a held lock")
            except locket.LockError:
                samples.append(time.monotonic_ns() - t - ms * 1000000)
        print("python.timeout.%dms.samples=%s" % (ms, ",".join(str(s) for s in samples)))
    holder.close()


if __name__ == "__main__":
    main()
