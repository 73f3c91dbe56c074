package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One JVM: the lock's semantics between threads. */
final class LockFileTest {
    @TempDir
    Path dir;

    private Path file(String name) {
        return dir.resolve(name);
    }

    @Test
    void acquireCreatesTheFileAndCloseReleasesWithoutDeletingIt() throws Exception {
        Path path = file("a.lock");
        LockFile lockFile = Locket.lockFile(path);
        try (Lock lock = lockFile.acquire()) {
            assertThat(path).exists().isRegularFile();
            assertThat(lock.isHeld()).isTrue();
            assertThat(lock.path()).isEqualTo(path);
            assertThat(lockFile.tryAcquire()).isEmpty();
        }
        assertThat(path).exists();
        assertThat(lockFile.tryAcquire()).hasValueSatisfying(Lock::close);
    }

    @Test
    void closeIsIdempotentAndAStaleHandleNeverReleasesALaterAcquisition() throws Exception {
        LockFile lockFile = Locket.lockFile(file("a.lock"));
        Lock first = lockFile.acquire();
        first.close();
        first.close();
        Lock second = lockFile.acquire();
        first.close();
        assertThat(second.isHeld()).isTrue();
        assertThat(lockFile.tryAcquire()).isEmpty();
        second.close();
        assertThat(second.isHeld()).isFalse();
        assertThat(lockFile.tryAcquire()).hasValueSatisfying(Lock::close);
    }

    @Test
    void isNotReentrantOnTheHoldersOwnThread() throws Exception {
        Path path = file("a.lock");
        try (Lock held = Locket.lockFile(path).acquire()) {
            assertThat(Locket.lockFile(path).tryAcquire()).isEmpty();
            assertThatThrownBy(() -> Locket.lockFile(path, Duration.ofMillis(50)).acquire())
                    .isInstanceOf(LockTimeoutException.class);
            assertThatThrownBy(() -> Locket.lockFile(path, Duration.ZERO).acquire())
                    .isInstanceOf(LockTimeoutException.class);
        }
    }

    @Test
    void everyPathToOneFileIsOneLock() throws Exception {
        Path path = file("a.lock");
        Files.createFile(path);
        Path symlink = Files.createSymbolicLink(file("sym.lock"), path);
        Path hardlink = Files.createLink(file("hard.lock"), path);
        Path relative = Path.of("").toAbsolutePath().relativize(path);
        Path dotted = dir.resolve(".").resolve("a.lock");
        try (Lock lock = Locket.lockFile(path).acquire()) {
            for (Path other : List.of(path, symlink, hardlink, relative, dotted)) {
                assertThat(Locket.lockFile(other).tryAcquire()).as(other.toString()).isEmpty();
            }
        }
        for (Path other : List.of(path, symlink, hardlink, relative, dotted)) {
            Optional<Lock> lock = Locket.lockFile(other).tryAcquire();
            assertThat(lock).as(other.toString()).isPresent();
            lock.get().close();
        }
    }

    @Test
    void zeroTimeoutMakesOneAttemptAndNamesPathAndTimeout() throws Exception {
        Path path = file("a.lock");
        try (Lock held = Locket.lockFile(path).acquire()) {
            LockFile once = Locket.lockFile(path, Duration.ZERO);
            long start = System.nanoTime();
            assertThatThrownBy(once::acquire)
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessageContaining(path.toString())
                    .hasMessageContaining("0s")
                    .satisfies(e -> assertThat(((LockTimeoutException) e).timeout()).isZero())
                    .satisfies(e -> assertThat(((LockTimeoutException) e).path()).isEqualTo(path));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
            assertThatThrownBy(() -> once.acquireAsync().join())
                    .isInstanceOf(CompletionException.class)
                    .hasCauseInstanceOf(LockTimeoutException.class);
        }
        try (Lock lock = Locket.lockFile(path, Duration.ZERO).acquire()) {
            assertThat(lock.isHeld()).isTrue();
        }
    }

    @Test
    void timedAcquireFailsWhenTheTimeoutExpiresAndLeavesNothingQueued() throws Exception {
        Path path = file("a.lock");
        LockFile timed = Locket.lockFile(path, Duration.ofMillis(100));
        try (Lock held = Locket.lockFile(path).acquire()) {
            long start = System.nanoTime();
            assertThatThrownBy(timed::acquire)
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessage("lock on " + path + " not acquired within 100ms; held by pid "
                            + ProcessHandle.current().pid() + " (this JVM), exclusive, " + Locket.protocols());
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
            CompletableFuture<Lock> async = timed.acquireAsync();
            assertThatThrownBy(async::join).hasCauseInstanceOf(LockTimeoutException.class);
        }
        try (Lock lock = timed.acquire()) {
            assertThat(lock.isHeld()).isTrue();
        }
    }

