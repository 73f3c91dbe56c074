package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How late a timeout fires: the lock is held by another process, and each sample is (time until
 * the caller sees {@link LockTimeoutException}) - (the timeout). For {@code acquire()} the caller
 * is the blocked thread; for {@code acquireAsync()} it is the future's first dependent action. The
 * JVM's floor is {@code CompletableFuture.get(timeout)} on a future that never completes: what a
 * timed wait costs before any lock is involved.
 *
 * <p>Samples follow each other at once by default, so that an acquisition also pays for whatever
 * the previous, timed-out one left to clean up; a pause between samples ({@code gapMillis}) shows
 * the timeout alone.
 *
 * <p>Usage: {@code TimeoutPrecision <out.properties> [samples at 10 ms=200] [samples at 100 ms=60] [gapMillis=0]}
 */
public final class TimeoutPrecision {
    private TimeoutPrecision() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int n10 = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int n100 = args.length > 2 ? Integer.parseInt(args[2]) : 60;
        long gapMillis = args.length > 3 ? Long.parseLong(args[3]) : 0;
        Path path = Files.createTempDirectory("locket-timeouts").resolve("held.lock");
        Results results = Results.create();
        try (Child holder = Child.start("raw", path)) {
            holder.send("acquire");
            holder.expect("held");
            for (int[] c : new int[][] {{10, n10}, {100, n100}}) {
                int ms = c[0];
                LockFile lockFile = Locket.lockFile(path, Duration.ofMillis(ms));
                // warm-up, not recorded
                for (int i = 0; i < 5; i++) {
                    blocking(lockFile, ms);
                    async(lockFile, ms);
                }
                List<Long> blocking = new ArrayList<>();
                List<Long> async = new ArrayList<>();
                List<Long> floor = new ArrayList<>();
                for (int i = 0; i < c[1]; i++) {
                    floor.add(floor(ms));
                    Thread.sleep(gapMillis);
                    blocking.add(blocking(lockFile, ms));
                    Thread.sleep(gapMillis);
                    async.add(async(lockFile, ms));
                }
                for (var e : List.of(List.of("floor", floor), List.of("acquire", blocking), List.of("acquireAsync", async))) {
                    @SuppressWarnings("unchecked")
                    long[] sorted = Results.sorted((List<Long>) e.get(1));
                    results.put("timeout." + ms + "ms." + e.get(0) + ".samples", sorted);
                    System.out.printf("%3d ms %-12s overshoot median %6.2f ms  p90 %6.2f ms  p99 %6.2f ms  max %6.2f ms%n",
                            ms, e.get(0), Results.percentile(sorted, 50) / 1e6, Results.percentile(sorted, 90) / 1e6,
                            Results.percentile(sorted, 99) / 1e6, sorted[sorted.length - 1] / 1e6);
                }
            }
        }
        results.write(out);
    }

    /** The JVM's own floor: a timed wait on a future that never completes. */
    private static long floor(int ms) throws Exception {
        long t = System.nanoTime();
        try {
            new CompletableFuture<Void>().get(ms, TimeUnit.MILLISECONDS);
            throw new IllegalStateException("completed");
        } catch (TimeoutException expected) {
            return System.nanoTime() - t - ms * 1_000_000L;
        }
    }

    private static long blocking(LockFile lockFile, int ms) throws Exception {
        long t = System.nanoTime();
        try (Lock lock = lockFile.acquire()) {
            throw new IllegalStateException("acquired a lock held by another process: " + lock);
        } catch (LockTimeoutException expected) {
            return System.nanoTime() - t - ms * 1_000_000L;
        }
    }

    private static long async(LockFile lockFile, int ms) {
        long t = System.nanoTime();
        CompletableFuture<Long> seen = lockFile.acquireAsync().handle((lock, failure) -> {
            long now = System.nanoTime();
            if (lock != null) {
                lock.close();
                throw new IllegalStateException("acquired a lock held by another process");
            }
            if (!(failure instanceof LockTimeoutException)) {
                throw new CompletionException(failure);
            }
            return now;
        });
        return seen.join() - t - ms * 1_000_000L;
    }
}
