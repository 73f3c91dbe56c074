package io.github.locket;

import java.lang.ref.Reference;
import java.nio.file.Path;

/**
 * A held acquisition of a {@link LockFile}. {@link #close()} releases it.
 *
 * <pre>{@code
 * try (Lock lock = lockFile.acquire()) {
 *     // only one thread, in any process, is here for this file
 * }
 * }</pre>
 *
 * <p>Each acquisition returns a new {@code Lock}. Closing is idempotent and may happen on any
 * thread; a stale handle (closed before) never releases a later acquisition, by this or any other
 * process.
 *
 * <p><b>A {@code Lock} dropped while held</b> (never closed, and no longer reachable) is released
 * once the garbage collector finds it, and a warning naming its path is logged to the {@code
 * io.github.locket} {@link System.Logger}; {@code -Dio.github.locket.leakTraces=sample} (one
 * acquisition in 64) or {@code =all} adds where it was acquired. This is a backstop for a bug, not
 * a way to release: until the collector runs, the lock stays held.
 *
 * <p><b>Thread safety and memory effects.</b> Thread-safe. Actions of a thread before it closes a
 * {@code Lock} <i>happen-before</i> the actions of the thread that next acquires the same file in
 * this JVM after that close. (Across processes, the operating system's lock orders file contents
 * as it always does.)
 */
public final class Lock implements AutoCloseable {
    private final Grant grant;

    Lock(FileEntry entry, Path path, boolean shared) {
        this.grant = new Grant.OfFile(this, entry, path, shared);
    }

    private Lock(String name, Runnable release, Leaks leaks) {
        this.grant = new Grant.External(this, name, release, leaks);
    }

    /** A lock granted outside this module: {@link io.github.locket.spi.Locks#newLock}. */
    static Lock external(String name, Runnable release) {
        return new Lock(name, release, Env.standard().leaks);
    }

    /** {@link io.github.locket.spi.Locks#lost}. */
    boolean lost() {
        if (!(grant instanceof Grant.External external)) {
            throw new IllegalArgumentException(this + " was not made by io.github.locket.spi.Locks");
        }
        return external.markReleased();
    }

    Grant grant() {
        return grant;
    }

    /** The grant of a lock made by a {@link FileEntry}. */
    Grant.OfFile fileGrant() {
        return (Grant.OfFile) grant;
    }

    /**
     * Returns the lock file's path, as the {@link LockFile} that acquired this lock named it.
     *
     * @return the path
     * @throws UnsupportedOperationException if this lock is not a lock file's (a {@link NamedLock}
     *     of another kind acquired it; see {@link #name()})
     */
    public Path path() {
        return grant.path();
    }

    /**
     * Returns the name of the lock this handle holds, as its {@link NamedLock#name()} says: for a
     * {@link LockFile}, its path.
     *
     * @return the name
     */
    public String name() {
        return grant.name();
    }

    /**
     * Tells whether this handle still holds the lock: true from the grant until {@link #close()},
     * or until Locket had to give the lock up because the operating system refused to release it
     * through this JVM's descriptor (Locket then closes that descriptor, which releases it; see
     * {@link #close()}).
     *
     * <p>It cannot see what Locket is not told: on Linux without {@code flock(2)} (fcntl only),
     * code in this JVM that opens and closes the lock file itself drops the operating-system lock
     * while this stays true (see {@link LockFile}, caveats).
     *
     * @return true while held
     */
    public boolean isHeld() {
        return !grant.released;
    }

    /**
     * Releases the lock; does nothing if this handle was already closed. May be called from any
     * thread, any number of times.
     *
     * <p>The next waiter in this JVM, if any, is granted the lock before this method returns; its
     * future's dependent actions may run on this thread, or (when this close itself runs inside
     * such an action) on a {@code locket-io} thread, so that no hand-off ever waits for this
     * thread's caller to return.
     *
     * @throws java.io.UncheckedIOException if the operating system refused to release the lock
     *     (for example {@code flock(LOCK_UN)} failed); the file's descriptors are then closed,
     *     which releases it, this handle counts as closed ({@link #isHeld()} is false), and waiters
     *     in this JVM start over on a new descriptor. Closing again does nothing.
     */
    @Override
    public void close() {
        try {
            grant.release();
        } finally {
            Reference.reachabilityFence(this); // no leak report for a handle being closed
        }
    }

    /** Returns {@code Lock[<name>, held]} or {@code Lock[<name>, released]}, with {@code , shared}. */
    @Override
    public String toString() {
        return "Lock[" + grant.name() + (grant.released ? ", released" : ", held") + (grant.shared() ? ", shared]" : "]");
    }
}
