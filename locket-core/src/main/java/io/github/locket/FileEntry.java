package io.github.locket;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One lock file in this JVM: its descriptors, the operating-system lock when held, the FIFO of
 * waiters, and the one {@link State} that says which of these exist. Every transition happens
 * under this object's monitor, and nothing else does; no user code and no blocking call runs under
 * it (the non-blocking {@code tryLock}, {@code flock(LOCK_NB)} and unlock system calls do).
 *
 * <p>The operating-system lock has two halves, always taken in this order and released in the
 * reverse: the {@code fcntl} record lock through the channel, then (on Linux) {@code flock(2)}
 * through {@link Flock}. The order cannot deadlock: programs that use only {@code flock} never wait
 * for an {@code fcntl} lock. See {@code docs/design.md} for the transitions and who releases the
 * lock on every path.
 */
final class FileEntry implements CompletionHandler<FileLock, Void> {
    /** What this file's lock is doing. The fields each state implies are listed with it. */
    enum State {
        /** Nothing held, nobody waiting. */
        IDLE,
        /** Waiters queued; the channel's one pending {@code lock} waits in the kernel. */
        OS_WAIT,
        /**
         * Waiters queued; the {@code fcntl} half is polled, because another descriptor in this JVM
         * holds it (code outside this registry: another copy of Locket, or {@code FileChannel}
         * code), or the kernel reported a false deadlock.
         */
        POLL_WAIT,
        /** Waiters queued; {@code fcntl} half held ({@link #fcntl}), {@code flock} half polled. */
        FLOCK_WAIT,
        /** Held: {@link #fcntl} and the flock half, by {@link #holder}; waiters may be queued. */
        HELD,
        /**
         * Closed, for good: no holder, no waiters; its descriptors are being closed, and until
         * they are ({@link #closed} completes) this entry stays in the registry as a tombstone, so
         * that no new descriptor of the file can take a lock that closing these would drop.
         */
        CLOSED
    }

    /** Direct hand-offs between this JVM's waiters before the lock goes back to the OS. */
    static final int MAX_HANDOFFS = 64;
    /** How long this JVM keeps the OS lock across direct hand-offs. */
    static final long MAX_HOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Retry delay after the kernel reported a (possibly false) deadlock between processes. */
    private static final long DEADLOCK_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Polling (POLL_WAIT, FLOCK_WAIT): first and longest interval. */
    private static final long POLL_MIN_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long POLL_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    final Env env;
    final Object key;
    final Path path;
    private final AsynchronousFileChannel channel;
    private final Flock flock;
    /** Completes once this entry is closed and its descriptors with it. */
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** When {@link LockFile} last saw the path name this file (System.nanoTime()). */
    volatile long verifiedAt = System.nanoTime() - LockFile.RECHECK_NANOS;

    // Written under the monitor; volatile so that isClosed() and toString() may read it.
    private volatile State state = State.IDLE;
    // Guarded by the monitor.
    private FileLock fcntl;
    private Grant.OfFile holder;
    private Waiter head;
    private Waiter tail;
    private int handoffs;
    private long heldSince;
    private int polls; // the scheduled poll's number: a stale one recognises itself
    private long pollNanos;
    private boolean referenced = true; // used since the last sweep
    private List<FileOpener.Handles> strays; // descriptors of this file opened by racing first opens
    private boolean descriptorsClosed;
    /** Acquisitions that came while closing; null once restarted (or before closing). */
    private List<Acquisition> deferred;

    FileEntry(Env env, FileOpener.Handles handles, Path path) {
        this.env = env;
        this.key = handles.key();
        this.channel = handles.channel();
        this.flock = handles.flock();
        this.path = path;
    }

    boolean isClosed() {
        return state == State.CLOSED;
    }

    State state() {
        return state;
    }

