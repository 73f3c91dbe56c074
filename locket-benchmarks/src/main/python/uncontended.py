"""Uncontended acquire+release of Python's locket, in ns per operation (median of 5 runs).

Writes key=value lines (a Java properties file) for docs/benchmarks.md, and shows them.
Usage: /usr/bin/python3 uncontended.py <out.properties> [operations per run]
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
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    d = tempfile.mkdtemp(prefix="locket-py-bench")
    lines = ["python.version=%s" % sys.version.split()[0]]
    for name, kwargs in (("untimed", {}), ("timed", {"timeout": 30})):
        lock = locket.lock_file(os.path.join(d, name + ".lock"), **kwargs)
        per_op(lock, n // 10)  # warm up
        runs = [per_op(lock, n) for _ in range(5)]
        lines.append("python.uncontended.%s.ns=%.1f" % (name, statistics.median(runs)))
        lines.append("python.uncontended.%s.runs=%s" % (name, ",".join("%.1f" % r for r in runs)))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
