package io.github.locket;

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
 * <p><b>Thread safety and memory effects.</b> Thread-safe. Actions of a thread before it closes a
 * {@code Lock} <i>happen-before</i> the actions of the thread that next acquires the same file in
 * this JVM after that close. (Across processes, the operating system's lock orders file contents
 * as it always does.)
 */
public final class Lock implements AutoCloseable {
    private final FileEntry entry;
    private final Path path;
    // Written under the entry's monitor, read anywhere.
    volatile boolean released;

    Lock(FileEntry entry, Path path) {
        this.entry = entry;
        this.path = path;
    }

    /**
     * Returns the lock file's path, as the {@link LockFile} that acquired this lock named it.
     *
     * @return the path
     */
    public Path path() {
        return path;
    }

    /**
     * Tells whether this handle still holds the lock.
     *
     * @return true until {@link #close()} was called
     */
    public boolean isHeld() {
        return !released;
    }

    /**
     * Releases the lock; does nothing if this handle was already closed. May be called from any
     * thread.
     *
     * <p>The next waiter in this JVM, if any, may be granted the lock on this thread before this
     * method returns: its future's dependent actions then run here.
     *
     * @throws java.io.UncheckedIOException if the operating system refused to release the lock;
     *     the file's descriptor is then closed, which releases it, and this handle counts as
     *     closed
     */
    @Override
    public void close() {
        if (!released) {
            entry.release(this);
        }
    }

    /** Returns {@code Lock[<path>, held]} or {@code Lock[<path>, released]}. */
    @Override
    public String toString() {
        return "Lock[" + path + (released ? ", released]" : ", held]");
    }
}
