package io.github.locket;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * One acquisition in progress, and the one path every acquisition takes: resolve the path,
 * attempt, queue (unless it is a single attempt), and start over when the grant turned out to be
 * on a file the path no longer names or the entry closed under it.
 *
 * <p>{@link #result} is the user's future: whoever completes it first decides. A grant that
 * arrives after it completed (cancelled, timed out, completed from outside) is released by {@link
 * #granted}; a completion from outside takes the current waiter out of its queue ({@link #accept}).
 *
 * <p>A blocking {@link LockFile#acquire()} waits in {@link #await}: parked, except when its entry
 * asks it to come and take a vacant lock ({@link Waiter#COMPETE}) or to wait for the operating
 * system's lock in the kernel itself ({@link Waiter#KERNEL}).
 */
final class Acquisition implements BiConsumer<Lock, Throwable> {
    final CompletableFuture<Lock> result = new CompletableFuture<>();
    /** When it began (System.nanoTime()): how long it has waited, for starvation mode. */
    final long since = System.nanoTime();
    private final LockFile lockFile;
    private final boolean once; // a single attempt: never queue
    private volatile @Nullable Waiter current;
    private volatile @Nullable ScheduledFuture<?> timer;
    /**
     * The caller's own attempt found the lock held by another process a moment ago: the first
     * attempt here queues at once (the wait in the kernel returns at once if it was freed since).
     */
    boolean osBusy;
    /** The thread blocked in {@link LockFile#acquire()} on this, if any: unparked on completion. */
    final @Nullable Thread blocked;

    Acquisition(LockFile lockFile, boolean once, @Nullable Thread blocked) {
        this.lockFile = lockFile;
        this.once = once;
        this.blocked = blocked;
    }

    /** Starts; {@code timeoutNanos > 0} arms a timer that fails the result with the timeout. */
    CompletableFuture<Lock> start(long timeoutNanos) {
        // handle, not whenComplete: whenComplete would complete its own future with the failure
        // wrapped in a CompletionException, whose constructor calls the failure's toString(), and a
        // LockTimeoutException's message looks up the holders in /proc: milliseconds on this path.
        CompletableFuture<@Nullable Void> unused = result.handle((lock, failure) -> {
            accept(lock, failure);
            return null;
        });
        if (timeoutNanos > 0) {
            arm(timeoutNanos);
        }
        run();
        return result;
    }

    private void arm(long nanos) {
        ScheduledFuture<?> t = lockFile.env.timer.schedule(this::expire, nanos, TimeUnit.NANOSECONDS);
        timer = t;
        if (result.isDone()) {
            t.cancel(false);
        }
    }

    /** Resolve, attempt, queue: until granted, queued, failed, or told to wait for a close. */
    void run() {
        while (!result.isDone()) {
            FileEntry e;
            Attempt a;
            try {
                e = lockFile.entry();
                a = e.acquire(lockFile.path(), once ? null : this, lockFile.isShared());
            } catch (IOException | RuntimeException failure) {
                result.completeExceptionally(failure);
                return;
            }
            if (a instanceof Attempt.Granted g) {
                if (offer(g.lock(), true)) {
                    return;
                }
            } else if (a instanceof Attempt.Queued q) {
                current = q.waiter();
                if (result.isDone()) {
                    e.abandon(q.waiter()); // completed from outside while we queued
                }
                return;
            } else if (a instanceof Attempt.Retry r) {
                if (!r.after().isDone()) {
                    CompletableFuture<Void> unused = r.after().whenComplete((v, t) -> run()); // on the closing thread
                    return;
                }
            } else if (a == Attempt.Deferred.DEFERRED) {
                return; // restarted by the entry once it is closed
            } else {
                result.completeExceptionally(lockFile.timeoutException()); // busy, one attempt only
                return;
            }
        }
    }

    /** The queued waiter, if any (for tests). */
    @Nullable Waiter current() {
        return current;
    }

    /** The entry granted the lock to our waiter (outside its monitor; see {@link Delivery}). */
    void granted(Lock lock) {
        current = null;
        if (result.isDone()) {
            lock.close(); // cancelled or timed out in the same instant
        } else if (!offer(lock, false)) {
            run(); // the path names another file now: start over there
        }
    }

    /** The entry closed with our waiter queued (its release failed): start over on a new one. */
    void restart() {
        current = null;
        run();
    }

    /** The identity check, then the hand-over; false if the grant was stale (and released). */
    private boolean offer(Lock lock, boolean uncontended) {
        try {
            if (!lockFile.verify(lock, uncontended)) {
                return false;
            }
        } catch (IOException | RuntimeException failure) {
            result.completeExceptionally(failure); // verify released the lock
            return true;
        }
        if (!result.complete(lock)) {
            lock.close(); // completed from outside meanwhile
        }
        return true;
    }

    /**
     * The blocked caller's wait, on its own thread (started with no timer: it times itself).
     *
     * @param timeoutNanos -1 for none, else the timeout, counted from {@code start}
     */
    Lock await(long timeoutNanos, long start) throws IOException, InterruptedException {
        // Our own wait, not CompletableFuture.get: get can return a result that arrived with an
        // interrupt and swallow the interrupt (platform threads) or leave it pending (virtual).
        boolean interrupted = false;
        while (!result.isDone()) {
            if (Thread.interrupted()) {
                if (result.cancel(false)) {
                    throw interrupted();
                }
                interrupted = true; // granted or failed in the same instant
                break;
            }
            Waiter w = current;
            int signals = w == null ? 0 : w.takeSignals();
            if (w != null && signals != 0) {
                if ((signals & Waiter.COMPETE) != 0) { // first: it also tells the entry we came
                    Lock lock = w.entry.compete(w);
                    if (lock != null) {
                        granted(lock);
                    }
                }
                if ((signals & Waiter.KERNEL) != 0 && waitInKernel(w, timeoutNanos, start)) {
                    Thread.interrupted(); // the interrupt ended the wait; the exception says so
                    throw interrupted();
                }
                continue;
            }
            if (timeoutNanos < 0) {
                LockSupport.park(this);
            } else {
                long remaining = timeoutNanos - (System.nanoTime() - start);
                if (remaining <= 0) {
                    LockTimeoutException timedOut = lockFile.timeoutException();
                    if (result.completeExceptionally(timedOut)) {
                        throw timedOut;
                    }
                    break; // granted (or failed) in the same instant: honour it
                }
                LockSupport.parkNanos(this, remaining);
            }
        }
        interrupted |= Thread.interrupted();
        if (result.isCompletedExceptionally()) {
            // The failure as it was completed: join() would wrap it in a CompletionException, whose
            // constructor reads its message (a LockTimeoutException's looks up the holders).
            Throwable failure = result.handle((granted, x) -> x).join();
            if (interrupted) {
                Thread.currentThread().interrupt(); // the failure is the answer; keep the interrupt
            }
            throw rethrow(failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure);
        }
        Lock lock = result.join();
        if (interrupted) {
            lock.close(); // the interrupt wins, as promised
            throw interrupted();
        }
        return lock;
    }

    /**
     * Runs the entry's wait for the operating-system lock on this thread, timed by the timer (the
     * thread is in the kernel). Whatever it comes to is reported to the entry, which hands the
     * lock to whoever is first in line then: this acquisition, unless it timed out meanwhile.
     *
     * @return true if an interrupt ended the wait (the result is cancelled)
     */
    private boolean waitInKernel(Waiter w, long timeoutNanos, long start) {
        OsWait task = w.task;
        if (task == null || !task.claim()) {
            return false;
        }
        if (timeoutNanos > 0) {
            arm(Math.max(1, timeoutNanos - (System.nanoTime() - start)));
        }
        int outcome = task.run();
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
        boolean interrupted = task.interrupted() && result.cancel(false);
        w.entry.waitEnded(task, outcome);
        return interrupted;
    }

    private InterruptedException interrupted() {
        return new InterruptedException("interrupted while acquiring " + lockFile.path());
    }

    private static IOException rethrow(@Nullable Throwable cause) {
        if (cause instanceof IOException io) {
            return io;
        } else if (cause instanceof RuntimeException e) {
            throw e;
        } else if (cause instanceof Error e) {
            throw e;
        }
        return new IOException(cause);
    }

    /** The result completed, by us or from outside: stop the timer and leave the queue. */
    @Override
    public void accept(Lock lock, Throwable failure) {
        ScheduledFuture<?> t = timer;
        if (t != null) {
            t.cancel(false);
        }
        Waiter w = current;
        if (w != null) {
            w.entry.abandon(w);
        }
        Thread waiting = blocked;
        if (waiting != null && waiting != Thread.currentThread()) {
            // Not itself: a blocked caller that completed its own result is running, and looks at
            // the result before it parks again. Unparking itself took about 4 us of a cross-process
            // hand-off (cold, measured) and left a permit that made its next park return at once.
            LockSupport.unpark(waiting);
        }
    }

    /** The timer fired: fail on an I/O thread, so that user callbacks never stall the timer. */
    private void expire() {
        try {
            lockFile.env.io.execute(() -> result.completeExceptionally(lockFile.timeoutException()));
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(lockFile.timeoutException());
        }
    }
}