    /**
     * One attempt and, if {@code waiting} is not null, a queued waiter for it.
     *
     * @param path the path as the caller's {@link LockFile} names it, for the grant
     * @return {@link Attempt.Granted}, {@link Attempt.Queued}, {@link Attempt.Retry} when closed,
     *     or {@link Attempt.Busy} (only when not waiting)
     */
    Attempt acquire(Path path, Acquisition waiting) throws IOException {
        synchronized (this) {
            State s = state;
            if (s == State.CLOSED) {
                if (waiting != null && deferred != null) {
                    deferred.add(waiting); // restarted in this order once closed (FIFO, unlike a future's dependents)
                    return Attempt.Deferred.DEFERRED;
                }
                return new Attempt.Retry(closed);
            }
            referenced = true;
            if (s != State.IDLE) {
                return waiting == null ? Attempt.Busy.BUSY : new Attempt.Queued(link(path, waiting));
            }
            FileLock fl;
            try {
                fl = tryOsLock(1);
            } catch (OverlappingFileLockException elsewhereInThisJvm) {
                if (waiting == null) {
                    return Attempt.Busy.BUSY;
                }
                Waiter w = link(path, waiting);
                poll(State.POLL_WAIT, POLL_MIN_NANOS);
                return new Attempt.Queued(w);
            } catch (IOException e) {
                throw Registry.named(path, e);
            }
            if (fl == null) {
                if (waiting == null) {
                    return Attempt.Busy.BUSY;
                }
                Waiter w = link(path, waiting);
                waitOnOs();
                return new Attempt.Queued(w);
            }
            boolean both;
            try {
                both = flock.tryLock();
            } catch (IOException e) {
                releaseQuietly(fl);
                throw Registry.named(path, e);
            }
            if (both) {
                return new Attempt.Granted(grant(fl, path));
            }
            if (waiting == null) { // a flock-only program holds it
                IOException failure = release(fl);
                if (failure != null) {
                    throw Registry.named(path, failure);
                }
                return Attempt.Busy.BUSY;
            }
            Waiter w = link(path, waiting);
            fcntl = fl; // keep the fcntl half and poll for the flock half
            poll(State.FLOCK_WAIT, POLL_MIN_NANOS);
            return new Attempt.Queued(w);
        }
    }

    /**
     * Releases {@code g}: hands the lock to the next waiter here, or gives it back to the OS.
     *
     * @return true if this call released it, false if it was released before
     * @throws UncheckedIOException if the OS refused to release; the entry is then closed (its
     *     descriptors closing releases the lock) and its waiters start over on a new entry
     */
    boolean release(Grant.OfFile g) {
        Waiter next = null;
        Lock nextLock = null;
        IOException failure = null;
        List<Waiter> restart = null;
        synchronized (this) {
            if (g.released) {
                return false;
            }
            released(g);
            if (holder != g) {
                return true; // unreachable: closing marks the holder released
            }
            holder = null;
            Waiter first = firstLive();
            if (first != null && handoffs < MAX_HANDOFFS && System.nanoTime() - heldSince < MAX_HOLD_NANOS) {
                handoffs++;
                unlink(first);
                nextLock = newLock(first.path);
                next = first;
            } else {
                failure = releaseBoth();
                if (failure != null) {
                    restart = close();
                } else if (head != null) {
                    waitOnOs(); // queue behind the OS, so that a waiting process gets its turn
                } else {
                    idle();
                }
            }
        }
        if (next != null) {
            Delivery.deliver(env, next, nextLock);
        } else if (restart != null) {
            closeDescriptors(false);
            for (Waiter w : restart) {
                w.owner.restart();
            }
            throw new UncheckedIOException(Registry.named(path, failure));
        }
        return true;
    }

    /** The pending OS wait succeeded (on a locket-io thread). */
    @Override
    public void completed(FileLock fl, Void unused) {
        Waiter next = null;
        Lock lock = null;
        List<Waiter> failed = null;
        IOException failure = null;
        synchronized (this) {
            if (state != State.OS_WAIT) {
                return; // closed: closing the channel releases fl
            }
            Waiter first = firstLive();
            if (first == null) { // everyone gave up in the same instant
                failure = release(fl);
                if (failure == null) {
                    idle();
                } else {
                    failed = close();
                }
            } else {
                try {
                    if (flock.tryLock()) {
                        unlink(first);
                        lock = grant(fl, first.path);
                        next = first;
                    } else {
                        fcntl = fl;
                        poll(State.FLOCK_WAIT, POLL_MIN_NANOS);
                    }
                } catch (IOException e) {
                    failure = e;
                    releaseQuietly(fl);
                    failed = close();
                }
            }
        }
        finish(next, lock, failed, failure);
    }

