package io.github.locket;

import java.io.IOException;

/**
 * The operating-system lock of one file, as its {@link FileEntry} takes it: both halves on Linux
 * ({@code fcntl} then {@code flock(2)}, released in the reverse order), {@code LockFileEx} on
 * Windows. Every method but {@link #close()} is called under the entry's monitor, and none blocks.
 *
 * <p>Two kinds: {@link OfdLock} (Linux with a native binding: open-file-description locks on a
 * descriptor of Locket's own, waits in the kernel on a thread of ours) and {@link ChannelLock}
 * (the JDK's {@code AsynchronousFileChannel}: classic locks, no {@code flock} half).
 */
abstract class OsLock {
    /** {@link #tryLock} outcomes. */
    static final int GRANTED = 0;
    static final int BUSY = 1;
    /** Another descriptor in this JVM holds the file (the JDK's lock table refused): poll. */
    static final int ELSEWHERE_IN_THIS_JVM = 2;

    /** The file's identity (device and inode, or on Windows the case-folded real path). */
    abstract Object key();

    /**
     * One non-blocking attempt at the whole lock.
     *
     * @return {@link #GRANTED} (held now, in that mode), {@link #BUSY} or {@link
     *     #ELSEWHERE_IN_THIS_JVM}; nothing is held unless granted
     */
    abstract int tryLock(boolean shared) throws IOException;

    /** Releases the held lock. */
    abstract void unlock() throws IOException;

    /** A new wait for the lock, not started. */
    abstract OsWait newWait(FileEntry entry, boolean shared);

    /**
     * Whether closing a descriptor of this file now drops nobody's lock: on Linux closing any
     * descriptor drops every classic POSIX lock the process holds on the file, and code outside
     * Locket (another copy of it, {@code FileChannel} code) may hold one. Called idle.
     */
    abstract boolean safeToClose();

    /**
     * After a {@link #safeToClose()} that said yes, when this descriptor stays open after all:
     * lets go of whatever the probe took.
     */
    void endProbe() {}

    /** Whether closing another descriptor of the file drops a lock held through this one. */
    abstract boolean closingDropsOurLocks();

    /** Closes the descriptors, which releases whatever they hold and ends a pending wait. */
    abstract void close();

    /** The native descriptor that holds the lock, or -1 (for who-holds-it queries). */
    int fd() {
        return -1;
    }
}
