package io.github.locket;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;

/**
 * One acquisition in progress, and the one path every acquisition takes: resolve the path,
 * attempt, queue (unless it is a single attempt), and start over when the grant turned out to be
 * on a file the path no longer names or the entry closed under it.
 *
 * <p>{@link #result} is the user's future: whoever completes it first decides. A grant that
 * arrives after it completed (cancelled, timed out, completed from outside) is released by {@link
 * #granted}; a completion from outside takes the current waiter out of its queue ({@link #accept}).
 */
final class Acquisition implements BiConsumer<Lock, Throwable> {
    final CompletableFuture<Lock> result = new CompletableFuture<>();
    private final LockFile lockFile;
    private final boolean once; // a single attempt: never queue
    private volatile Waiter current;
    private volatile ScheduledFuture<?> timer;
    /** The thread blocked in {@link LockFile#acquire()} on this, if any: unparked on completion. */
    volatile Thread blocked;

    Acquisition(LockFile lockFile, boolean once) {
        this.lockFile = lockFile;
        this.once = once;
    }

    /** Starts; {@code timeoutNanos > 0} arms a timer that fails the result with the timeout. */
    CompletableFuture<Lock> start(long timeoutNanos) {
        result.whenComplete(this);
        if (timeoutNanos > 0) {
            ScheduledFuture<?> t = lockFile.env.timer.schedule(this::expire, timeoutNanos, TimeUnit.NANOSECONDS);
            timer = t;
            if (result.isDone()) {
                t.cancel(false);
            }
        }
        run();
        return result;
    }

    /** Resolve, attempt, queue: until granted, queued, failed, or told to wait for a close. */
    void run() {
        while (!result.isDone()) {
            FileEntry e;
            Attempt a;
            try {
                e = lockFile.entry();
                a = e.acquire(lockFile.path(), once ? null : this);
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
                    r.after().whenComplete((v, t) -> run()); // on the thread that closed the entry
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
        if (waiting != null) {
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
