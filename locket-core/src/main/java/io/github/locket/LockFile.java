package io.github.locket;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

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
            Object r = entry().acquire(this, true);
            if (r instanceof Lock) {
                return (Lock) r;
            } else if (r instanceof Waiter) {
                return ((Waiter) r).await(timeoutNanos < 0 ? -1 : Math.max(0, timeoutNanos - (System.nanoTime() - start)));
            }
            // FileEntry.CLOSED: the entry was evicted under us; resolve the path again.
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
        try {
            for (;;) {
                Object r = entry().acquire(this, timeoutNanos != 0);
                if (r instanceof Lock) {
                    return CompletableFuture.completedFuture((Lock) r);
                } else if (r instanceof Waiter) {
                    Waiter w = (Waiter) r;
                    if (timeoutNanos > 0) {
                        w.scheduleTimeout(timeoutNanos);
                    }
                    return w.future();
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
            } else if (r != FileEntry.CLOSED) {
                return (Lock) r;
            }
        }
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
