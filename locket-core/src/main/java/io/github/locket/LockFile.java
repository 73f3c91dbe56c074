package io.github.locket;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;

/**
 * A lock named by a file: one lock per file, in this JVM and across processes. Made by {@link
 * Locket#lockFile(Path)} and {@link Locket#lockFile(Path, Duration)}.
 *
 * <h2>Semantics</h2>
 *
 * <ul>
 *   <li>Every {@code LockFile} naming the same file (the same path, a relative path, a path
 *       through a symbolic link, a hard link) is one lock. Threads of one JVM exclude each other
 *       exactly as processes do.
 *   <li>Each successful acquisition returns a new {@link Lock}; the lock stays held until that
 *       handle is {@linkplain Lock#close() closed}, by any thread. Closing twice is harmless.
 *   <li>Not reentrant: acquiring a lock this thread already holds waits, or times out, like any
 *       other acquisition.
 *   <li>Waiters in this JVM are served first come, first served. After this JVM has passed the
 *       lock directly between its own waiters for a short while (64 hand-offs or 10 ms), it gives
 *       the lock back to the operating system so that a waiting process gets its turn.
 *   <li>When the holding process dies, the operating system frees the lock.
 *   <li>The lock file is created (empty) when missing and never deleted. Lock byte range [0,1):
 *       on Windows this is what Python's locket and filelock lock too.
 *   <li>If another program deletes the lock file, or renames another file over it, an acquisition
 *       does not return a lock on the file the path no longer names: after each grant the path is
 *       checked (one {@code stat}, comparing device and inode) and, if it names another file or
 *       none, the grant is released and the acquisition starts over on the path's file, within the
 *       same timeout. (An uncontended grant reuses a check made in the last 50 ms; a grant that
 *       waited is always checked.) A process that already holds the old file keeps it, though,
 *       and cannot be told; so do not let anything delete or replace a lock file in use. (Not on
 *       Windows, where a file has no cheap identity.)
 * </ul>
 *
 * <h2>Timeouts</h2>
 *
 * With no timeout ({@link Locket#lockFile(Path)}), {@link #acquire()} and {@link #acquireAsync()}
 * wait as long as it takes; with {@link Duration#ZERO} they make one non-blocking attempt; with a
 * positive timeout they fail with {@link LockTimeoutException} when it expires. A timed wait is
 * granted as quickly as an untimed one: nothing polls. {@link #tryAcquire()} always makes one
 * attempt.
 *
 * <h2>Failures</h2>
 *
 * A path that cannot be a lock file (a directory, a missing parent directory, a file this user may
 * not write, a device or FIFO) fails the acquisition at once with an {@link IOException} that
 * names the path; nothing is left held.
 *
 * <h2>Caveats</h2>
 *
 * On Linux the lock is a POSIX record lock ({@code fcntl}), which the kernel drops when the holding
 * process closes <em>any</em> descriptor of the file. Do not open the lock file in any other way in
 * a JVM that holds it; store data elsewhere. Behaviour after {@code fork} is undefined.
 *
 * <h2>Thread safety</h2>
 *
 * Instances are immutable and thread-safe; use one from as many threads as you like. Releasing a
 * lock <i>happens-before</i> the acquisition that next obtains it in this JVM.
 */
public final class LockFile {
    private final Path path;
    private final Duration timeout; // null: wait forever
    private final long timeoutNanos; // -1: forever, 0: one attempt
    private final Resolved resolved; // shared with the copies made by withTimeout

    /**
     * An uncontended grant trusts a check of the path made this recently. The check is a {@code
     * stat} (about 1.5 us here, as much as the lock itself); even made after every grant, it cannot
     * stop a replacement just after it, which leaves the holder on the old file for its whole
     * critical section. Reusing a check for 50 ms widens that window a little and keeps a busy
     * lock's cost at the system calls that lock it. Grants that waited are always checked.
     */
    static final long RECHECK_NANOS = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(50);

    /** The entry a path resolved to last time; re-resolved once it is closed. */
    private static final class Resolved {
        volatile FileEntry entry;
    }

    LockFile(Path path, Duration timeout) {
        this(path, timeout, new Resolved());
    }

    private LockFile(Path path, Duration timeout, Resolved resolved) {
        this.path = path;
        this.timeout = timeout;
        this.timeoutNanos = Durations.toNanos(timeout);
        this.resolved = resolved;
    }

    /**
     * Returns the same lock with another timeout. Cheaper than {@link Locket#lockFile(Path,
     * Duration)} for a path already used: the copy shares what this one learnt about the file.
     *
     * @param timeout the copy's timeout; {@link Duration#ZERO} for a single attempt
     * @return a {@code LockFile} for the same path
     * @throws NullPointerException if {@code timeout} is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public LockFile withTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout < 0: " + timeout + " (for lock file " + path + ")");
        }
        return new LockFile(path, timeout, resolved);
    }

    /**
     * Returns the same lock, waiting as long as it takes. Shares what this one learnt about the
     * file, like {@link #withTimeout(Duration)}.
     *
     * @return a {@code LockFile} for the same path with no timeout
     */
    public LockFile withoutTimeout() {
        return timeout == null ? this : new LockFile(path, null, resolved);
    }

