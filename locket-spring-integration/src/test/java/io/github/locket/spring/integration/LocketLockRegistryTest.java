package io.github.locket.spring.integration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.locket.testing.Children;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class LocketLockRegistryTest {
    @TempDir
    Path dir;

    private final ExecutorService other = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        other.shutdownNow();
    }

    private LocketLockRegistry registry() {
        return LocketLockRegistry.create(dir);
    }

    private Children child(String key, String mode) throws IOException {
        return Children.startClass(RegistryChild.class, List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1"),
                dir.toString(), key, mode);
    }

    /** One tryLock() on another thread of this JVM (unlocking again if it got the lock). */
    private boolean freeForAnotherThread(Lock lock) throws Exception {
        return other.submit(() -> {
            if (lock.tryLock()) {
                lock.unlock();
                return true;
            }
            return false;
        }).get(30, TimeUnit.SECONDS);
    }

    private boolean freeForAnotherProcess(String key) throws Exception {
        try (Children probe = child(key, "try")) {
            String line = probe.expect("");
            assertThat(line).isIn("FREE", "BUSY");
            return line.equals("FREE");
        }
    }

    @Test
    void executeLockedRunsTheTaskHoldingTheLockInEveryProcessAndReleasesIt() throws Exception {
        LocketLockRegistry registry = registry();
        AtomicBoolean ran = new AtomicBoolean();
        registry.executeLocked("orders", () -> {
            assertThat(freeForAnotherThread(registry.obtain("orders"))).isFalse();
            assertThat(freeForAnotherProcess("orders")).isFalse();
            ran.set(true);
        });
        assertThat(ran).isTrue();
        assertThat(freeForAnotherProcess("orders")).isTrue();
        assertThat(Files.exists(dir.resolve("orders.lock"))).isTrue();
    }

    @Test
    void executeLockedWithACallableReturnsItsResultAndReleasesOnFailure() throws Exception {
        LocketLockRegistry registry = registry();
        assertThat(registry.executeLocked("k", () -> 42)).isEqualTo(42);
        assertThatThrownBy(() -> registry.executeLocked("k", () -> {
            throw new IOException("task failed");
        })).isInstanceOf(IOException.class).hasMessage("task failed");
        assertThat(freeForAnotherThread(registry.obtain("k"))).isTrue();
        assertThat(freeForAnotherProcess("k")).isTrue();
    }

    @Test
    void executeLockedWithAWaitTimesOutWhileAnotherProcessHoldsTheLockAndRunsOnceItLetsGo() throws Exception {
        LocketLockRegistry registry = registry();
        AtomicBoolean ran = new AtomicBoolean();
        try (Children holder = child("k", "hold")) {
            holder.expect("LOCKED");
            long start = System.nanoTime();
            assertThatThrownBy(() -> registry.executeLocked("k", Duration.ofMillis(200), () -> ran.set(true)))
                    .isInstanceOf(TimeoutException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
            assertThat(ran).isFalse();
            assertThat(registry.obtain("k").tryLock()).isFalse(); // and the timeout left nothing held locally
            Future<String> waiting = other.submit(() -> registry.executeLocked("k", Duration.ofSeconds(30), () -> "ran"));
            holder.send("release");
            holder.expect("UNLOCKED");
            assertThat(waiting.get(30, TimeUnit.SECONDS)).isEqualTo("ran");
        }
    }

    @Test
    void aLockHeldHereIsBusyForAnotherProcessUntilUnlocked() throws Exception {
        Lock lock = registry().obtain("k");
        lock.lock();
        assertThat(freeForAnotherProcess("k")).isFalse();
        lock.unlock();
        assertThat(freeForAnotherProcess("k")).isTrue();
    }

    @Test
    void aLockHeldByAnotherProcessFailsTryLockAndBlocksLockUntilReleased() throws Exception {
        Lock lock = registry().obtain("k");
        try (Children holder = child("k", "hold")) {
            holder.expect("LOCKED");
            assertThat(lock.tryLock()).isFalse();
            assertThat(lock.tryLock(100, TimeUnit.MILLISECONDS)).isFalse();
            CompletableFuture<Void> locked = CompletableFuture.runAsync(lock::lock, other);
            holder.send("release");
            holder.expect("UNLOCKED");
            locked.get(30, TimeUnit.SECONDS);
            assertThat(freeForAnotherProcess("k")).isFalse();
            other.submit(lock::unlock).get(30, TimeUnit.SECONDS); // the owner unlocks
            assertThat(freeForAnotherProcess("k")).isTrue();
        }
    }

    @Test
    void theOwnerMayLockAgainAndHoldsUntilTheLastUnlock() throws Exception {
        LocketLockRegistry registry = registry();
        Lock lock = registry.obtain("k");
        lock.lock();
        assertThat(lock.tryLock()).isTrue();
        assertThat(lock.tryLock(1, TimeUnit.SECONDS)).isTrue();
        registry.executeLocked("k", () -> assertThat(registry.obtain("k")).isSameAs(lock)); // nested: no self-deadlock
        lock.unlock();
        lock.unlock();
        assertThat(freeForAnotherThread(lock)).isFalse();
        lock.unlock();
        assertThat(freeForAnotherThread(lock)).isTrue();
        assertThat(freeForAnotherProcess("k")).isTrue();
    }

    @Test
    void unlockByAThreadThatDoesNotHoldTheLockThrowsAndReleasesNothing() throws Exception {
        Lock lock = registry().obtain("k");
        assertThatThrownBy(lock::unlock).isInstanceOf(IllegalMonitorStateException.class);
        lock.lock();
        Future<?> stranger = other.submit(lock::unlock);
        assertThatThrownBy(() -> stranger.get(30, TimeUnit.SECONDS))
                .hasCauseInstanceOf(IllegalMonitorStateException.class);
        assertThat(freeForAnotherProcess("k")).isFalse();
        lock.unlock();
        assertThat(freeForAnotherProcess("k")).isTrue();
    }

    @Test
    void threadsSharingOneLockObjectTakeTurns() throws Exception {
        Lock lock = registry().obtain("k");
        lock.lock();
        assertThat(freeForAnotherThread(lock)).isFalse();
        CountDownLatch waiting = new CountDownLatch(1);
        Future<Boolean> second = other.submit(() -> {
            waiting.countDown();
            lock.lock();
            try {
                return true;
            } finally {
                lock.unlock();
            }
        });
        waiting.await();
        assertThat(second.isDone()).isFalse();
        lock.unlock();
        assertThat(second.get(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void lockIgnoresAnInterruptButKeepsItWhileLockInterruptiblyAndTimedTryLockThrow() throws Exception {
        Lock lock = registry().obtain("k");
        try (Children holder = child("k", "hold")) {
            holder.expect("LOCKED");
            CompletableFuture<Boolean> uninterruptible = new CompletableFuture<>();
            Thread u = new Thread(() -> {
                lock.lock();
                uninterruptible.complete(Thread.currentThread().isInterrupted());
                lock.unlock();
            });
            CompletableFuture<Throwable> interruptible = new CompletableFuture<>();
            Thread i = new Thread(() -> {
                try {
                    lock.lockInterruptibly();
                    interruptible.complete(null);
                } catch (Throwable e) {
                    interruptible.complete(e);
                }
            });
            CompletableFuture<Throwable> timed = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    timed.complete(lock.tryLock(1, TimeUnit.HOURS) ? null : new AssertionError("timed out"));
                } catch (Throwable e) {
                    timed.complete(e);
                }
            });
            for (Thread thread : List.of(u, i, t)) {
                thread.start();
                thread.interrupt();
            }
            assertThat(interruptible.get(30, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            assertThat(timed.get(30, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            assertThat(uninterruptible).isNotDone(); // still waiting, interrupt or not
            holder.send("release");
            holder.expect("UNLOCKED");
            assertThat(uninterruptible.get(30, TimeUnit.SECONDS)).as("interrupt status kept").isTrue();
            u.join();
        }
        // The interrupted waiters hold nothing: free again here and elsewhere.
        assertThat(freeForAnotherThread(lock)).isTrue();
        assertThat(freeForAnotherProcess("k")).isTrue();
    }

    @Test
    void newConditionIsUnsupported() {
        assertThatThrownBy(() -> registry().obtain("k").newCondition()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void keysThatAreNotPlainFileNamesAreRejectedByName() {
        LocketLockRegistry registry = registry();
        for (String key : List.of("a/b", "../escape", "..", ".", "", "back\\slash", "x".repeat(241))) {
            assertThatThrownBy(() -> registry.obtain(key)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("'" + key + "'");
        }
        assertThat(registry.obtain(12345).tryLock()).isTrue(); // any object: its string form names the file
        assertThat(dir.resolve("12345.lock")).exists();
    }

    @Test
    void obtainReturnsOneLockPerKeyUntilExpiredWhileHeldLocksAreKept() throws Exception {
        LocketLockRegistry registry = registry();
        Lock held = registry.obtain("held");
        Lock idle = registry.obtain("idle");
        assertThat(registry.obtain("idle")).isSameAs(idle);
        held.lock();
        registry.expireUnusedOlderThan(0);
        assertThat(registry.obtain("held")).isSameAs(held);
        assertThat(registry.obtain("idle")).isNotSameAs(idle);
        // A new object for a key still excludes holders of the old one, through the file.
        held.unlock();
        registry.expireUnusedOlderThan(0);
        Lock renewed = registry.obtain("held");
        assertThat(renewed).isNotSameAs(held);
        held.lock();
        assertThat(freeForAnotherThread(renewed)).isFalse();
        held.unlock();
        assertThat(freeForAnotherThread(renewed)).isTrue();
    }
}
