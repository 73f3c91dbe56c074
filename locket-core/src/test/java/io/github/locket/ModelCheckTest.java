package io.github.locket;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.Lincheck;
import org.junit.jupiter.api.Test;

/**
 * Model checking of one file's waiter queue with Lincheck: every interleaving (up to the bound) of
 * a release, a cancellation, a timeout, a barging attempt and a shared holder's arrival, over an
 * {@link OsLock} in memory. After each: at most one exclusive holder at any moment, every future
 * either cancelled or completed with a lock that was really held, and nothing held at the end.
 */
final class ModelCheckTest {
    /** Interleavings explored per test: {@code -Dlocket.modelcheck.invocations} (default 1,000). */
    private static final int INVOCATIONS = Integer.getInteger("locket.modelcheck.invocations", 1_000);

    /** Never touched: the model checker allows no file operation, so the world is in memory. */
    private static final Path FILE = Path.of("/model-checked/a.lock");
    private static final Object KEY = "the one file";

    /** A release racing with a cancellation of the waiter it grants, and a barging attempt. */
    @Test
    void aGrantMeetingACancelAndABargerLeavesOneHolderAndNothingLeaked() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            World w = new World();
            Lock first = w.take(w.lockFile);
            CompletableFuture<Lock> waiting = w.lockFile.acquireAsync();
            Thread releaser = new Thread(first::close);
            Thread canceller = new Thread(() -> waiting.cancel(false));
            Thread barger = new Thread(() -> w.attempt(w.lockFile));
            start(releaser, canceller, barger);
            w.settle(waiting);
            w.end();
        });
    }

    /** A timeout (completion from outside) racing with the grant, and a second waiter behind. */
    @Test
    void aTimeoutMeetingAGrantHandsTheLockToTheNextWaiterOrReleasesIt() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            World w = new World();
            Lock first = w.take(w.lockFile);
            CompletableFuture<Lock> timed = w.lockFile.acquireAsync();
            CompletableFuture<Lock> next = w.lockFile.acquireAsync();
            Thread releaser = new Thread(first::close);
            // As orTimeout does it (a LockTimeoutException's message would read the path: a file
            // operation to the model checker).
            Thread timer = new Thread(() -> timed.completeExceptionally(new java.util.concurrent.TimeoutException()));
            start(releaser, timer);
            w.settle(timed);
            w.settle(next);
            w.end();
        });
    }

    /** Readers and a writer: a shared arrival, a writer queued, and the first reader leaving. */
    @Test
    void readersAndAWriterNeverHoldTogether() {
        Lincheck.runConcurrentTest(INVOCATIONS, () -> {
            World w = new World();
            LockFile shared = w.lockFile.shared();
            Lock reader = w.take(shared);
            CompletableFuture<Lock> writer = w.lockFile.acquireAsync();
            Thread leaving = new Thread(reader::close);
            Thread arriving = new Thread(() -> w.attempt(shared));
            start(leaving, arriving);
            w.settle(writer);
            w.end();
        });
    }

    /** Plain checks: the model checker explores AssertJ's objects too, whose equals throws. */
    private static void check(boolean condition, String what) {
        if (!condition) {
            throw new AssertionError(what);
        }
    }

    private static void start(Thread... threads) {
        for (Thread t : threads) {
            t.start();
        }
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** One lock file over an operating-system lock in memory, in an environment of its own. */
    private static final class World {
        final MemoryLock os = new MemoryLock(KEY);
        final Env env = new Env(new Inline(), new NoTimer(), (path, e) -> os, true, new Registry.Identity() {
            @Override
            public Object keyOf(Path path) {
                return KEY;
            }

            @Override
            public boolean names(Path path, FileEntry e) {
                return true;
            }
        });
        final LockFile lockFile = new LockFile(FILE, null, env);
        /** Who holds it now: 1000 per exclusive holder, 1 per shared one. */
        final AtomicInteger holding = new AtomicInteger();

        /** The lock, free at the start. */
        Lock take(LockFile lf) {
            try {
                return lf.tryAcquire().orElseThrow();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        /** One attempt; if it gets the lock, holds it for a moment and releases it. */
        void attempt(LockFile lf) {
            try {
                lf.tryAcquire().ifPresent(this::holdAndRelease);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        void holdAndRelease(Lock lock) {
            boolean shared = lock.fileGrant().shared;
            int now = holding.addAndGet(shared ? 1 : 1000);
            check(now == 1000 || (now > 0 && now < 1000), "holders at once: " + now);
            check(lock.isHeld(), "a granted lock says it is held");
            check(os.held, "the OS lock is held while a lock is");
            holding.addAndGet(shared ? -1 : -1000);
            lock.close();
        }

        /** A future's outcome: cancelled or timed out holding nothing, or a lock really held. */
        void settle(CompletableFuture<Lock> f) {
            Lock lock;
            try {
                lock = f.join();
            } catch (CancellationException | CompletionException gaveUp) {
                return;
            }
            holdAndRelease(lock);
            check(!lock.isHeld(), "a closed lock says it is released");
        }

        /** Nothing held or queued at the end: the OS lock is free and the next attempt gets it. */
        void end() {
            check(!os.held, "the OS lock is free after everyone left");
            attempt(lockFile);
            check(!os.held, "the OS lock is free after one more attempt");
        }
    }

    /** The operating-system lock, in memory: this JVM is alone, so every attempt is granted. */
    private static final class MemoryLock extends OsLock {
        private final Object key;
        volatile boolean held;

        MemoryLock(Object key) {
            this.key = key;
        }

        @Override
        Object key() {
            return key;
        }

        @Override
        int tryLock(boolean shared) {
            check(!held, "the OS lock taken twice");
            held = true;
            return GRANTED;
        }

        @Override
        void unlock() {
            check(held, "the OS lock released while not held");
            held = false;
        }

        @Override
        OsWait newWait(FileEntry entry, boolean shared) {
            throw new AssertionError("no other process: nothing to wait for");
        }

        @Override
        boolean safeToClose() {
            return true;
        }

        @Override
        boolean closingDropsOurLocks() {
            return false;
        }

        @Override
        void close() {}
    }

    /** Runs tasks on the caller's thread. */
    private static final class Inline extends ExecuteOnly {
        @Override
        public void execute(Runnable command) {
            command.run();
        }
    }

    /** A timer that never fires (the leak backstop's tick): no thread inside the model checker. */
    private static final class NoTimer extends ExecuteOnly implements ScheduledExecutorService {
        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return new Never<>();
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            return new Never<>();
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            return new Never<>();
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay,
                TimeUnit unit) {
            return new Never<>();
        }

        @Override
        public void execute(Runnable command) {
            throw new AssertionError("nothing runs on the timer here");
        }
    }

    private static final class Never<V> extends CompletableFuture<V> implements ScheduledFuture<V> {
        @Override
        public long getDelay(TimeUnit unit) {
            return Long.MAX_VALUE;
        }

        @Override
        public int compareTo(Delayed o) {
            return 0;
        }
    }
}
