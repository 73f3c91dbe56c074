"""Timeout overshoot of Python's locket: how long after its timeout a failing acquire() returns.

The lock file is held with flock(2) through a separate open file description (flock locks
belong to open file descriptions, so this conflicts exactly as another process would).
Writes key=value lines (a Java properties file), overshoot in nanoseconds.
Usage: /usr/bin/python3 timeouts.py <out.properties> [samples at 10 ms] [samples at 100 ms]
"""
import fcntl
import os
import sys
import tempfile
import time

import locket


def main():
    out = sys.argv[1]
    counts = {10: int(sys.argv[2]) if len(sys.argv) > 2 else 100,
              100: int(sys.argv[3]) if len(sys.argv) > 3 else 40}
    lines = []
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
        lines.append("python.timeout.%dms.samples=%s" % (ms, ",".join(str(s) for s in samples)))
        ordered = sorted(samples)
        print("%3d ms python locket overshoot median %6.2f ms  max %6.2f ms"
              % (ms, ordered[len(ordered) // 2] / 1e6, ordered[-1] / 1e6))
    holder.close()
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
