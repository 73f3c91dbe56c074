"""Uncontended acquire+release of Python's locket, in ns per operation (median of 5 runs).

Prints key=value lines (a Java properties file) for docs/benchmarks.md.
Usage: /usr/bin/python3 uncontended.py [operations per run]
"""
import os
import statistics
import sys
import tempfile
import time

import locket


def per_op(lock, n):
    t = time.perf_counter_ns()
    for _ in range(n):
        lock.acquire()
        lock.release()
    return (time.perf_counter_ns() - t) / n


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    d = tempfile.mkdtemp(prefix="locket-py-bench")
    print("python.version=%s" % sys.version.split()[0])
    print("python.locket.version=%s" % getattr(locket, "__version__", "1.0.0 (python3-locket)"))
    for name, kwargs in (("untimed", {}), ("timed", {"timeout": 30})):
        lock = locket.lock_file(os.path.join(d, name + ".lock"), **kwargs)
        per_op(lock, n // 10)  # warm up
        runs = [per_op(lock, n) for _ in range(5)]
        print("python.uncontended.%s.ns=%.1f" % (name, statistics.median(runs)))
        print("python.uncontended.%s.runs=%s" % (name, ",".join("%.1f" % r for r in runs)))


if __name__ == "__main__":
    main()
