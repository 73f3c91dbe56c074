package io.github.locket;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One lock file in this JVM: the only open descriptor this JVM has on it, the operating-system
 * lock when held, and the FIFO of waiters.
 *
 * <p>All state is guarded by this object's monitor; no user code and no blocking call runs under
 * it (the non-blocking {@code tryLock} and {@code release} system calls do).
 *
 * <p>The operating-system lock has two halves, always taken in this order and released in the
 * reverse: the {@code fcntl} record lock through the channel, then (on Linux) {@code flock(2)}
 * through {@link Flock}. The order cannot deadlock: programs that use only {@code flock} never wait
 * for an {@code fcntl} lock.
 *
 * <p>States: idle ({@code osLock == null}); waiting for {@code fcntl} ({@code osPending}, only
 * through the channel's single pending {@code lock}, stopped by closing the channel &mdash; see
 * {@link Registry} &mdash; which is safe because nothing is held through it then and this JVM has no
 * other descriptor it could drop locks of); waiting for {@code flock} ({@code osLock != null},
 * {@code holder == null}, polled: closing a descriptor does not wake a blocked {@code flock}); held
 * ({@code holder != null}). Waiters are queued only while the lock is held or waited for.
 */
final class FileEntry implements CompletionHandler<FileLock, Void> {
    /** Returned by {@link #acquire} when this entry was closed: resolve the path again. */
    static final Object CLOSED = new Object();
    /**
     * Returned by a one-shot {@link #acquire} that found an OS wait nobody wants any more (its
     * waiters gave up). The JDK refuses {@code tryLock} while that wait pends, so the caller must
     * first stop it ({@link Registry#evictIfUnused}) and try again on a fresh entry.
     */
    static final Object ORPHANED = new Object();

    /** Direct hand-offs between this JVM's waiters before the lock goes back to the OS. */
    static final int MAX_HANDOFFS = 64;
    /** How long this JVM keeps the OS lock across direct hand-offs. */
    static final long MAX_HOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Retry delay after the kernel reported a (possibly false) deadlock between processes. */
    private static final long DEADLOCK_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Polling a flock(2) held by another program: first and longest interval. */
    private static final long FLOCK_POLL_MIN_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long FLOCK_POLL_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    final Object key;
    final Path path;
    private final AsynchronousFileChannel channel;
    private final Flock flock;

    private volatile boolean closed;
    private FileLock osLock;
    private Lock holder;
    private boolean osPending;
    private long flockPollNanos; // > 0 while waiting for flock(2) with the fcntl half held
    private int flockWaits; // numbers the flock waits, so that a stale poll recognises itself
    private Waiter head;
    private Waiter tail;
    private int handoffs;
    private long heldSince;
    private boolean referenced = true;
    private List<AsynchronousFileChannel> strays;

    FileEntry(Object key, Path path, AsynchronousFileChannel channel, Flock flock) {
        this.key = key;
        this.path = path;
        this.channel = channel;
        this.flock = flock;
    }

    boolean isClosed() {
        return closed;
    }

    /**
     * One attempt, then (if {@code wait}) a queued waiter.
     *
     * @return a held {@link Lock}; a {@link Waiter} to wait on; null if busy and not waiting;
     *     {@link #CLOSED}; or {@link #ORPHANED} (only when not waiting)
     */
    Object acquire(LockFile lockFile, boolean wait) throws IOException {
        Waiter w;
        synchronized (this) {
            if (closed) {
                return CLOSED;
            }
            referenced = true;
            boolean flockBusy = false;
            if (osLock == null && !osPending && head == null) {
                FileLock fl = tryOsLock();
                if (fl != null) {
                    if (tryFlock(fl)) {
                        took(fl);
                        return holder = new Lock(this, lockFile.path());
                    }
                    flockBusy = true; // a flock-only program holds it
                    if (wait) {
                        osLock = fl; // keep the fcntl half and poll for the flock half
                    } else {
                        IOException failure = releaseOs(fl);
                        if (failure != null) {
                            throw Registry.named(path, failure);
                        }
                    }
                }
            }
            if (!wait) {
                return osPending && head == null ? ORPHANED : null;
            }
            w = new Waiter(this, lockFile); // behind an orphaned OS wait too: it will serve us
            link(w);
            if (flockBusy) {
                scheduleFlockPoll(FLOCK_POLL_MIN_NANOS);
            } else if (osLock == null && !osPending) {
                startOsWait();
            }
        }
        w.watch();
        return w;
    }