    @Test
    void timedAcquireIsGrantedWhenTheHolderReleasesInTime() throws Exception {
        Path path = file("a.lock");
        Lock held = Locket.lockFile(path).acquire();
        CompletableFuture<Lock> waiting = Locket.lockFile(path, Duration.ofSeconds(30)).acquireAsync();
        assertThat(waiting).isNotDone();
        held.close();
        try (Lock lock = waiting.get(10, TimeUnit.SECONDS)) {
            assertThat(lock.isHeld()).isTrue();
        }
    }

    @Test
    void anyThreadMayRelease() throws Exception {
        Path path = file("a.lock");
        Lock lock = Locket.lockFile(path).acquire();
        Thread other = new Thread(lock::close);
        other.start();
        other.join();
        assertThat(lock.isHeld()).isFalse();
        assertThat(Locket.lockFile(path).tryAcquire()).hasValueSatisfying(Lock::close);
    }

    @Test
    void waitersInThisJvmAreServedInArrivalOrder() throws Exception {
        Path path = file("a.lock");
        LockFile lockFile = Locket.lockFile(path);
        Lock held = lockFile.acquire();
        List<Integer> order = new ArrayList<>();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            int n = i;
            done.add(lockFile.acquireAsync().thenAccept(lock -> {
                order.add(n);
                lock.close();
            }));
        }
        held.close();
        CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
        List<Integer> expected = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            expected.add(i);
        }
        assertThat(order).isEqualTo(expected);
    }

    @Test
    void interruptEndsABlockedAcquireAndLeavesNothingHeld() throws Exception {
        Path path = file("a.lock");
        Lock held = Locket.lockFile(path).acquire();
        AtomicReference<Throwable> outcome = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                Locket.lockFile(path).acquire().close();
                outcome.set(new AssertionError("acquired"));
            } catch (Throwable t) {
                outcome.set(t);
            }
        });
        waiter.start();
        await().until(() -> waiter.getState() == Thread.State.WAITING);
        waiter.interrupt();
        waiter.join(10_000);
        assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
        held.close();
        assertThat(Locket.lockFile(path).tryAcquire()).hasValueSatisfying(Lock::close);
    }

    @Test
    void anInterruptedThreadDoesNotAcquire() throws Exception {
        Path path = file("a.lock");
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> Locket.lockFile(path).acquire()).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
        assertThat(Locket.lockFile(path).tryAcquire()).hasValueSatisfying(Lock::close);
    }

    @Test
    void cancellingTheFutureAbandonsTheWait() throws Exception {
        Path path = file("a.lock");
        LockFile lockFile = Locket.lockFile(path);
        Lock held = lockFile.acquire();
        CompletableFuture<Lock> cancelled = lockFile.acquireAsync();
        CompletableFuture<Lock> timedOut = lockFile.acquireAsync().orTimeout(10, TimeUnit.MILLISECONDS);
        CompletableFuture<Lock> failed = lockFile.acquireAsync();
        CompletableFuture<Lock> next = lockFile.acquireAsync();
        assertThat(cancelled.cancel(false)).isTrue();
        assertThatThrownBy(() -> timedOut.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(TimeoutException.class);
        failed.completeExceptionally(new IllegalStateException("given up"));
        held.close();
        try (Lock lock = next.get(10, TimeUnit.SECONDS)) {
            assertThat(lock.isHeld()).isTrue();
        }
        assertThat(lockFile.tryAcquire()).hasValueSatisfying(Lock::close);
    }

    @Test
    void aGrantThatLosesTheRaceWithCancellationIsReleased() throws Exception {
        LockFile lockFile = Locket.lockFile(file("a.lock"));
        for (int i = 0; i < 5_000; i++) {
            Lock held = lockFile.acquire();
            CompletableFuture<Lock> waiting = lockFile.acquireAsync();
            CountDownLatch go = new CountDownLatch(1);
            Thread releaser = new Thread(() -> {
                awaitQuietly(go);
                held.close();
            });
            releaser.start();
            go.countDown();
            boolean cancelled = waiting.cancel(false);
            releaser.join();
            if (!cancelled) {
                waiting.join().close(); // the grant won: ours to release
            }
            // A grant that lost to the cancel is released by whichever thread delivered it: wait
            // for that (a leak fails here after Awaitility's 10 s).
            await("release after iteration " + i).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1)).until(() -> takeAndRelease(lockFile));
        }
    }

    @Test
    void tenThousandSynchronousWaitersDrainWithoutStackOverflowOrExtraThreads() throws Exception {
        LockFile lockFile = Locket.lockFile(file("a.lock"));
        int threadsBefore = Thread.activeCount();
        java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
        Lock held = lockFile.acquire();
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger served = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            all.add(lockFile.acquireAsync().thenAccept(lock -> {
                if (inside.incrementAndGet() != 1) {
                    overlaps.incrementAndGet();
                }
                served.incrementAndGet();
                inside.decrementAndGet();
                lock.close();
            }));
        }
        int peakThreads = Thread.activeCount();
        held.close();
        CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
        peakThreads = Math.max(peakThreads, Thread.activeCount());
        assertThat(served).hasValue(10_000);
        assertThat(overlaps).hasValue(0);
        java.util.Set<Thread> after = new java.util.HashSet<>(Thread.getAllStackTraces().keySet());
        after.removeAll(before);
        // Every 64 hand-offs (or 10 ms) the lock goes back to the OS; the grant comes on a
        // locket-io thread whose delivery releases again and so queues the next OS wait while it is
        // still busy: two I/O threads take turns, more while one is slow to return to the pool, as
        // on a loaded machine (5 seen at load 5 on 2 cores). The thread count must not grow with
        // the waiters: one per waiter would be thousands. The figure itself (at most 2 extra
        // threads, a benchmark goal) is measured by locket-benchmarks, not asserted here.
        assertThat(peakThreads - threadsBefore).as("new threads: " + after).isLessThanOrEqualTo(16);
        assertThat(lockFile.tryAcquire()).hasValueSatisfying(Lock::close);
    }

    @Test
    void libraryThreadsAreNamedDaemons() throws Exception {
        Path path = file("a.lock");
        Lock held = Locket.lockFile(path).acquire();
        CompletableFuture<Lock> waiting = Locket.lockFile(path, Duration.ofSeconds(30)).acquireAsync();
        held.close();
        waiting.get(10, TimeUnit.SECONDS).close();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("locket-")) {
                assertThat(t.isDaemon()).as(t.getName()).isTrue();
            }
        }
    }

    @Test
    void copiesWithAnotherTimeoutAreTheSameLock() throws Exception {
        LockFile patient = Locket.lockFile(file("a.lock"), Duration.ofSeconds(30));
        LockFile once = patient.withTimeout(Duration.ZERO);
        LockFile forever = patient.withoutTimeout();
        assertThat(once.timeout()).hasValue(Duration.ZERO);
        assertThat(forever.timeout()).isEmpty();
        assertThat(forever.withoutTimeout()).isSameAs(forever);
        assertThat(once.path()).isEqualTo(patient.path());
        try (Lock lock = forever.acquire()) {
            assertThatThrownBy(once::acquire).isInstanceOf(LockTimeoutException.class);
            assertThat(patient.tryAcquire()).isEmpty();
        }
        assertThatThrownBy(() -> patient.withTimeout(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PT-1S");
        assertThatThrownBy(() -> patient.withTimeout(null)).hasMessage("timeout");
    }

    @Test
    void toStringShowsPathAndState() throws Exception {
        Path path = file("a.lock");
        LockFile lockFile = Locket.lockFile(path, Duration.ofMillis(1500));
        assertThat(lockFile).hasToString("LockFile[" + path + ", timeout=1500ms]");
        assertThat(Locket.lockFile(path)).hasToString("LockFile[" + path + ", timeout=none]");
        Lock lock = lockFile.acquire();
        assertThat(lock).hasToString("Lock[" + path + ", held]");
        lock.close();
        assertThat(lock).hasToString("Lock[" + path + ", released]");
    }

    @Test
    void futuresOfAbandonedWaitsReportTheirOwnOutcome() throws Exception {
        Path path = file("a.lock");
        try (Lock held = Locket.lockFile(path).acquire()) {
            CompletableFuture<Lock> f = Locket.lockFile(path).acquireAsync();
            f.cancel(true);
            assertThatThrownBy(f::join).isInstanceOf(CancellationException.class);
            CompletableFuture<Lock> g = Locket.lockFile(path, Duration.ofMillis(20)).acquireAsync();
            assertThatThrownBy(() -> g.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(LockTimeoutException.class);
        }
    }

    static boolean takeAndRelease(LockFile lockFile) throws java.io.IOException {
        Optional<Lock> lock = lockFile.tryAcquire();
        lock.ifPresent(Lock::close);
        return lock.isPresent();
    }

    static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