    /** The pending OS wait failed (on a locket-io thread). */
    @Override
    public void failed(Throwable failure, Void unused) {
        List<Waiter> failed;
        synchronized (this) {
            if (state != State.OS_WAIT) {
                return; // we closed the channel to stop the wait
            }
            if (isDeadlock(failure)) {
                // EDEADLK: the kernel's deadlock detection works per process and misfires with
                // threads; the holder will usually let go. Ask again a little later.
                poll(State.POLL_WAIT, DEADLOCK_RETRY_NANOS);
                return;
            }
            failed = close();
        }
        finish(null, null, failed, failure);
    }

    /** A scheduled poll of the state it was scheduled in (POLL_WAIT or FLOCK_WAIT). */
    private void polled(int number) {
        Waiter next = null;
        Lock lock = null;
        List<Waiter> failed = null;
        IOException failure = null;
        synchronized (this) {
            if (number != polls) {
                return; // that wait ended (closed, or everyone gave up), perhaps to begin anew
            }
            Waiter first = firstLive();
            try {
                if (state == State.FLOCK_WAIT) {
                    if (first == null) {
                        failure = release(fcntl);
                        fcntl = null;
                        if (failure != null) {
                            failed = close();
                        } else {
                            idle();
                        }
                    } else if (flock.tryLock()) {
                        unlink(first);
                        lock = grant(fcntl, first.path);
                        next = first;
                    } else {
                        poll(State.FLOCK_WAIT, Math.min(2 * pollNanos, POLL_MAX_NANOS));
                    }
                } else if (state == State.POLL_WAIT) {
                    if (first == null) {
                        idle();
                    } else {
                        FileLock fl = null;
                        boolean elsewhere = false;
                        try {
                            fl = tryOsLock(1);
                        } catch (OverlappingFileLockException stillHeldInThisJvm) {
                            elsewhere = true;
                        }
                        if (elsewhere) {
                            poll(State.POLL_WAIT, Math.min(2 * pollNanos, POLL_MAX_NANOS));
                        } else if (fl == null) {
                            waitOnOs(); // another process holds it: the kernel can wait for us now
                        } else if (flock.tryLock()) {
                            unlink(first);
                            lock = grant(fl, first.path);
                            next = first;
                        } else {
                            fcntl = fl;
                            poll(State.FLOCK_WAIT, POLL_MIN_NANOS);
                        }
                    }
                }
            } catch (IOException e) {
                failure = e;
                if (fcntl != null) {
                    releaseQuietly(fcntl);
                }
                failed = close();
            }
        }
        finish(next, lock, failed, failure);
    }

    /** A waiter's acquisition completed other than by our grant: leave the queue. */
    void abandon(Waiter w) {
        boolean closeChannel = false;
        synchronized (this) {
            if (!w.linked) {
                return;
            }
            unlink(w);
            if (head != null) {
                return;
            }
            switch (state) {
                case OS_WAIT:
                    // Nobody wants the pending OS wait any more: closing the channel stops it.
                    close();
                    closeChannel = true;
                    break;
                case FLOCK_WAIT:
                    polls++;
                    IOException failure = release(fcntl);
                    fcntl = null;
                    if (failure != null) {
                        close();
                        closeChannel = true;
                    } else {
                        idle();
                    }
                    break;
                case POLL_WAIT:
                    polls++;
                    idle();
                    break;
                default:
                    break; // HELD: the holder releases as usual
            }
        }
        if (closeChannel) {
            // Off the caller's thread: closing waits for the I/O thread to leave the kernel.
            closeDescriptors(true);
        }
    }

