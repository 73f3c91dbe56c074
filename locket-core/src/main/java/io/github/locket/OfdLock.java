package io.github.locket;

import java.io.IOException;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.spi.AbstractInterruptibleChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The lock on Linux with a native binding: an open-file-description record lock ({@code
 * F_OFD_SETLK}, kernel 3.15+) and then {@code flock(2)}, both on one descriptor that Locket opens
 * for this file alone.
 *
 * <p>Unlike the classic POSIX locks of {@code FileChannel}, an open-file-description lock belongs
 * to the descriptor, not the process: closing another descriptor of the file (the application
 * reading it, a second copy of Locket, a JDK channel) does not drop it, and two descriptors in one
 * JVM exclude each other exactly as two processes do. It still conflicts with other processes'
 * classic locks (Java {@code FileChannel}, {@code lockf}), so those exclude and are excluded as
 * before; {@code flock(2)} covers Python's locket and {@code flock(1)}.
 *
 * <p>A wait blocks in the kernel ({@code F_OFD_SETLKW}, then a blocking {@code flock}) on a thread
 * of ours; {@link Wait#cancel()} wakes it with the signal the JDK itself uses to wake a thread out
 * of a blocked system call (see {@link Sys#WAKE_SIGNAL}), and {@link Thread#interrupt()} does the
 * same through {@link AbstractInterruptibleChannel}.
 */
final class OfdLock extends OsLock {
    private static final long RESIGNAL_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long PID = ProcessHandle.current().pid();

    private final Sys sys;
    private final int fd;
    private final Object key;
    private final Path path;
    private final boolean flock; // false on NFS, where fcntl alone excludes flock(2) users
    private final Env env;

    OfdLock(Sys sys, int fd, Object key, Path path, boolean flock, Env env) {
        this.sys = sys;
        this.fd = fd;
        this.key = key;
        this.path = path;
        this.flock = flock;
        this.env = env;
    }

    @Override
    Object key() {
        return key;
    }

    @Override
    int fd() {
        return fd;
    }

    @Override
    int tryLock(boolean shared) throws IOException {
        int r;
        do {
            r = sys.fcntlLock(fd, Sys.F_OFD_SETLK, shared ? Sys.F_RDLCK : Sys.F_WRLCK, 0, 1);
        } while (r == Sys.EINTR);
        if (r == Sys.EAGAIN || r == Sys.EACCES) {
            return BUSY;
        } else if (r != 0) {
            throw failure("fcntl(F_OFD_SETLK)", r);
        }
        if (!flock) {
            return GRANTED;
        }
        do {
            r = sys.flock(fd, (shared ? Sys.LOCK_SH : Sys.LOCK_EX) | Sys.LOCK_NB);
        } while (r == Sys.EINTR);
        if (r == 0) {
            return GRANTED;
        }
        unlockFcntl(); // a flock(2) user holds it: give the fcntl half back
        if (r == Sys.EAGAIN) {
            return BUSY;
        }
        throw failure("flock(2)", r);
    }

    @Override
    void unlock() throws IOException {
        IOException failure = null;
        if (flock) {
            int r = sys.flock(fd, Sys.LOCK_UN);
            if (r != 0) {
                failure = failure("flock(2) unlock", r);
            }
        }
        try {
            unlockFcntl();
        } catch (IOException e) {
            if (failure == null) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void unlockFcntl() throws IOException {
        int r = sys.fcntlLock(fd, Sys.F_OFD_SETLK, Sys.F_UNLCK, 0, 1);
        if (r != 0) {
            throw failure("fcntl(F_OFD_SETLK, F_UNLCK)", r);
        }
    }

    @Override
    OsWait newWait(FileEntry entry, boolean shared) {
        return new Wait(entry, shared);
    }

    /**
     * Closing our descriptor drops only our own locks on it, and every classic POSIX lock of this
     * process on the file, which only code outside Locket can hold: if the kernel reports such a
     * lock, with our process id, keep the descriptor open.
     */
    @Override
    boolean safeToClose() {
        long[] conflict = sys.fcntlGetLock(fd, Sys.F_OFD_GETLK, Sys.F_WRLCK, 0, 0);
        return conflict.length < 2 || conflict[0] == Sys.F_UNLCK || conflict[1] != PID;
    }

    @Override
    boolean closingDropsOurLocks() {
        return false; // open-file-description locks belong to our descriptor alone
    }

    @Override
    void close() {
        sys.close(fd); // the descriptor is gone whatever it returns
    }

    private IOException failure(String call, int errno) {
        return new FileSystemException(path.toString(), null, Sys.describe(call, errno));
    }

    @Override
    public String toString() {
        return "OfdLock[fd " + fd + (flock ? ", fcntl+flock]" : ", fcntl]");
    }

    /** A wait in the kernel, on whichever thread runs it. */
    final class Wait extends OsWait {
        private final Interruptor interruptor = new Interruptor();
        // Guarded by this wait's monitor: the thread in the kernel cannot leave run() (and so die)
        // while another thread signals it.
        private long thread;
        private boolean inKernel;
        private volatile boolean cancelled;
        private boolean interrupted;

        Wait(FileEntry entry, boolean shared) {
            super(entry, shared);
        }

        @Override
        boolean onThread() {
            return true;
        }

        @Override
        boolean interrupted() {
            return interrupted;
        }

        @Override
        int run() {
            interruptor.enter(); // Thread.interrupt() now cancels this wait
            int outcome = CANCELLED;
            try {
                synchronized (this) {
                    if (cancelled) {
                        return CANCELLED;
                    }
                    thread = sys.pthreadSelf();
                    inKernel = true;
                }
                outcome = waitInKernel();
                return outcome;
            } finally {
                synchronized (this) {
                    inKernel = false;
                }
                interrupted = interruptor.exit();
            }
        }

        private int waitInKernel() {
            int type = shared ? Sys.F_RDLCK : Sys.F_WRLCK;
            for (;;) {
                if (cancelled) {
                    return CANCELLED;
                }
                int r = sys.fcntlLock(fd, Sys.F_OFD_SETLKW, type, 0, 1);
                if (r == 0) {
                    break;
                } else if (r == Sys.EDEADLK) {
                    return RETRY;
                } else if (r != Sys.EINTR) {
                    failure = failure("fcntl(F_OFD_SETLKW)", r);
                    return FAILED;
                }
            }
            while (flock) {
                int r = cancelled ? Sys.EINTR : sys.flock(fd, shared ? Sys.LOCK_SH : Sys.LOCK_EX);
                if (r == 0) {
                    break;
                } else if (r != Sys.EINTR) {
                    failure = failure("flock(2)", r);
                } else if (!cancelled) {
                    continue;
                }
                try {
                    unlockFcntl();
                } catch (IOException e) {
                    if (failure == null) {
                        failure = e;
                    }
                }
                return failure != null ? FAILED : CANCELLED;
            }
            return GRANTED;
        }

        @Override
        boolean cancel() {
            synchronized (this) {
                if (cancelled) {
                    return false;
                }
                cancelled = true;
                if (!inKernel) {
                    return false;
                }
                sys.pthreadKill(thread, Sys.WAKE_SIGNAL);
            }
            resignalLater(); // in case the signal came just before the call it was meant to end
            return false;
        }

        private void resignalLater() {
            try {
                ScheduledFuture<?> unused = env.timer.schedule(() -> {
                    synchronized (this) {
                        if (!inKernel) {
                            return;
                        }
                        sys.pthreadKill(thread, Sys.WAKE_SIGNAL);
                    }
                    resignalLater();
                }, RESIGNAL_NANOS, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException shuttingDown) {
                // nothing to schedule with; the wait ends when the lock comes
            }
        }

        @Override
        public String toString() {
            return "OfdLock.Wait[" + path + (shared ? ", shared]" : "]");
        }

        /** Makes {@link Thread#interrupt()} of the thread that runs the wait cancel it. */
        private final class Interruptor extends AbstractInterruptibleChannel {
            void enter() {
                begin();
            }

            /** @return true if the thread was interrupted since {@link #enter()} */
            boolean exit() {
                try {
                    end(true);
                    return false;
                } catch (ClosedByInterruptException e) {
                    return true;
                } catch (AsynchronousCloseException impossibleWhenCompleted) {
                    return false;
                }
            }

            @Override
            protected void implCloseChannel() {
                cancel();
            }
        }
    }
}
