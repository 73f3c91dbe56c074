"""The Python side of a cross-process benchmark: Python's locket, driven over stdin/stdout.

Same protocol as io.github.locket.benchmarks.Peer:
  acquire -> held; wait -> waiting, then got <t1>; release -> released <t0>;
  loop <start> <end> -> count <n>; quit.
Times are time.monotonic_ns(): CLOCK_MONOTONIC, the clock Java's System.nanoTime() reads on Linux.

Strategies: python-timeout (lock_file(path, timeout=60): polls flock every 50 ms, locket's
default), python (lock_file(path): one blocking flock), and python-lockf (a blocking
fcntl.lockf of byte 0, the lock Java's FileChannel takes, then the blocking locket: Locket's two
protocols, by hand, in Python; released in the reverse order).
"""
import fcntl
import os
import sys
import time

import locket


class WithLockf:
    """Python's blocking locket behind a classic fcntl lock of byte [0, 1)."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        self.lock = locket.lock_file(path)

    def acquire(self):
        fcntl.lockf(self.fd, fcntl.LOCK_EX, 1, 0)
        self.lock.acquire()

    def release(self):
        self.lock.release()
        fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, 0)


def main():
    strategy, path = sys.argv[1], sys.argv[2]
    if strategy == "python-timeout":
        lock = locket.lock_file(path, timeout=60)
    elif strategy == "python":
        lock = locket.lock_file(path)
    elif strategy == "python-lockf":
        lock = WithLockf(path)
    else:
        raise SystemExit("unknown strategy: " + strategy)
    now = time.monotonic_ns
    out = sys.stdout
    out.write("ready\n")
    out.flush()
    for line in sys.stdin:
        w = line.split()
        cmd = w[0]
        if cmd == "acquire":
            lock.acquire()
            out.write("held\n")
        elif cmd == "wait":
            out.write("waiting\n")
            out.flush()
            lock.acquire()
            t1 = now()
            lock.release()
            out.write("got %d\n" % t1)
        elif cmd == "release":
            t0 = now()
            lock.release()
            out.write("released %d\n" % t0)
        elif cmd == "loop":
            start, end = int(w[1]), int(w[2])
            while now() < start:
                pass
            n = 0
            while now() < end:
                lock.acquire()
                lock.release()
                n += 1
            out.write("count %d\n" % n)
        elif cmd == "quit":
            break
        else:
            raise SystemExit("unknown command: " + line)
        out.flush()


if __name__ == "__main__":
    main()