    /**
     * Closes this entry if it is idle, and (unless {@code now}) was not used since the last call:
     * the second-chance sweep, the identity check's eviction, and descriptor exhaustion.
     *
     * <p>Where closing a descriptor drops every POSIX lock of the process on the file, the channel
     * first takes a whole-file lock: if another descriptor in this JVM (another copy of Locket,
     * {@code FileChannel} code) holds any lock on the file, the JDK refuses it and the entry stays
     * open; if not, the JDK's table now refuses such locks to everyone else until the close.
     *
     * @return true if closed
     */
    boolean closeIfIdle(boolean now) {
        synchronized (this) {
            if (state != State.IDLE) {
                return false;
            }
            if (!now && referenced) {
                referenced = false;
                return false;
            }
            if (env.posixClose) {
                try {
                    tryOsLock(Long.MAX_VALUE); // released by closing the channel
                } catch (OverlappingFileLockException heldElsewhereInThisJvm) {
                    referenced = true;
                    return false;
                } catch (IOException unknown) {
                    // cannot tell; nothing of ours is held, close all the same
                }
            }
            close();
        }
        closeDescriptors(false);
        return true;
    }

    /**
     * A racing first open of the same file opened these too. Closing them while a lock is held
     * through ours would drop it (POSIX), so they are kept until this entry is next idle, or
     * closed with it; once this entry's descriptors are closed they are closed at once.
     */
    void adopt(FileOpener.Handles extra) {
        synchronized (this) {
            if (!descriptorsClosed) {
                if (strays == null) {
                    strays = new ArrayList<>(1);
                }
                strays.add(extra);
                if (state == State.IDLE) {
                    closeStrays();
                }
                return;
            }
        }
        extra.close();
    }

    /** Under the monitor: nothing held, nobody waiting. */
    private void idle() {
        state = State.IDLE;
        if (strays != null) {
            closeStrays();
        }
    }

    /**
     * Under the monitor, idle: closes the strays, unless another descriptor in this JVM (another
     * copy of Locket, {@code FileChannel} code) holds a lock on the file, which closing them would
     * drop. A whole-file lock through our channel asks the JDK's JVM-wide table, and while held
     * keeps everyone else in this JVM from taking a lock on the file until they are closed. Closing
     * descriptors that never waited on anything does not block.
     */
    private void closeStrays() {
        FileLock whole = null;
        if (env.posixClose) {
            try {
                whole = tryOsLock(Long.MAX_VALUE);
            } catch (OverlappingFileLockException heldElsewhereInThisJvm) {
                return; // try again when next idle
            } catch (IOException unknown) {
                // cannot tell; nothing of ours is held, close them all the same
            }
        }
        for (FileOpener.Handles h : strays) {
            h.close();
        }
        strays = null;
        if (whole != null && release(whole) != null) {
            // Still held, in the JDK's table too: only closing the channel lets go of it now.
            close();
            closeDescriptors(true);
        }
    }

    /** Under the monitor: moves to CLOSED for good; returns the waiters to fail or restart. */
    private List<Waiter> close() {
        state = State.CLOSED;
        deferred = new ArrayList<>();
        polls++;
        fcntl = null;
        if (holder != null) {
            released(holder); // its handle now says so; closing the descriptors releases the lock
            holder = null;
        }
        List<Waiter> all = new ArrayList<>();
        for (Waiter w = head; w != null; w = head) {
            unlink(w);
            all.add(w);
        }
        return all;
    }

    /** Once CLOSED: closes the descriptors (which releases any OS lock and ends an OS wait). */
    private void closeDescriptors(boolean offThread) {
        if (offThread) {
            try {
                env.io.execute(() -> closeDescriptors(false));
                return;
            } catch (RejectedExecutionException e) {
                // close here, then
            }
        }
        List<FileOpener.Handles> extra;
        synchronized (this) {
            descriptorsClosed = true;
            extra = strays == null ? List.of() : strays;
            strays = null;
        }
        try {
            // The flock descriptor and the strays first: while the channel is open the JDK's table
            // keeps other descriptors in this JVM from taking a lock that closing these would drop.
            flock.close();
            for (FileOpener.Handles h : extra) {
                h.close();
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // the descriptor is gone either way
            }
        } finally {
            env.registry.removed(this);
            List<Acquisition> restart;
            synchronized (this) {
                restart = deferred;
                deferred = null;
            }
            closed.complete(null);
            for (Acquisition a : restart) {
                a.restart();
            }
        }
    }