    /** Releases {@code lock}; hands off to the next waiter here, or gives the lock back to the OS. */
    void release(Lock lock) {
        Waiter next = null;
        IOException failure = null;
        synchronized (this) {
            if (lock.released) {
                return;
            }
            lock.released = true;
            holder = null;
            Waiter first = firstLive();
            if (first != null && handoffs < MAX_HANDOFFS && System.nanoTime() - heldSince < MAX_HOLD_NANOS) {
                handoffs++;
                unlink(first);
                first.grant = holder = new Lock(this, first.lockFile.path());
                next = first;
            } else {
                failure = releaseBoth();
                if (failure == null && head != null) {
                    // Waiters remain: queue behind the OS so that a waiting process gets its turn.
                    startOsWait();
                }
            }
        }
        if (next != null) {
            Delivery.deliver(next);
        } else if (failure != null) {
            Registry.evictBroken(this, failure);
            throw new UncheckedIOException(Registry.named(path, failure));
        }
    }

    /** The pending OS wait succeeded (on a locket-io thread). */
    @Override
    public void completed(FileLock fl, Void unused) {
        Waiter next;
        IOException failure = null;
        synchronized (this) {
            osPending = false;
            if (closed) {
                return; // the channel is being closed, which releases fl
            }
            next = firstLive();
            if (next == null) {
                failure = releaseOs(fl); // everyone gave up meanwhile
            } else {
                try {
                    if (tryFlock(fl)) {
                        took(fl);
                        unlink(next);
                        next.grant = holder = new Lock(this, next.lockFile.path());
                    } else {
                        osLock = fl;
                        scheduleFlockPoll(FLOCK_POLL_MIN_NANOS);
                        next = null;
                    }
                } catch (IOException e) {
                    failure = e;
                    next = null;
                }
            }
        }
        if (next != null) {
            Delivery.deliver(next);
        } else if (failure != null) {
            Registry.evictBroken(this, failure);
        }
    }

    private void scheduleFlockPoll(long nanos) {
        if (flockPollNanos == 0) {
            flockWaits++;
        }
        flockPollNanos = nanos;
        int wait = flockWaits;
        Threads.schedule(() -> Threads.execute(() -> pollFlock(wait)), nanos);
    }

    /** Waiting for flock(2) with the fcntl half held (on a locket-io thread). */
    private void pollFlock(int wait) {
        Waiter next;
        IOException failure = null;
        synchronized (this) {
            if (closed || flockPollNanos == 0 || wait != flockWaits) {
                return; // closed, or that wait ended (everyone gave up), perhaps to begin anew
            }
            next = firstLive();
            if (next == null) {
                flockPollNanos = 0;
                failure = releaseOs(osLock);
                osLock = null;
            } else {
                try {
                    if (flock.tryLock()) {
                        flockPollNanos = 0;
                        took(osLock);
                        unlink(next);
                        next.grant = holder = new Lock(this, next.lockFile.path());
                    } else {
                        scheduleFlockPoll(Math.min(2 * flockPollNanos, FLOCK_POLL_MAX_NANOS));
                        next = null;
                    }
                } catch (IOException e) {
                    failure = e;
                    next = null;
                }
            }
        }
        if (next != null) {
            Delivery.deliver(next);
        } else if (failure != null) {
            Registry.evictBroken(this, failure);
        }
    }

    /** The pending OS wait failed (on a locket-io thread). */
    @Override
    public void failed(Throwable failure, Void unused) {
        List<Waiter> failedWaiters;
        synchronized (this) {
            osPending = false;
            if (closed) {
                return; // we closed the channel to stop the wait
            }
            if (isDeadlock(failure) && head != null) {
                // EDEADLK: the kernel's deadlock detection works per process and misfires with
                // threads; the holder will usually let go. Wait a little and ask again.
                osPending = true;
                Threads.schedule(this::retryOsWait, DEADLOCK_RETRY_NANOS);
                return;
            }
            failedWaiters = drain();
        }
        IOException named = Registry.named(path, failure);
        for (Waiter w : failedWaiters) {
            w.future().completeExceptionally(named);
        }
    }

    /** A waiter's future completed other than by our grant: leave the queue. */
    void abandon(Waiter w) {
        boolean stopOsWait;
        synchronized (this) {
            if (!w.linked) {
                return;
            }
            unlink(w);
            stopOsWait = head == null && osPending;
            if (head == null && flockPollNanos > 0) {
                // Nobody waits for the flock half any more: let go of the fcntl half now.
                flockPollNanos = 0;
                IOException failure = releaseOs(osLock);
                osLock = null;
                if (failure != null) {
                    Threads.execute(() -> Registry.evictBroken(this, failure));
                }
            }
        }
        if (stopOsWait) {
            // Nobody wants the pending OS wait any more: close the channel to stop it. Off the
            // caller's thread, since closing waits for the blocked I/O thread to leave the kernel.
            Threads.execute(() -> Registry.evictIfUnused(this));
        }
    }

    /** Under the registry lock: closes this entry if nothing is held or queued. */
    synchronized boolean markClosedIfUnused() {
        if (closed || osLock != null || head != null) {
            return false;
        }
        closed = true;
        return true;
    }