    /**
     * Returns the lock file's path, as given.
     *
     * @return the path
     */
    public Path path() {
        return path;
    }

    /**
     * Returns the timeout of {@link #acquire()} and {@link #acquireAsync()}.
     *
     * @return the timeout, or empty if they wait as long as it takes
     */
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    /**
     * Acquires the lock, waiting until it is free or the timeout expires.
     *
     * <p>An interrupt, before or during the wait, ends it with {@link InterruptedException} and
     * leaves nothing held, even if the lock was granted in the same instant.
     *
     * @return the held lock; close it to release
     * @throws LockTimeoutException if the timeout expired first
     * @throws InterruptedException if this thread was interrupted
     * @throws IOException if the file cannot be locked; the message names the path
     */
    public Lock acquire() throws IOException, InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before acquiring " + path);
        }
        long start = timeoutNanos > 0 ? System.nanoTime() : 0; // the timeout counts from the call
        if (timeoutNanos == 0) {
            Lock lock = attempt();
            if (lock == null) {
                throw timeoutException();
            }
            return lock;
        }
        for (;;) {
            FileEntry e = entry();
            Object r = e.acquire(this, true);
            Lock lock;
            if (r instanceof Lock) {
                lock = (Lock) r;
            } else if (r instanceof Waiter) {
                // The timeout counts from the call, across a stale grant too (see verify); 0 still
                // waits for a grant already under way, then times out.
                lock = ((Waiter) r).await(timeoutNanos < 0 ? -1 : Math.max(0, timeoutNanos - (System.nanoTime() - start)));
            } else {
                continue; // FileEntry.CLOSED: the entry was evicted under us; resolve the path again
            }
            if (verify(e, lock, r instanceof Lock)) {
                return lock;
            }
        }
    }

    /**
     * Starts an acquisition and returns at once with its future. The caller's thread makes at
     * most one non-blocking attempt (and opens the file on first use); any wait happens without a
     * thread of the caller's.
     *
     * <p>The future completes with the held {@link Lock}, or exceptionally with {@link
     * LockTimeoutException} when the timeout expires, or with an {@link IOException} naming the
     * path if the file cannot be locked. It may complete on the thread that released the previous
     * holder (inside its {@link Lock#close()}) or on a library thread named {@code locket-*}; keep
     * dependent actions short or use the {@code *Async} variants of {@link CompletableFuture}.
     *
     * <p><b>Cancellation.</b> Completing the future from outside &mdash; {@link
     * CompletableFuture#cancel(boolean) cancel}, {@link CompletableFuture#orTimeout orTimeout},
     * {@link CompletableFuture#completeExceptionally completeExceptionally}, {@code complete} &mdash;
     * abandons the wait: the waiter leaves the queue, an operating-system wait made for it stops,
     * and a grant that races with the abandonment is released at once. Nothing is ever held for a
     * future that did not complete with the lock.
     *
     * @return a future of the held lock
     */
    public CompletableFuture<Lock> acquireAsync() {
        long deadline = timeoutNanos > 0 ? System.nanoTime() + timeoutNanos : 0; // counts from the call
        try {
            for (;;) {
                FileEntry e = entry();
                Object r = e.acquire(this, timeoutNanos != 0);
                if (r instanceof Lock) {
                    if (verify(e, (Lock) r, true)) {
                        return CompletableFuture.completedFuture((Lock) r);
                    }
                } else if (r instanceof Waiter) {
                    return new Verified(deadline).follow((Waiter) r);
                } else if (r == null) {
                    return CompletableFuture.failedFuture(timeoutException());
                } else if (r == FileEntry.ORPHANED) {
                    return attemptAsync(); // stopping the orphaned wait may block: not on this thread
                }
            }
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * The user's future of a queued acquisition: completed with a grant only once {@link #verify}
     * accepted it, else the acquisition starts over on the file the path names now. Completing it
     * from outside abandons the current wait, exactly as completing a waiter's own future does.
     */
    private final class Verified implements BiConsumer<Lock, Throwable> {
        private final CompletableFuture<Lock> result = new CompletableFuture<>();
        private final long deadline; // System.nanoTime() when the timeout expires; 0: untimed
        private volatile Waiter current;

        Verified(long deadline) {
            this.deadline = deadline;
        }

        /** The user's future completed (by us, or from outside): abandon the current wait. */
        @Override
        public void accept(Lock lock, Throwable failure) {
            current.future().cancel(false); // a no-op once the waiter's future completed
        }

        /** Follows the queued waiter {@code w}: the first one, or one after a stale grant. */
        CompletableFuture<Lock> follow(Waiter w) {
            if (timeoutNanos > 0) {
                w.scheduleTimeout(Math.max(1, deadline - System.nanoTime()));
            }
            boolean first = current == null;
            current = w;
            if (first) {
                result.whenComplete(this);
            } else if (result.isDone()) {
                w.future().cancel(false); // completed from outside while we were starting over
            }
            w.future().whenComplete((lock, failure) -> granted(w, lock, failure));
            return result;
        }

        private void granted(Waiter w, Lock lock, Throwable failure) {
            if (failure != null) {
                result.completeExceptionally(failure);
                return;
            }
            try {
                if (verify(w.entry, lock, false)) {
                    if (!result.complete(lock)) {
                        lock.close(); // the user's future completed meanwhile
                    }
                    return;
                }
                while (!result.isDone()) { // start over on the file the path names now
                    FileEntry e = entry();
                    Object r = e.acquire(LockFile.this, true);
                    if (r instanceof Waiter) {
                        follow((Waiter) r);
                        return;
                    } else if (r instanceof Lock && verify(e, (Lock) r, true)) {
                        if (!result.complete((Lock) r)) {
                            ((Lock) r).close();
                        }
                        return;
                    }
                }
            } catch (IOException | RuntimeException e) {
                result.completeExceptionally(e);
            }
        }
    }

    /** The single attempt of a zero timeout, made on a library thread. */
    private CompletableFuture<Lock> attemptAsync() {
        CompletableFuture<Lock> future = new CompletableFuture<>();
        Threads.execute(() -> {
            try {
                Lock lock = attempt();
                if (lock == null) {
                    future.completeExceptionally(timeoutException());
                } else if (!future.complete(lock)) {
                    lock.close(); // cancelled meanwhile
                }
            } catch (IOException | RuntimeException e) {
                future.completeExceptionally(e);
            }
        });
        return future;
    }

    /**
     * Makes one non-blocking attempt, whatever the timeout. Fails (returns empty) if the lock is
     * held by anyone, including this thread, or if waiters in this JVM are queued for it. Like any
     * single attempt it can lose to concurrent activity: a lock being handed to a waiter that just
     * gave up is busy until that hand-over releases it, a moment later.
     *
     * <p>If an acquisition in this JVM was abandoned while it waited on the operating system, that
     * wait must be stopped before the attempt; this can take about a millisecond. ({@link
     * #acquireAsync()} with a zero timeout does it on a library thread instead.)
     *
     * @return the held lock, or empty if it is not free
     * @throws IOException if the file cannot be locked; the message names the path
     */
    public Optional<Lock> tryAcquire() throws IOException {
        return Optional.ofNullable(attempt());
    }

    /** One attempt: the held lock, or null if busy. */
    private Lock attempt() throws IOException {
        for (;;) {
            FileEntry e = entry();
            Object r = e.acquire(this, false);
            if (r == FileEntry.ORPHANED) {
                // An abandoned acquisition's OS wait is still pending: stop it (this can wait for
                // the I/O thread to leave the kernel, about a millisecond), then try afresh.
                Registry.evictIfUnused(e);
            } else if (r == null) {
                return null;
            } else if (r != FileEntry.CLOSED && verify(e, (Lock) r, true)) {
                return (Lock) r;
            }
        }
    }

    /**
     * The identity check, after every grant: does the path still name the file that {@code e}
     * locked? Another program may have deleted the lock file, or renamed another file over it,
     * since {@code e} was opened (a cached entry, or a waiter queued on the old file). A lock on
     * the old file then excludes nobody who opens the path now, so it is released, the path
     * resolved again, and the caller starts over.
     *
     * <p>One {@code stat} of the path; it cannot see a replacement that happens after it returns.
     *
     * @return true if {@code lock} may be handed out; false if it was released
     * @throws IOException if the path cannot be examined any more (the lock was released)
     */
    private boolean verify(FileEntry e, Lock lock, boolean uncontended) throws IOException {
        long now = System.nanoTime();
        if (uncontended && now - e.verifiedAt < RECHECK_NANOS) {
            return true; // the path named this file moments ago (see RECHECK_NANOS)
        }
        boolean same;
        try {
            same = Registry.names(path, e);
        } catch (IOException | RuntimeException failure) {
            lock.close();
            throw failure;
        }
        if (same) {
            e.verifiedAt = now;
        } else {
            lock.close();
            if (resolved.entry == e) {
                resolved.entry = null;
            }
            // The path no longer leads to this descriptor: close it once nobody uses it.
            Threads.execute(() -> Registry.evictIfUnused(e));
        }
        return same;
    }

    private FileEntry entry() throws IOException {
        FileEntry e = resolved.entry;
        if (e == null || e.isClosed()) {
            resolved.entry = e = Registry.resolve(path);
        }
        return e;
    }

    LockTimeoutException timeoutException() {
        return new LockTimeoutException(path, timeout);
    }

    /** Returns {@code LockFile[<path>, timeout=<timeout or none>]}. */
    @Override
    public String toString() {
        return "LockFile[" + path + ", timeout=" + (timeout == null ? "none" : Durations.format(timeout)) + "]";
    }
}
