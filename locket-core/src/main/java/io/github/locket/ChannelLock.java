package io.github.locket;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileLock;
import java.nio.channels.NonReadableChannelException;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * The lock through the JDK's {@link AsynchronousFileChannel}, where Locket has no native binding:
 * classic POSIX record locks on Linux without {@code flock(2)} (and on NFS), {@code LockFileEx} on
 * Windows. The JDK's JVM-wide lock table refuses a lock another descriptor in this JVM holds
 * ({@link OverlappingFileLockException}): such a lock is polled. A wait is the channel's pending
 * {@code lock}, on a {@code locket-io} thread; only closing the channel stops it, so cancelling it
 * closes the entry.
 */
final class ChannelLock extends OsLock {
    private final AsynchronousFileChannel channel;
    private final Object key;
    private final Path path;
    /** Whether closing a descriptor drops the process's other locks on the file (POSIX). */
    private final boolean posixClose;
    /** Closes a descriptor the opener kept with the channel (NFS: the one that named the file). */
    private final @Nullable Runnable alsoClose;
    // Guarded by the entry's monitor.
    private @Nullable FileLock held;
    private @Nullable FileLock probe;

    ChannelLock(AsynchronousFileChannel channel, Object key, Path path, boolean posixClose, @Nullable Runnable alsoClose) {
        this.channel = channel;
        this.key = key;
        this.path = path;
        this.posixClose = posixClose;
        this.alsoClose = alsoClose;
    }

    @Override
    Object key() {
        return key;
    }

    @Override
    int tryLock(boolean shared) throws IOException {
        FileLock fl;
        try {
            // The JDK's native is the same as the blocking lock's, so tools that flag blocking
            // calls (BlockHound) are told that this method's use is not.
            fl = channel.tryLock(0, 1, shared);
        } catch (OverlappingFileLockException elsewhereInThisJvm) {
            return ELSEWHERE_IN_THIS_JVM;
        } catch (NonReadableChannelException writeOnly) {
            throw new AccessDeniedException(path.toString(), null,
                    "a shared lock needs a lock file this user may read; it was opened for writing only");
        } catch (IOException e) {
            throw Registry.named(path, e);
        }
        if (fl == null) {
            return BUSY;
        }
        held = fl;
        return GRANTED;
    }

    @Override
    void unlock() throws IOException {
        FileLock fl = held;
        held = null;
        if (fl != null) {
            fl.release();
        }
    }

    @Override
    OsWait newWait(FileEntry entry, boolean shared) {
        return new Wait(entry, shared);
    }

    /**
     * A whole-file lock through our channel asks the JDK's JVM-wide table whether any other
     * descriptor in this JVM holds a lock on the file, and while held keeps everyone else in this
     * JVM from taking one until the close that follows (which releases it, or {@link #endProbe}).
     */
    @Override
    boolean safeToClose() {
        if (!posixClose) {
            return true; // Windows: a handle's close drops only its own locks
        }
        try {
            probe = channel.tryLock(0, Long.MAX_VALUE, false);
            return true;
        } catch (OverlappingFileLockException heldElsewhereInThisJvm) {
            return false;
        } catch (IOException unknown) {
            return true; // cannot tell; nothing of ours is held
        }
    }

    @Override
    void endProbe() {
        FileLock p = probe;
        probe = null;
        if (p != null) {
            try {
                p.release();
            } catch (IOException e) {
                // Still in the JDK's table: only closing the channel lets go of it now, and the
                // next tryLock on this channel reports the file busy in this JVM and polls.
            }
        }
    }

    @Override
    boolean closingDropsOurLocks() {
        return posixClose;
    }

    @Override
    void close() {
        if (alsoClose != null) {
            alsoClose.run(); // first: while the channel is open, the JDK's table guards the file
        }
        try {
            channel.close(); // waits for an I/O thread blocked in the kernel to leave it
        } catch (IOException ignored) {
            // the descriptor is gone either way
        }
    }

    @Override
    public String toString() {
        return "ChannelLock[" + path + "]";
    }

    /** The channel's pending {@code lock}. */
    private final class Wait extends OsWait implements CompletionHandler<FileLock, Void> {
        Wait(FileEntry entry, boolean shared) {
            super(entry, shared);
        }

        @Override
        boolean onThread() {
            return false;
        }

        @Override
        int start() {
            try {
                channel.lock(0, 1, shared, null, this);
                return STARTED;
            } catch (OverlappingFileLockException elsewhereInThisJvm) {
                return RETRY;
            } catch (NonReadableChannelException writeOnly) {
                return RETRY; // the poll's tryLock reports it as an IOException, which fails the waiters
            }
        }

        @Override
        public void completed(FileLock fl, Void unused) {
            synchronized (entry) {
                held = fl;
            }
            entry.waitEnded(this, GRANTED);
        }

        @Override
        public void failed(Throwable failure, Void unused) {
            if (isDeadlock(failure)) {
                // EDEADLK: the kernel's deadlock detection works per process and misfires with
                // threads; the holder will usually let go. Ask again a little later.
                entry.waitEnded(this, RETRY);
                return;
            }
            this.failure = failure instanceof IOException io ? io : new IOException(failure);
            entry.waitEnded(this, FAILED);
        }

        @Override
        boolean cancel() {
            return true; // only closing the channel stops it
        }

        private boolean isDeadlock(Throwable failure) {
            String message = failure.getMessage();
            return failure instanceof IOException && message != null && message.toLowerCase(java.util.Locale.ROOT).contains("deadlock");
        }
    }
}