    /** Under the registry lock, for the sweep: closes this entry if unused since the last sweep. */
    synchronized boolean markClosedIfIdle() {
        if (referenced) {
            referenced = false;
            return false;
        }
        return markClosedIfUnused();
    }

    /** Under the registry lock: the channel failed to release; close whatever the state. */
    List<Waiter> markClosedBroken() {
        synchronized (this) {
            if (closed) {
                return List.of();
            }
            closed = true;
            osLock = null;
            holder = null;
            flockPollNanos = 0;
            return drain();
        }
    }

    /** Under the registry lock: a second descriptor on this file that must outlive any lock held. */
    synchronized void adoptStray(AsynchronousFileChannel stray) {
        if (strays == null) {
            strays = new ArrayList<>(1);
        }
        strays.add(stray);
    }

    /** Once closed: closes the descriptors, which ends a pending OS wait. */
    void closeChannels() {
        List<AsynchronousFileChannel> all = new ArrayList<>(2);
        all.add(channel);
        synchronized (this) {
            if (strays != null) {
                all.addAll(strays);
            }
        }
        for (AsynchronousFileChannel ch : all) {
            try {
                ch.close();
            } catch (IOException ignored) {
                // the descriptor is gone either way
            }
        }
        flock.close(); // after the channels: this JVM holds no fcntl lock on the file any more
    }

    private void retryOsWait() {
        synchronized (this) {
            if (closed) {
                return;
            }
            osPending = false;
            if (head != null) {
                startOsWait();
                return;
            }
        }
        Registry.evictIfUnused(this);
    }

    private FileLock tryOsLock() throws IOException {
        try {
            return channel.tryLock(0, 1, false);
        } catch (OverlappingFileLockException e) {
            throw lockedOutsideLocket();
        } catch (IOException e) {
            throw Registry.named(path, e);
        }
    }

    private void startOsWait() {
        osPending = true;
        try {
            channel.lock(0, 1, false, null, this);
        } catch (OverlappingFileLockException e) {
            Threads.execute(() -> failed(lockedOutsideLocket(), null));
        }
    }

    private FileSystemException lockedOutsideLocket() {
        return new FileSystemException(path.toString(), null,
                "already locked in this JVM by code that does not use Locket (FileChannel.lock on the same file)");
    }

    /**
     * The flock half, with the fcntl half {@code fl} just taken. On failure the fcntl half is
     * released and the failure thrown.
     */
    private boolean tryFlock(FileLock fl) throws IOException {
        try {
            return flock.tryLock();
        } catch (IOException e) {
            releaseOs(fl);
            throw e;
        }
    }

    /** Releases the held lock: flock half first, then fcntl. */
    private IOException releaseBoth() {
        IOException failure = null;
        try {
            flock.unlock();
        } catch (IOException e) {
            failure = e;
        }
        IOException fcntl = releaseOs(osLock);
        osLock = null;
        return failure != null ? failure : fcntl;
    }

    private static IOException releaseOs(FileLock fl) {
        try {
            fl.release();
            return null;
        } catch (IOException e) {
            return e;
        }
    }

    private static boolean isDeadlock(Throwable failure) {
        String message = failure.getMessage();
        return failure instanceof IOException && message != null && message.toLowerCase().contains("deadlock");
    }

    private void took(FileLock fl) {
        osLock = fl;
        heldSince = System.nanoTime();
        handoffs = 0;
    }

    private Waiter firstLive() {
        Waiter w = head;
        while (w != null && w.future().isDone()) { // abandoned; its callback has not run yet
            unlink(w);
            w = head;
        }
        return w;
    }

    private void link(Waiter w) {
        w.linked = true;
        w.prev = tail;
        if (tail == null) {
            head = w;
        } else {
            tail.next = w;
        }
        tail = w;
    }

    private void unlink(Waiter w) {
        Waiter p = w.prev;
        Waiter n = w.next;
        if (p == null) {
            head = n;
        } else {
            p.next = n;
        }
        if (n == null) {
            tail = p;
        } else {
            n.prev = p;
        }
        w.prev = w.next = null;
        w.linked = false;
    }

    private List<Waiter> drain() {
        List<Waiter> all = new ArrayList<>();
        for (Waiter w = head; w != null; w = head) {
            unlink(w);
            all.add(w);
        }
        return all;
    }

    @Override
    public String toString() {
        synchronized (this) {
            int waiters = 0;
            for (Waiter w = head; w != null; w = w.next) {
                waiters++;
            }
            return "FileEntry[" + path + (closed ? ", closed" : holder != null ? ", held" : ", free")
                    + (osPending ? ", waiting for fcntl" : "") + (flockPollNanos > 0 ? ", waiting for flock" : "")
                    + ", waiters=" + waiters + "]";
        }
    }
}
