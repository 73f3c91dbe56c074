package io.github.locket;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.locks.LockSupport;

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
public final class LockFile implements NamedLock {
    private final Path path;
    private final Duration timeout; // null: wait forever
    private final long timeoutNanos; // -1: forever, 0: one attempt
    private final Resolved resolved; // shared with the copies made by withTimeout
    final Env env;

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

    LockFile(Path path, Duration timeout, Env env) {
        this(path, timeout, new Resolved(), env);
    }

    private LockFile(Path path, Duration timeout, Resolved resolved, Env env) {
        this.path = path;
        this.timeout = timeout;
        this.timeoutNanos = Durations.toNanos(timeout);
        this.resolved = resolved;
        this.env = env;
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
    @Override
    public LockFile withTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout < 0: " + timeout + " (for lock file " + path + ")");
        }
        return new LockFile(path, timeout, resolved, env);
    }

    /**
     * Returns the same lock, waiting as long as it takes. Shares what this one learnt about the
     * file, like {@link #withTimeout(Duration)}.
     *
     * @return a {@code LockFile} for the same path with no timeout
     */
    @Override
    public LockFile withoutTimeout() {
        return timeout == null ? this : new LockFile(path, null, resolved, env);
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
     * Returns the path as a string: the name that messages show.
     *
     * @return {@code path().toString()}
     */
    @Override
    public String name() {
        return path.toString();
    }

    /**
     * Returns the timeout of {@link #acquire()} and {@link #acquireAsync()}.
     *
     * @return the timeout, or empty if they wait as long as it takes
     */
    @Override
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    /**
     * Acquires the lock, waiting until it is free or the timeout expires.
     *
     * <p>An interrupt, before or during the wait, ends it with {@link InterruptedException} and
     * leaves nothing held, even if the lock was granted in the same instant (on platform and
     * virtual threads alike).
     *
     * @return the held lock; close it to release
     * @throws LockTimeoutException if the timeout expired first
     * @throws InterruptedException if this thread was interrupted
     * @throws IOException if the file cannot be locked; the message names the path
     */
    @Override
    public Lock acquire() throws IOException, InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before acquiring " + path);
        }
        long start = timeoutNanos > 0 ? System.nanoTime() : 0; // the timeout counts from the call
        Lock lock = attempt();
        if (lock != null) {
            return lock;
        } else if (timeoutNanos == 0) {
            throw timeoutException();
        }
        Acquisition a = new Acquisition(this, false);
        a.blocked = Thread.currentThread(); // unparked when the result completes
        CompletableFuture<Lock> result = a.start(0); // timed right here, by this thread
        // Our own wait, not CompletableFuture.get: get can return a result that arrived with an
        // interrupt and swallow the interrupt (platform threads) or leave it pending (virtual).
        boolean interrupted = false;
        while (!result.isDone()) {
            if (Thread.interrupted()) {
                if (result.cancel(false)) {
                    throw new InterruptedException("interrupted while acquiring " + path);
                }
                interrupted = true; // granted or failed in the same instant
                break;
            }
            if (timeoutNanos < 0) {
                LockSupport.park(a);
            } else {
                long remaining = timeoutNanos - (System.nanoTime() - start);
                if (remaining <= 0) {
                    LockTimeoutException timedOut = timeoutException();
                    if (result.completeExceptionally(timedOut)) {
                        throw timedOut;
                    }
                    break; // granted (or failed) in the same instant: honour it
                }
                LockSupport.parkNanos(a, remaining);
            }
        }
        interrupted |= Thread.interrupted();
        try {
            lock = result.join();
        } catch (CompletionException e) {
            if (interrupted) {
                Thread.currentThread().interrupt(); // the failure is the answer; keep the interrupt
            }
            throw rethrow(e.getCause());
        }
        if (interrupted) {
            lock.close(); // the interrupt wins, as promised
            throw new InterruptedException("interrupted while acquiring " + path);
        }
        return lock;
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
    @Override
    public CompletableFuture<Lock> acquireAsync() {
        return new Acquisition(this, timeoutNanos == 0).start(timeoutNanos);
    }

    /**
     * Makes one non-blocking attempt, whatever the timeout. Fails (returns empty) if the lock is
     * held by anyone, including this thread, or if waiters in this JVM are queued for it. Like any
     * single attempt it can lose to concurrent activity: a lock being handed to a waiter that just
     * gave up is busy until that hand-over releases it, a moment later.
     *
     * <p>If this JVM's descriptor of the file is being closed (an abandoned acquisition's
     * operating-system wait is being stopped), the attempt waits for that close first; this can
     * take about a millisecond.
     *
     * @return the held lock, or empty if it is not free
     * @throws IOException if the file cannot be locked; the message names the path
     */
    @Override
    public Optional<Lock> tryAcquire() throws IOException {
        return Optional.ofNullable(attempt());
    }

    /** One attempt on the caller's thread: the held lock, or null if busy. */
    private Lock attempt() throws IOException {
        for (;;) {
            FileEntry e = entry();
            Attempt a = e.acquire(path, null);
            if (a instanceof Attempt.Granted g) {
                if (verify(g.lock(), true)) {
                    return g.lock();
                }
            } else if (a instanceof Attempt.Retry r) {
                r.after().join(); // a closing descriptor: wait for it, then resolve afresh
            } else {
                return null;
            }
        }
    }

    /**
     * The identity check, after every grant: does the path still name the file that the grant's
     * entry locked? Another program may have deleted the lock file, or renamed another file over
     * it, since the entry was opened (a cached entry, or a waiter queued on the old file). A lock
     * on the old file then excludes nobody who opens the path now, so it is released, the path
     * resolved again, and the caller starts over.
     *
     * <p>One {@code stat} of the path; it cannot see a replacement that happens after it returns.
     *
     * @return true if {@code lock} may be handed out; false if it was released
     * @throws IOException if the path cannot be examined any more (the lock was released)
     */
    boolean verify(Lock lock, boolean uncontended) throws IOException {
        FileEntry e = lock.fileGrant().entry;
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
            e.closeIfIdle(true);
        }
        return same;
    }

    FileEntry entry() throws IOException {
        env.leaks.poll();
        FileEntry e = resolved.entry;
        if (e == null || e.isClosed()) {
            resolved.entry = e = env.registry.resolve(path);
        }
        return e;
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

    LockTimeoutException timeoutException() {
        return new LockTimeoutException(path, timeout);
    }

    /** Returns {@code LockFile[<path>, timeout=<timeout or none>]}. */
    @Override
    public String toString() {
        return "LockFile[" + path + ", timeout=" + (timeout == null ? "none" : Durations.format(timeout)) + "]";
    }
}