    /** After a transition, outside the monitor: deliver the grant, or fail the waiters. */
    private void finish(Waiter next, Lock lock, List<Waiter> failed, Throwable failure) {
        if (next != null) {
            Delivery.deliver(env, next, lock);
        }
        if (failed != null) {
            closeDescriptors(false);
            IOException named = Registry.named(path, failure);
            for (Waiter w : failed) {
                w.owner.result.completeExceptionally(named);
            }
        }
    }

    /** Under the monitor: the OS lock {@code fl} is fully held; a new grant holds it. */
    private Lock grant(FileLock fl, Path path) {
        fcntl = fl;
        state = State.HELD;
        heldSince = System.nanoTime();
        handoffs = 0;
        return newLock(path);
    }

    private Lock newLock(Path path) {
        Lock lock = new Lock(this, path);
        holder = lock.fileGrant();
        env.leaks.granted();
        return lock;
    }

    private void released(Grant.OfFile g) {
        g.released = true;
        g.clear(); // no leak report for a grant already released
        env.leaks.released();
    }

    /**
     * Under the monitor: the fcntl half's one non-blocking attempt ({@code F_SETLK}) on bytes [0,
     * size), through the channel. The JDK's native is the same as the blocking {@code lock}'s, so
     * tools that flag blocking calls (BlockHound) are told that this method's use is not.
     */
    private FileLock tryOsLock(long size) throws IOException {
        return channel.tryLock(0, size, false);
    }

    /** Under the monitor: start the channel's one pending {@code lock}. */
    private void waitOnOs() {
        state = State.OS_WAIT;
        try {
            channel.lock(0, 1, false, null, this);
        } catch (OverlappingFileLockException elsewhereInThisJvm) {
            poll(State.POLL_WAIT, POLL_MIN_NANOS);
        }
    }

    /** Under the monitor: enter {@code s}, with a poll after {@code nanos}. */
    private void poll(State s, long nanos) {
        state = s;
        pollNanos = nanos;
        int number = ++polls;
        env.timer.schedule(() -> env.io.execute(() -> polled(number)), nanos, TimeUnit.NANOSECONDS);
    }

    /** Releases the held lock: flock half first, then fcntl. */
    private IOException releaseBoth() {
        IOException failure = null;
        try {
            flock.unlock();
        } catch (IOException e) {
            failure = e;
        }
        IOException f = release(fcntl);
        fcntl = null;
        return failure != null ? failure : f;
    }

    private static IOException release(FileLock fl) {
        try {
            fl.release();
            return null;
        } catch (IOException e) {
            return e;
        }
    }

    private static void releaseQuietly(FileLock fl) {
        release(fl); // a failure leaves the lock to the channel's close
    }

    private static boolean isDeadlock(Throwable failure) {
        String message = failure.getMessage();
        return failure instanceof IOException && message != null && message.toLowerCase().contains("deadlock");
    }

    private Waiter firstLive() {
        Waiter w = head;
        while (w != null && w.isAbandoned()) { // its abandon() has not run yet
            unlink(w);
            w = head;
        }
        return w;
    }

    private Waiter link(Path path, Acquisition owner) {
        Waiter w = new Waiter(this, owner, path);
        w.linked = true;
        w.prev = tail;
        if (tail == null) {
            head = w;
        } else {
            tail.next = w;
        }
        tail = w;
        return w;
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

    /** Returns {@code FileEntry[<path>, <state>, waiters=<n>]}. */
    @Override
    public String toString() {
        synchronized (this) {
            int waiters = 0;
            for (Waiter w = head; w != null; w = w.next) {
                waiters++;
            }
            return "FileEntry[" + path + ", " + state.name().toLowerCase() + ", waiters=" + waiters + "]";
        }
    }
}
