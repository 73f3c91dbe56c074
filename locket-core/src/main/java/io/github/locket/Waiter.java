package io.github.locket;

import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * One queued acquisition. Its future is the user's: whoever completes it first decides. A grant
 * that loses (the future was cancelled or timed out first) is released at once.
 */
final class Waiter implements BiConsumer<Lock, Throwable>, Runnable {
    final FileEntry entry;
    final LockFile lockFile;
    private final CompletableFuture<Lock> future = new CompletableFuture<>();
    private volatile ScheduledFuture<?> timeoutTask;

    // Guarded by entry's monitor.
    Waiter prev;
    Waiter next;
    boolean linked;
    Lock grant;

    Waiter(FileEntry entry, LockFile lockFile) {
        this.entry = entry;
        this.lockFile = lockFile;
    }

    CompletableFuture<Lock> future() {
        return future;
    }

    /** Arms the abandonment callback; call once the waiter is queued, outside the monitor. */
    void watch() {
        future.whenComplete(this);
    }

    /** Completion by anyone: leave the queue (a no-op once granted) and stop the timer. */
    @Override
    public void accept(Lock lock, Throwable failure) {
        ScheduledFuture<?> t = timeoutTask;
        if (t != null) {
            t.cancel(false);
        }
        entry.abandon(this);
    }

    /** Hands the grant to the user, or releases it if the user's future is already complete. */
    void deliver() {
        Lock lock = grant;
        grant = null;
        if (!future.complete(lock)) {
            lock.close();
        }
    }

    void scheduleTimeout(long nanos) {
        ScheduledFuture<?> t = Threads.schedule(this, nanos);
        timeoutTask = t;
        if (future.isDone()) {
            t.cancel(false);
        }
    }

    /** The timer fired. Complete on an I/O thread so that user callbacks never stall the timer. */
    @Override
    public void run() {
        Threads.execute(() -> future.completeExceptionally(lockFile.timeoutException()));
    }

    /** Blocking wait for {@link LockFile#acquire()}: -1 nanos waits forever. */
    Lock await(long nanos) throws IOException, InterruptedException {
        try {
            return nanos < 0 ? future.get() : future.get(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            if (!future.cancel(false)) {
                // Granted in the same instant: release rather than hand an interrupted caller a lock.
                releaseIfGranted();
            }
            throw e;
        } catch (TimeoutException e) {
            LockTimeoutException timedOut = lockFile.timeoutException();
            if (future.completeExceptionally(timedOut)) {
                throw timedOut;
            }
            return outcome(); // granted (or failed) in the same instant: honour it
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    private void releaseIfGranted() {
        try {
            future.join().close();
        } catch (CompletionException | CancellationException notGranted) {
            // nothing held
        }
    }

    private Lock outcome() throws IOException {
        try {
            return future.join();
        } catch (CompletionException e) {
            throw rethrow(e.getCause());
        }
    }

    private static IOException rethrow(Throwable cause) {
        if (cause instanceof IOException) {
            return (IOException) cause;
        } else if (cause instanceof RuntimeException) {
            throw (RuntimeException) cause;
        } else if (cause instanceof Error) {
            throw (Error) cause;
        }
        return new IOException(cause);
    }
}
