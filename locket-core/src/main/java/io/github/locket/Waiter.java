package io.github.locket;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/** One queued acquisition, a node of its {@link FileEntry}'s FIFO. */
final class Waiter {
    /** Signals to a blocked caller's thread ({@link #signal}), as bits. */
    static final int COMPETE = 1; // the lock is VACANT: come and take it
    static final int KERNEL = 2; // run {@link #task}, the entry's wait for the OS lock, on your thread

    private static final VarHandle SIGNAL;

    static {
        try {
            SIGNAL = MethodHandles.lookup().findVarHandle(Waiter.class, "signal", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final FileEntry entry;
    final Acquisition owner;
    final Path path;
    final boolean shared;

    // Guarded by the entry's monitor.
    @Nullable Waiter prev;
    @Nullable Waiter next;
    boolean linked;
    /** The wait to run, with {@link #KERNEL}; written before the signal. */
    @Nullable OsWait task;

    private volatile int signal;

    Waiter(FileEntry entry, Acquisition owner, Path path, boolean shared) {
        this.entry = entry;
        this.owner = owner;
        this.path = path;
        this.shared = shared;
    }

    /** Its acquisition completed (cancelled, timed out): a grant must skip it. */
    boolean isAbandoned() {
        return owner.result.isDone();
    }

    /** Whether a thread is blocked in {@link LockFile#acquire()} for it. */
    boolean isBlocking() {
        return owner.blocked != null;
    }

    /** Under the entry's monitor: tells the blocked thread, and wakes it. */
    void signal(int bits) {
        SIGNAL.getAndBitwiseOr(this, bits);
        LockSupport.unpark(owner.blocked);
    }

    /** The signals since the last call. */
    int takeSignals() {
        return signal == 0 ? 0 : (int) SIGNAL.getAndSet(this, 0);
    }
}
