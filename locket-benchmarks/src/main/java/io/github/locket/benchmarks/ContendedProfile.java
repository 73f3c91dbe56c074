package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The in-JVM contended loop of {@link ContendedBenchmark}, outside JMH, counting what the threads
 * pay besides CPU: voluntary and involuntary context switches per operation, read from each worker
 * thread's {@code /proc/thread-self/status}. Made to explain the contended figures (run it under
 * JFR for a CPU profile); not part of run.sh.
 *
 * <p>{@code locket-spin} emulates, through the public API, a waiter that spins up to 20 us before
 * it parks.
 *
 * <p>Usage: {@code ContendedProfile [seconds=3] [threads=1,2,4,8] [strategies=baseline,fair,locket]}
 */
public final class ContendedProfile {
    private ContendedProfile() {}

    interface Op {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 3;
        String[] threadCounts = (args.length > 1 ? args[1] : "1,2,4,8").split(",");
        String[] strategies = (args.length > 2 ? args[2] : "baseline,fair,locket").split(",");
        Path dir = Files.createTempDirectory("locket-contended-profile");
        for (String t : threadCounts) {
            int threads = Integer.parseInt(t);
            for (String s : strategies) {
                Op op = op(s, dir.resolve(s + "-" + threads + ".lock"));
                measure(s, threads, op, 1); // warm-up
                long[] r = measure(s, threads, op, seconds);
                System.out.printf("%-11s %d threads: %,9.0f ops/s  voluntary switches/op %.3f  involuntary/op %.3f"
                                + "  busiest/idlest thread ops %.1f%n", s, threads, r[0] / seconds,
                        (double) r[1] / r[0], (double) r[2] / r[0], (double) r[3] / Math.max(1, r[4]));
            }
        }
    }

    static Op op(String strategy, Path path) throws IOException {
        switch (strategy) {
            case "baseline":
            case "fair": {
                FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
                ReentrantLock jvm = new ReentrantLock(strategy.equals("fair"));
                return () -> {
                    jvm.lock();
                    try {
                        FileLock fl = ch.lock(0, 1, false);
                        fl.release();
                    } finally {
                        jvm.unlock();
                    }
                };
            }
            case "locket": {
                LockFile lf = Locket.lockFile(path, Duration.ofSeconds(60));
                return () -> {
                    try (Lock lock = lf.acquire()) {
                        lock.path();
                    }
                };
            }
            case "locket-spin": {
                // What a brief spin before parking would do for Locket's waiters, emulated through
                // the public API: spin up to 20 us on the future before blocking in join().
                LockFile lf = Locket.lockFile(path, Duration.ofSeconds(60));
                return () -> {
                    CompletableFuture<Lock> f = lf.acquireAsync();
                    long deadline = System.nanoTime() + 20_000;
                    while (!f.isDone() && System.nanoTime() < deadline) {
                        Thread.onSpinWait();
                    }
                    try (Lock lock = f.join()) {
                        lock.path();
                    }
                };
            }
            default:
                throw new IllegalArgumentException(strategy);
        }
    }

    /** Returns {ops, voluntary switches, involuntary switches} summed over the workers, then max and min ops of one worker. */
    static long[] measure(String name, int threads, Op op, double seconds) throws InterruptedException {
        AtomicLong ops = new AtomicLong();
        AtomicLong voluntary = new AtomicLong();
        AtomicLong involuntary = new AtomicLong();
        AtomicLong most = new AtomicLong();
        AtomicLong least = new AtomicLong(Long.MAX_VALUE);
        CountDownLatch start = new CountDownLatch(1);
        long[] end = new long[1];
        Thread[] workers = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = new Thread(() -> {
                try {
                    start.await();
                    long[] before = switches();
                    long n = 0;
                    while (System.nanoTime() < end[0]) {
                        op.run();
                        n++;
                    }
                    long[] after = switches();
                    ops.addAndGet(n);
                    most.accumulateAndGet(n, Math::max);
                    least.accumulateAndGet(n, Math::min);
                    voluntary.addAndGet(after[0] - before[0]);
                    involuntary.addAndGet(after[1] - before[1]);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, name + "-worker-" + i);
            workers[i].start();
        }
        end[0] = System.nanoTime() + (long) (seconds * 1e9);
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        return new long[] {ops.get(), voluntary.get(), involuntary.get(), most.get(), least.get()};
    }

    private static long[] switches() throws IOException {
        long v = 0;
        long nv = 0;
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
                v = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
                nv = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        return new long[] {v, nv};
    }
}
