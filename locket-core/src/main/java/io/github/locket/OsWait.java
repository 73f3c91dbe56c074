package io.github.locket;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * An entry's one pending wait for the operating-system lock. With {@link OfdLock} a thread runs it
 * and blocks in the kernel: the blocked caller of {@link LockFile#acquire()} at the head of the
 * queue, so that the kernel wakes the very thread that wants the lock, or else a {@code locket-io}
 * thread. With {@link ChannelLock} it is the JDK channel's asynchronous {@code lock}.
 *
 * <p>Whoever claims it runs it and reports its end to the entry once ({@link
 * FileEntry#waitEnded}); a wait that nobody claimed can be dropped instead.
 */
abstract class OsWait {
    /** Outcomes. */
    static final int GRANTED = 0;
    static final int CANCELLED = 1;
    static final int FAILED = 2;
    /** Not now (a deadlock the kernel reported, another descriptor in this JVM): poll. */
    static final int RETRY = 3;
    /** {@link #start()}: started. */
    static final int STARTED = 4;

    private static final int NEW = 0;
    private static final int RUNNING = 1;
    private static final int DROPPED = 2;

    final FileEntry entry;
    final boolean shared;
    /** The blocked waiter whose thread is to run it; null for a library thread. Entry's monitor. */
    @Nullable Waiter assignee;
    /** Why it failed, when it did. */
    @Nullable IOException failure;
    private final AtomicInteger phase = new AtomicInteger(NEW);

    OsWait(FileEntry entry, boolean shared) {
        this.entry = entry;
        this.shared = shared;
    }

    /** True if a thread runs it ({@link #run}); false if {@link #start} starts it. */
    abstract boolean onThread();

    /** Starts an asynchronous wait: {@link #STARTED}, or {@link #RETRY} if it cannot start now. */
    int start() {
        throw new UnsupportedOperationException();
    }

    /**
     * Waits on this thread until granted, cancelled or failed. An interrupt of this thread cancels
     * the wait; {@link #interrupted()} then says so.
     *
     * @return an outcome; {@link #GRANTED} means the whole lock is held, in this wait's mode
     */
    int run() {
        throw new UnsupportedOperationException();
    }

    /** After {@link #run()}: whether the thread was interrupted during it. */
    boolean interrupted() {
        return false;
    }

    /**
     * Ends the wait soon, from any thread; it then reports {@link #CANCELLED} (or {@link #GRANTED}
     * if the lock came first).
     *
     * @return true if stopping it takes closing the entry (the JDK channel's wait)
     */
    abstract boolean cancel();

    /** The right to run it: true for exactly one caller, unless it was dropped first. */
    final boolean claim() {
        return phase.compareAndSet(NEW, RUNNING);
    }

    /** Drops a wait nobody claimed yet; false if it is running. */
    final boolean drop() {
        return phase.compareAndSet(NEW, DROPPED);
    }

    final boolean started() {
        return phase.get() == RUNNING;
    }
}
