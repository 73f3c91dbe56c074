package io.github.locket;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

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
 *   <li>Fairness in this JVM: a thread that releases the lock, or arrives for it, may take it
 *       ahead of threads parked in {@link #acquire()} (so that a busy lock does not cost a context
 *       switch per hand-off), but a waiter that has waited more than 1 ms and lost to such a
 *       thread is then served first: the lock passes strictly first come, first served until a
 *       waiter is served that waited less than that. Asynchronous waiters ({@link #acquireAsync()})
 *       are handed the lock in arrival order. After this JVM has kept the lock for its own
 *       threads for a short while (64 grants or 10 ms), it gives the lock back to the operating
 *       system so that a waiting process gets its turn.
 *   <li>Shared mode ({@link #shared()}): any number of shared holders, across threads and
 *       processes, hold the lock together and exclude every exclusive holder. In this JVM a
 *       shared acquisition queues behind a waiting exclusive one, so readers cannot starve a
 *       writer; see {@link #shared()} for other processes.
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
 * On Linux with a native binding (see {@link Locket#protocols()}) the lock's {@code fcntl} half is
 * an open-file-description lock on Locket's own descriptor: reading or writing the lock file in
 * the holding JVM is harmless. Without one, it is a classic POSIX record lock, which the kernel
 * drops when the holding process closes <em>any</em> descriptor of the file: then do not open the
 * lock file in any other way in a JVM that holds it. Behaviour after {@code fork} is undefined.
 *
 * <h2>Thread safety</h2>
 *
 * Instances are immutable and thread-safe; use one from as many threads as you like. Releasing a
 * lock <i>happens-before</i> the acquisition that next obtains it in this JVM.
 */
public final class LockFile implements NamedLock {
    private final Path path;
    private final @Nullable Duration timeout; // null: wait forever
    private final long timeoutNanos; // -1: forever, 0: one attempt
    private final Resolved resolved; // shared with the copies made by withTimeout
    private final boolean shared;
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
        volatile @Nullable FileEntry entry;
    }

    LockFile(Path path, @Nullable Duration timeout, Env env) {
        this(path, timeout, new Resolved(), false, env);
    }

    private LockFile(Path path, @Nullable Duration timeout, Resolved resolved, boolean shared, Env env) {
        this.path = path;
        this.timeout = timeout;
        this.timeoutNanos = Durations.toNanos(timeout);
        this.resolved = resolved;
        this.shared = shared;
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
        return new LockFile(path, timeout, resolved, shared, env);
    }

    /**
     * Returns the same lock, waiting as long as it takes. Shares what this one learnt about the
     * file, like {@link #withTimeout(Duration)}.
     *
     * @return a {@code LockFile} for the same path with no timeout
     */
    @Override
    public LockFile withoutTimeout() {
        return timeout == null ? this : new LockFile(path, null, resolved, shared, env);
    }

    /**
     * Returns the same lock in shared mode: its acquisitions take a shared (read) lock, which any
     * number of holders, in this JVM and in other processes, hold together, and which excludes
     * every exclusive holder. Shares what this one learnt about the file, like {@link
     * #withTimeout(Duration)}.
     *
     * <p>Readers and writers: in this JVM, a shared acquisition joins the shared holders unless an
     * exclusive acquisition is queued here, and then waits behind it, so a stream of readers here
     * cannot starve a writer here. Across processes the kernel keeps no queue: Linux grants a
     * shared lock while a writer waits, so readers that overlap without pause, in any processes
     * (this JVM's included), can keep another process's writer out for as long as they do. When
     * that matters, have readers pause now and then, or use exclusive locks.
     *
     * <p>On Linux both halves are taken in shared mode ({@code F_RDLCK} and {@code LOCK_SH}), so
     * {@code flock -s}, Python's {@code fcntl.flock(fd, LOCK_SH)} and Java's {@code
     * FileChannel.lock(0, 1, true)} hold it together with Locket's shared holders; on Windows
     * {@code LockFileEx} without {@code LOCKFILE_EXCLUSIVE_LOCK}. A shared lock needs a lock file
     * this user may read.
     *
     * <p>There is no upgrade from shared to exclusive: two shared holders that both tried would
     * wait for each other forever. Release the shared lock, then acquire the exclusive one.
     *
     * @return a shared {@code LockFile} for the same path, with the same timeout
     */
    public LockFile shared() {
        return shared ? this : new LockFile(path, timeout, resolved, true, env);
    }

    /**
     * Returns the same lock in exclusive mode (the default): one holder at a time.
     *
     * @return an exclusive {@code LockFile} for the same path, with the same timeout
     */
    public LockFile exclusive() {
        return shared ? new LockFile(path, timeout, resolved, false, env) : this;
    }

    /**
     * Tells whether acquisitions take the lock in shared mode ({@link #shared()}).
     *
     * @return true if shared, false if exclusive
     */
    public boolean isShared() {
        return shared;
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
     * <p>When another process holds the lock, this thread itself waits for it in the kernel (on
     * Linux with a native binding), so that the kernel wakes the very thread that wants it. An
     * interrupt, before or during the wait, ends it with {@link InterruptedException} and leaves
     * nothing held, even if the lock was granted in the same instant (on platform and virtual
     * threads alike); so does the timeout, with {@link LockTimeoutException}.
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
        Attempt first = attemptOnce();
        if (first instanceof Attempt.Granted g) {
            return g.lock();
        } else if (timeoutNanos == 0) {
            throw timeoutException();
        }
        Acquisition a = new Acquisition(this, false, Thread.currentThread());
        // Another process held it a moment ago: queue and wait in the kernel at once, rather than ask again.
        a.osBusy = first == Attempt.Busy.OS_BUSY;
        CompletableFuture<Lock> unused = a.start(0); // timed right here, by this thread, in await
        return a.await(timeoutNanos, start);
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
        return new Acquisition(this, timeoutNanos == 0, null).start(timeoutNanos);
    }

    /**
     * Makes one non-blocking attempt, whatever the timeout. Fails (returns empty) if the lock is
     * held by anyone, including this thread, or is being handed to a waiter in this JVM; it may
     * succeed ahead of parked waiters when the lock is free (see the fairness rule above). Like
     * any single attempt it can lose to concurrent activity: a lock being handed to a waiter that
     * just gave up is busy until that hand-over releases it, a moment later.
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

    /**
     * Returns the processes that hold this lock now, as the operating system reports them,
     * without taking it: for each, its process id, whether shared, through which protocols, and
     * its command line where readable. This JVM appears as any other process. On Linux from {@code
     * /proc/locks} (with {@code /proc/PID/fdinfo} for open-file-description locks); empty on
     * platforms that cannot tell (Windows), and if the file does not exist.
     *
     * <p>Reads files under {@code /proc}: do not call it on a non-blocking thread. A snapshot: any
     * holder may have let go by the time you read it.
     *
     * @return the holders, possibly empty
     * @throws IOException if the lock file cannot be examined; the message names the path
     */
    public List<LockHolder> holders() throws IOException {
        return named(() -> Holders.of(path, false));
    }

    /**
     * Returns the processes whose threads wait for this lock in the kernel now, like {@link
     * #holders()}. A Locket process shows its one thread that waits for the operating system (its
     * other waiters queue in its JVM); an open-file-description lock's waiter shows pid -1.
     *
     * @return the waiters, possibly empty
     * @throws IOException if the lock file cannot be examined; the message names the path
     */
    public List<LockHolder> waiters() throws IOException {
        return named(() -> Holders.of(path, true));
    }

    private interface Lookup {
        List<LockHolder> get() throws IOException;
    }

    private List<LockHolder> named(Lookup lookup) throws IOException {
        try {
            return lookup.get();
        } catch (IOException e) {
            throw Registry.named(path, e);
        }
    }

    /** One attempt on the caller's thread: the held lock, or null if busy. */
    private @Nullable Lock attempt() throws IOException {
        return attemptOnce() instanceof Attempt.Granted g ? g.lock() : null;
    }

    /** One attempt on the caller's thread: {@link Attempt.Granted} (verified) or {@link Attempt.Busy}. */
    private Attempt attemptOnce() throws IOException {
        for (;;) {
            FileEntry e = entry();
            Attempt a = e.acquire(path, null, shared);
            if (a instanceof Attempt.Granted g) {
                if (verify(g.lock(), true)) {
                    return a;
                }
            } else if (a instanceof Attempt.Retry r) {
                r.after().join(); // a closing descriptor: wait for it, then resolve afresh
            } else {
                return a;
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
            same = env.identity.names(path, e);
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

    LockTimeoutException timeoutException() {
        return new LockTimeoutException(path, Objects.requireNonNull(timeout, "a lock without timeout timed out"));
    }

    /** Returns {@code LockFile[<path>, timeout=<timeout or none>]}, with {@code , shared} if shared. */
    @Override
    public String toString() {
        return "LockFile[" + path + (shared ? ", shared" : "") + ", timeout="
                + (timeout == null ? "none" : Durations.format(timeout)) + "]";
    }
}
