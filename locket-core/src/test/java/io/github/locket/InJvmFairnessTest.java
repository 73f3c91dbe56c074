package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fairness within one JVM: a releasing or arriving thread may take a free lock ahead of parked
 * waiters (barging), but a waiter that has waited longer than {@link FileEntry#STARVE_NANOS} is
 * then served first; shared holders hold together, and a queued exclusive waiter stops new ones.
 */
final class InJvmFairnessTest {
    @TempDir
    Path dir;

    private final ExecutorService threads = Executors.newCachedThreadPool();

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    @Test
    void aBlockedThreadIsNotStarvedByAThreadThatKeepsReacquiring() throws Exception {
        LockFile lockFile = Locket.lockFile(dir.resolve("a.lock"));
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong laps = new AtomicLong();
        Lock first = lockFile.acquire();
        CompletableFuture<Void> barger = CompletableFuture.runAsync(() -> {
            try {
                Lock held = first;
                while (!stop.get()) {
                    held.close();
                    held = lockFile.acquire(); // may barge in ahead of the parked waiter
                    laps.incrementAndGet();
                }
                held.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, threads);
        CompletableFuture<Long> waiter = CompletableFuture.supplyAsync(() -> {
            try (Lock lock = lockFile.acquire()) {
                return laps.get(); // the barger is still at it
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, threads);
        try {
            waiter.get(20, TimeUnit.SECONDS); // starvation would keep it out for good
            assertThat(barger).isNotDone();
        } finally {
            stop.set(true);
        }
        barger.get(20, TimeUnit.SECONDS);
    }

    /**
     * The interleaving of starvation mode, step by step: the woken waiter comes for the lock after a
     * barging thread took it, having waited over a millisecond; from the next release on, the lock
     * is handed to it, and nobody can barge in ahead.
     */
    @Test
    void aWaiterThatLosesToABargingThreadAfterAMillisecondIsHandedTheNextRelease() throws Exception {
        LockFile lockFile = Locket.lockFile(dir.resolve("a.lock"));
        // A blocked waiter, with this thread standing in for its own: we make its moves. It has
        // waited since it began, which is over a millisecond ago when it queues.
        Acquisition blocked = new Acquisition(lockFile, false, Thread.currentThread());
        await().pollInterval(Duration.ofMillis(1))
                .until(() -> System.nanoTime() - blocked.since > 2 * FileEntry.STARVE_NANOS);
        Lock first = lockFile.acquire();
        CompletableFuture<Lock> result = blocked.start(0);
        Waiter w = blocked.current();
        assertThat(w).isNotNull();

        first.close(); // the lock is left vacant and the waiter told to come
        assertThat(w.takeSignals()).isEqualTo(Waiter.COMPETE);
        Lock barger = lockFile.tryAcquire().orElseThrow(() -> new AssertionError("could not barge in"));
        assertThat(w.entry.compete(w)).as("the barger holds it").isNull();

        barger.close(); // starvation mode: handed to the waiter, not left vacant
        assertThat(result).isCompleted();
        assertThat(lockFile.tryAcquire()).as("no barging in starvation mode").isEmpty();
        result.join().close();
        lockFile.tryAcquire().orElseThrow().close();
    }

    /**
     * A waiter woken to take the vacant lock is told, before it comes, to wait for the operating
     * system instead (this JVM's budget ran out when another thread arrived). Once it is served and
     * releases, the next blocked thread must be woken: an entry that still counted the first as
     * "woken" woke nobody, and that thread parked forever (seen as a hang of three processes of two
     * threads counting under the lock).
     */
    @Test
    void aWokenWaiterSentToWaitInTheKernelDoesNotKeepTheNextOneAsleep() throws Exception {
        LockFile lockFile = Locket.lockFile(dir.resolve("a.lock"));
        Acquisition blocked = new Acquisition(lockFile, false, Thread.currentThread());
        Lock first = lockFile.acquire();
        long osSince = System.nanoTime();
        blocked.start(0);
        Waiter w = blocked.current();
        first.close(); // vacant; the waiter is told to come (it does not come yet)
        await().pollInterval(Duration.ofMillis(1))
                .until(() -> System.nanoTime() - osSince > 2 * FileEntry.MAX_HOLD_NANOS);
        CompletableFuture<Void> next = CompletableFuture.runAsync(() -> {
            try {
                lockFile.acquire().close(); // the budget is spent: queues, and the OS lock goes back
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, threads);
        await().atMost(Duration.ofSeconds(10)).until(() -> w.entry.state() == FileEntry.State.OS_WAIT);
        // Now the waiter comes, with both messages, and is served through the kernel.
        Lock lock = blocked.await(-1, 0);
        lock.close();
        next.get(10, TimeUnit.SECONDS);
    }

    @Test
    void sharedHoldersHoldTogetherAndExcludeAnExclusiveOne() throws Exception {
        LockFile exclusive = Locket.lockFile(dir.resolve("a.lock"));
        LockFile shared = exclusive.shared();
        assertThat(shared.isShared()).isTrue();
        assertThat(shared.exclusive().isShared()).isFalse();
        Lock r1 = shared.acquire();
        Lock r2 = shared.tryAcquire().orElseThrow(() -> new AssertionError("a second reader is refused"));
        assertThat(r1).hasToString("Lock[" + dir.resolve("a.lock") + ", held, shared]");
        assertThat(exclusive.tryAcquire()).as("a writer while readers hold").isEmpty();
        CompletableFuture<Lock> writer = exclusive.acquireAsync();
        r1.close();
        assertThat(writer).as("one reader still holds").isNotDone();
        r2.close();
        Lock w = writer.get(10, TimeUnit.SECONDS);
        assertThat(shared.tryAcquire()).as("a reader while the writer holds").isEmpty();
        w.close();
        shared.tryAcquire().orElseThrow().close();
    }

    @Test
    void aQueuedWriterStopsNewReadersSoAStreamOfReadersCannotStarveIt() throws Exception {
        LockFile shared = Locket.lockFile(dir.resolve("a.lock")).shared();
        LockFile exclusive = shared.exclusive();
        Lock r1 = shared.acquire();
        CompletableFuture<Lock> writer = exclusive.acquireAsync();
        assertThat(shared.tryAcquire()).as("a new reader behind a queued writer").isEmpty();
        CompletableFuture<Lock> lateReader = shared.acquireAsync();
        r1.close();
        Lock w = writer.get(10, TimeUnit.SECONDS);
        assertThat(lateReader).isNotDone();
        w.close();
        lateReader.get(10, TimeUnit.SECONDS).close();
    }

    @Test
    void aReaderJoinsOtherReadersHoweverLongTheyHaveHeldTheLock() throws Exception {
        LockFile shared = Locket.lockFile(dir.resolve("a.lock")).shared();
        Lock first = shared.acquire();
        long since = System.nanoTime();
        await().pollInterval(Duration.ofMillis(1)).until(() -> System.nanoTime() - since > 2 * FileEntry.MAX_HOLD_NANOS);
        Lock second = shared.tryAcquire().orElseThrow(() -> new AssertionError("a reader kept out after 20 ms"));
        try (Lock nested = shared.withTimeout(Duration.ofSeconds(5)).acquire()) { // would deadlock if readers queued
            assertThat(nested.isHeld()).isTrue();
        }
        second.close();
        first.close();
    }

    @Test
    void queuedReadersAreServedTogether() throws Exception {
        LockFile exclusive = Locket.lockFile(dir.resolve("a.lock"));
        Lock w = exclusive.acquire();
        CompletableFuture<Lock> r1 = exclusive.shared().acquireAsync();
        CompletableFuture<Lock> r2 = exclusive.shared().acquireAsync();
        w.close();
        Lock a = r1.get(10, TimeUnit.SECONDS);
        Lock b = r2.get(10, TimeUnit.SECONDS);
        assertThat(a.isHeld() && b.isHeld()).isTrue();
        a.close();
        b.close();
    }

    @Test
    void aTryAcquireMayTakeAFreeLockAheadOfAWokenWaiterButNotOneHeld() throws Exception {
        LockFile lockFile = Locket.lockFile(dir.resolve("a.lock"));
        Lock held = lockFile.acquire();
        Thread waiting = new Thread(() -> {
            try {
                lockFile.acquire().close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        waiting.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> waiting.getState() == Thread.State.WAITING);
        assertThat(lockFile.tryAcquire()).as("held").isEmpty();
        held.close();
        Optional<Lock> barged = lockFile.tryAcquire(); // free now, if the waiter is not there yet
        barged.ifPresent(Lock::close);
        waiting.join(10_000);
        assertThat(waiting.isAlive()).isFalse();
        lockFile.tryAcquire().orElseThrow().close();
    }
}
