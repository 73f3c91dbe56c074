package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * N async waiters on one lock held by another process: the threads they cost, the heap per
 * waiter, and the time from the holder's release until every waiter has held and released the
 * lock once. Run once per configuration in a fresh JVM, so that nothing of an earlier run is on
 * the heap or in the thread pools.
 *
 * <p>Heap per waiter is (used heap after full GCs with N waiters queued - the same before) / N.
 * The array that keeps the N futures is allocated before the first reading, so it is not counted;
 * everything Locket keeps per waiter (its queue node, the future, the future's callback, a timeout
 * task when there is a timeout) is.
 *
 * <p>Usage: {@code WaiterScaling <out.properties> <waiters> <none|timeout>}
 */
public final class WaiterScaling {
    private WaiterScaling() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int n = Integer.parseInt(args[1]);
        boolean timed = args[2].equals("timeout");
        String prefix = "waiters." + n + "." + args[2] + ".";
        Path dir = Files.createTempDirectory("locket-waiters");
        Path path = dir.resolve("many.lock");
        LockFile lockFile = timed ? Locket.lockFile(path, Duration.ofMinutes(10)) : Locket.lockFile(path);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();

        // Warm Locket up on a lock file of its own: classes loaded, pools started once and idle.
        LockFile warm = Locket.lockFile(dir.resolve("warm.lock"));
        for (int i = 0; i < 1000; i++) {
            warm.acquireAsync().join().close();
        }

        try (Child holder = Child.start("raw", path)) {
            holder.send("acquire");
            holder.expect("held");
            @SuppressWarnings({"unchecked", "rawtypes"})
            CompletableFuture<Lock>[] futures = new CompletableFuture[n];
            long heapBefore = usedHeapAfterGc(memory);
            int threadsBefore = threads.getThreadCount();
            Set<String> namesBefore = threadNames();
            threads.resetPeakThreadCount();

            long t = System.nanoTime();
            for (int i = 0; i < n; i++) {
                futures[i] = lockFile.acquireAsync();
            }
            long enqueueNanos = System.nanoTime() - t;
            long heapWaiting = usedHeapAfterGc(memory);
            int threadsWaiting = threads.getThreadCount();
            Set<String> newWhileWaiting = threadNames();
            newWhileWaiting.removeAll(namesBefore);
            int early = 0;
            for (CompletableFuture<Lock> f : futures) {
                early += f.isDone() ? 1 : 0;
            }

            AtomicInteger served = new AtomicInteger();
            AtomicInteger failed = new AtomicInteger();
            AtomicLong lastServed = new AtomicLong();
            CountDownLatch all = new CountDownLatch(1);
            for (CompletableFuture<Lock> f : futures) {
                f.whenComplete((lock, failure) -> {
                    if (lock != null) {
                        lock.close();
                    } else {
                        failed.incrementAndGet();
                    }
                    if (served.incrementAndGet() == n) {
                        lastServed.set(System.nanoTime());
                        all.countDown();
                    }
                });
            }
            holder.send("release");
            long t0 = holder.expectLong("released");
            boolean finished = all.await(5, TimeUnit.MINUTES);
            long drainNanos = lastServed.get() - t0;
            int peakThreads = threads.getPeakThreadCount();
            // Pool threads idle 10 s before they end: whatever the drain started is still listed.
            Set<String> newByDrain = threadNames();
            newByDrain.removeAll(namesBefore);

            Results r = Results.create()
                    .put(prefix + "waiters", n)
                    .put(prefix + "served", served.get() - failed.get())
                    .put(prefix + "failed", failed.get())
                    .put(prefix + "completedBeforeRelease", early)
                    .put(prefix + "finished", finished)
                    .put(prefix + "threadsBefore", threadsBefore)
                    .put(prefix + "threadsWaiting", threadsWaiting)
                    .put(prefix + "extraThreadsWaiting", threadsWaiting - threadsBefore)
                    .put(prefix + "extraThreadsPeak", peakThreads - threadsBefore)
                    .put(prefix + "newThreadsWaiting", String.join(" ", newWhileWaiting))
                    .put(prefix + "newThreadsAfterDrain", String.join(" ", newByDrain))
                    .put(prefix + "heapBeforeBytes", heapBefore)
                    .put(prefix + "heapWaitingBytes", heapWaiting)
                    .put(prefix + "heapPerWaiterBytes", Math.round((heapWaiting - heapBefore) / (double) n))
                    .put(prefix + "enqueueNanos", enqueueNanos)
                    .put(prefix + "drainNanos", drainNanos);
            System.out.printf("%,d waiters (%s): served %,d, failed %d; threads +%d waiting %s, +%d peak %s;"
                            + " heap %.0f B/waiter; enqueue %.1f ms; drain %.1f ms%n", n, args[2],
                    served.get() - failed.get(), failed.get(), threadsWaiting - threadsBefore, newWhileWaiting,
                    peakThreads - threadsBefore, newByDrain, (heapWaiting - heapBefore) / (double) n,
                    enqueueNanos / 1e6, drainNanos / 1e6);
            r.write(out);
        }
    }

    private static Set<String> threadNames() {
        Set<String> names = new TreeSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            names.add(t.getName());
        }
        return names;
    }

    private static long usedHeapAfterGc(MemoryMXBean memory) throws InterruptedException {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
