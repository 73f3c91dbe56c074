package io.github.locket;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One lock file in this JVM: its {@link OsLock}, who holds the lock here, the FIFO of waiters, and
 * the one {@link State} that says which of these exist. Every transition happens under this
 * object's monitor, and nothing else does; no user code and no blocking call runs under it (only
 * the non-blocking lock and unlock system calls, and the close of descriptors that never waited).
 *
 * <p><b>Barging, bounded.</b> When a holder releases and the next waiter is a thread blocked in
 * {@link LockFile#acquire()}, the lock is not handed to it (which would cost a context switch per
 * hand-off): it is left {@link State#VACANT} and that thread is woken to compete for it, while any
 * arriving thread may take it first. A waiter that loses and has waited longer than {@link
 * #STARVE_NANOS} turns the entry to starvation mode: every release then hands the lock to the
 * head of the queue, first come first served, until a waiter is served that waited less than that
 * or the queue is empty. Asynchronous waiters and shared waiters are always handed the lock
 * directly: their futures complete on the releasing thread, no context switch involved.
 *
 * <p><b>Other processes.</b> While waiters here want it, this JVM keeps the operating-system lock
 * across in-JVM grants for at most {@link #MAX_HANDOFFS} grants or {@link #MAX_HOLD_NANOS}, then
 * gives it back and queues behind the operating system, so that a waiting process gets its turn.
 *
 * <p><b>Shared holders.</b> Any number of shared holders hold the lock together, with the
 * operating-system lock in shared mode. A shared acquisition joins them unless an exclusive waiter
 * is queued here (then it queues behind it, so that readers here cannot starve a writer here).
 * The budget above does not stop readers from joining: a reader that waited for another reader
 * would wait for as long as that one holds, and a reader nested in another would deadlock. Across
 * processes the kernel decides, and it grants a shared lock while a writer waits.
 *
 * <p>See {@code docs/design.md} for the transitions and who releases the lock on every path.
 */
final class FileEntry {
    /** What this file's lock is doing. The fields each state implies are listed with it. */
    enum State {
        /** Nothing held, nobody waiting. */
        IDLE,
        /** Held by {@link #holders} (one exclusive, or shared ones); waiters may be queued. */
        HELD,
        /**
         * The operating-system lock is held (exclusive), no one here holds it, and the head
         * waiter, a blocked thread, has been woken to take it; an arriving thread may take it
         * first (unless {@link #starving}).
         */
        VACANT,
        /** Waiters queued; the one {@link #wait} waits for the operating-system lock. */
        OS_WAIT,
        /**
         * Waiters queued; the lock is polled, because another descriptor in this JVM holds it
         * (JDK channel only: code outside this registry) or the kernel reported a deadlock.
         */
        POLL_WAIT,
        /**
         * Closed, for good: no holder, no waiters; its descriptors are being closed, and until
         * they are ({@link #closed} completes) this entry stays in the registry as a tombstone, so
         * that no new descriptor of the file can take a lock that closing these would drop.
         */
        CLOSED
    }

    /** In-JVM grants while the operating-system lock is held, before it goes back. */
    static final int MAX_HANDOFFS = 64;
    /** How long this JVM keeps the operating-system lock across in-JVM grants. */
    static final long MAX_HOLD_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** A blocked waiter that lost the lock to a barging thread after this long starts starvation mode. */
    static final long STARVE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Retry delay after the kernel reported a (possibly false) deadlock between processes. */
    private static final long DEADLOCK_RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Polling (POLL_WAIT): first and longest interval. */
    private static final long POLL_MIN_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private static final long POLL_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

    final Env env;
    final Object key;
    final Path path;
    final OsLock os;
    /** Completes once this entry is closed and its descriptors with it. */
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    /** When {@link LockFile} last saw the path name this file (System.nanoTime()). */
    volatile long verifiedAt = System.nanoTime() - LockFile.RECHECK_NANOS;

    // Written under the monitor; volatile so that isClosed() and toString() may read it.
    private volatile State state = State.IDLE;
    // Guarded by the monitor.
    private final List<Grant.OfFile> holders = new ArrayList<>(1);
    private boolean osShared; // the operating-system lock's mode, while HELD or VACANT
    private int handoffs; // in-JVM grants since the operating-system lock was taken
    private long osSince;
    private boolean starving;
    private @Nullable Waiter head;
    private @Nullable Waiter tail;
    private int queuedExclusive;
    private @Nullable Waiter woken; // told to compete for the VACANT lock, not yet come
    private @Nullable OsWait wait;
    private int polls; // the scheduled poll's number: a stale one recognises itself
    private long pollNanos;
    private boolean referenced = true; // used since the last sweep
    private @Nullable List<OsLock> strays; // descriptors of this file opened by racing first opens
    private boolean descriptorsClosed;
    /** Acquisitions that came while closing; null once restarted (or before closing). */
    private @Nullable List<Acquisition> deferred;

    FileEntry(Env env, OsLock os, Path path) {
        this.env = env;
        this.os = os;
        this.key = os.key();
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
     * @return {@link Attempt.Granted}, {@link Attempt.Queued}, {@link Attempt.Retry} or {@link
     *     Attempt.Deferred} when closed, or {@link Attempt.Busy} (only when not waiting)
     */
    Attempt acquire(Path path, @Nullable Acquisition waiting, boolean shared) throws IOException {
        Next later = null;
        Attempt outcome;
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
            if (s == State.IDLE) {
                int r;
                if (waiting != null && waiting.osBusy) {
                    waiting.osBusy = false; // asked a moment ago: wait, do not ask again
                    r = OsLock.BUSY;
                } else {
                    r = os.tryLock(shared);
                }
                if (r == OsLock.GRANTED) {
                    tookOs(shared);
                    return new Attempt.Granted(grant(path, shared));
                } else if (waiting == null) {
                    return r == OsLock.BUSY ? Attempt.Busy.OS_BUSY : Attempt.Busy.BUSY;
                }
                Waiter w = link(path, waiting, shared);
                if (r == OsLock.BUSY) {
                    later = waitOnOs();
                } else {
                    poll(POLL_MIN_NANOS);
                }
                outcome = new Attempt.Queued(w);
            } else if (s == State.HELD && shared && osShared && queuedExclusive == 0) {
                return new Attempt.Granted(grant(path, true)); // joins the shared holders
            } else if (s == State.VACANT && !shared && !starving && !budgetSpent()) {
                return new Attempt.Granted(grant(path, false)); // barges in ahead of the woken waiter
            } else if (waiting == null) {
                return Attempt.Busy.BUSY;
            } else {
                outcome = new Attempt.Queued(link(path, waiting, shared));
                if (s == State.VACANT && budgetSpent()) {
                    later = giveBackAndWait(); // the budget is spent: queue behind the OS now
                }
            }
        }
        if (later != null) {
            later.run();
        }
        return outcome;
    }

    /**
     * Releases {@code g}: hands the lock on here, or gives it back to the operating system.
     *
     * @return true if this call released it, false if it was released before
     * @throws UncheckedIOException if the operating system refused to release; the entry is then
     *     closed (its descriptors closing releases the lock) and its waiters start over on a new one
     */
    boolean release(Grant.OfFile g) {
        Next next;
        synchronized (this) {
            if (g.released) {
                return false;
            }
            released(g);
            holders.remove(g);
            if (!holders.isEmpty()) {
                return true; // other shared holders hold it still
            }
            next = dispatch(true);
        }
        next.run();
        if (next instanceof Next.ReleaseFailed failed) {
            throw new UncheckedIOException(failed.failure);
        }
        return true;
    }

    /**
     * A woken waiter's thread comes for the {@link State#VACANT} lock.
     *
     * @return the lock if it got it, else null (it stays queued, and was told to wait in the
     *     kernel if the budget just ran out)
     */
    @Nullable Lock compete(Waiter w) {
        Next later = null;
        synchronized (this) {
            if (woken == w) {
                woken = null;
            }
            if (!w.linked) {
                return null; // served directly, or gone
            }
            if (state == State.VACANT && (!starving || w == firstLive())) {
                if (!budgetSpent()) {
                    unlink(w);
                    Lock lock = grant(w.path, false);
                    leaveStarvation(w);
                    return lock;
                }
                later = giveBackAndWait();
            } else if (System.nanoTime() - w.owner.since >= STARVE_NANOS) {
                starving = true; // lost to a barging thread, and has waited long enough
            }
        }
        if (later != null) {
            later.run();
        }
        return null;
    }

    /** A wait ended (on the thread that ran it, or the JDK channel's). */
    void waitEnded(OsWait ended, int outcome) {
        Next next;
        synchronized (this) {
            if (wait != ended) {
                return; // closed meanwhile: closing the descriptors released whatever it got
            }
            wait = null;
            next = switch (outcome) {
                case OsWait.GRANTED -> {
                    tookOs(ended.shared);
                    yield dispatch(false);
                }
                case OsWait.CANCELLED -> firstLive() != null ? waitOnOs() : idle();
                case OsWait.RETRY -> {
                    poll(DEADLOCK_RETRY_NANOS);
                    yield Next.NONE;
                }
                default -> failAll(ended.failure != null ? ended.failure : new IOException("the wait for the lock failed"));
            };
        }
        next.run();
    }

    /** A scheduled poll (POLL_WAIT). */
    private void polled(int number) {
        Next next = null;
        synchronized (this) {
            if (number != polls || state != State.POLL_WAIT) {
                return; // that wait ended (closed, or everyone gave up), perhaps to begin anew
            }
            Waiter first = firstLive();
            if (first == null) {
                next = idle();
            } else {
                try {
                    int r = os.tryLock(first.shared);
                    if (r == OsLock.GRANTED) {
                        tookOs(first.shared);
                        next = dispatch(false);
                    } else if (r == OsLock.BUSY) {
                        next = waitOnOs(); // another process holds it: the kernel can wait for us now
                    } else {
                        poll(Math.min(2 * pollNanos, POLL_MAX_NANOS));
                    }
                } catch (IOException e) {
                    next = failAll(e);
                }
            }
        }
        if (next != null) {
            next.run();
        }
    }

    /** A waiter's acquisition completed other than by our grant: leave the queue. */
    void abandon(Waiter w) {
        Next next = null;
        synchronized (this) {
            if (!w.linked) {
                return;
            }
            unlink(w);
            if (woken == w) {
                woken = null;
            }
            OsWait pending = wait;
            if (pending != null && pending.assignee == w) {
                if (pending.drop()) { // its thread never started it: someone else must
                    wait = null;
                    next = firstLive() != null ? waitOnOs() : idle();
                } else {
                    pending.cancel(); // out of the kernel: it reports, and the next head waits anew
                }
            } else if (head == null) {
                next = switch (state) {
                    case OS_WAIT -> stopWaiting(pending);
                    case POLL_WAIT -> {
                        polls++;
                        yield idle();
                    }
                    case VACANT -> dispatch(true); // nobody left: give it back
                    default -> Next.NONE; // HELD: the holder releases as usual
                };
            } else if (state == State.VACANT && woken == null) {
                next = dispatch(true); // wake the next one
            }
        }
        if (next != null) {
            next.run();
        }
    }

    /** Under the monitor, OS_WAIT, nobody waiting any more: ends the wait for the OS lock. */
    private Next stopWaiting(@Nullable OsWait pending) {
        if (pending == null || pending.drop()) { // (never null in OS_WAIT)
            wait = null;
            return idle();
        } else if (pending.cancel()) {
            // Only closing the JDK channel stops its wait; off this thread, since closing waits
            // for the I/O thread to leave the kernel.
            close();
            return () -> closeDescriptors(true);
        }
        return Next.NONE; // it leaves the kernel and reports
    }

    /**
     * Under the monitor, the operating-system lock held and nobody here holding it: who gets it.
     *
     * @param released whether a holder just released it (a blocked head is then woken to compete
     *     rather than handed the lock)
     * @return what to do outside the monitor (never null)
     */
    private Next dispatch(boolean released) {
        Waiter w = firstLive();
        if (w == null) {
            return giveBack(this::idle);
        } else if (budgetSpent()) {
            return giveBackAndWait();
        } else if (w.shared != osShared) {
            return giveBack(() -> {
                int r = os.tryLock(w.shared); // the other mode: ask the OS afresh
                if (r == OsLock.GRANTED) {
                    tookOs(w.shared);
                    return dispatch(false);
                } else if (r == OsLock.BUSY) {
                    return waitOnOs();
                }
                poll(POLL_MIN_NANOS);
                return Next.NONE;
            });
        } else if (w.shared) {
            Next all = Next.NONE;
            for (Waiter r = w; r != null && r.shared; r = firstLive()) {
                unlink(r);
                all = all.then(Next.deliver(env, r, grant(r.path, true)));
            }
            return all;
        } else if (released && w.isBlocking() && !starving) {
            state = State.VACANT;
            if (woken == null) {
                woken = w;
                w.signal(Waiter.COMPETE);
            }
            return Next.NONE;
        }
        unlink(w);
        Lock lock = grant(w.path, false);
        leaveStarvation(w);
        return Next.deliver(env, w, lock);
    }

    /** What to run under the monitor once the operating-system lock is given back. */
    private interface AfterGiveBack {
        Next run() throws IOException;
    }

    /**
     * Under the monitor: releases the operating-system lock, then {@code then}; if the release
     * fails, closes this entry instead (closing the descriptors releases it) and its waiters start
     * over on a new one.
     */
    private Next giveBack(AfterGiveBack then) {
        IOException failure = null;
        try {
            os.unlock();
        } catch (IOException e) {
            failure = e;
        }
        if (failure == null) {
            try {
                return then.run();
            } catch (IOException e) {
                return failAll(e);
            }
        }
        List<Waiter> restart = close();
        return new Next.ReleaseFailed(Registry.named(path, failure), () -> {
            closeDescriptors(false);
            for (Waiter r : restart) {
                r.owner.restart();
            }
        });
    }

    /** Under the monitor: gives the lock back and queues behind the operating system. */
    private Next giveBackAndWait() {
        return giveBack(this::waitOnOs);
    }

    /**
     * Under the monitor, nothing held, a live waiter queued: starts the one wait for the
     * operating-system lock, in the head's mode. With a native binding it runs on the head's own
     * thread when that is blocked in {@link LockFile#acquire()}, else on a {@code locket-io} thread.
     */
    private Next waitOnOs() {
        Waiter h = firstLive();
        if (h == null) {
            return idle();
        }
        OsWait w = os.newWait(this, h.shared);
        wait = w;
        state = State.OS_WAIT;
        woken = null; // no longer vacant: whoever comes next is woken anew
        if (!w.onThread()) {
            if (w.start() == OsWait.RETRY) {
                wait = null;
                poll(POLL_MIN_NANOS);
            }
            return Next.NONE;
        }
        if (h.isBlocking()) {
            w.assignee = h;
            h.task = w;
            h.signal(Waiter.KERNEL);
            return Next.NONE;
        }
        return () -> {
            try {
                env.io.execute(() -> runWait(w));
            } catch (RejectedExecutionException e) {
                runWait(w); // no thread to spare: wait here
            }
        };
    }

    /** Runs a wait on this thread, if nobody else claimed it, and reports its end. */
    void runWait(OsWait w) {
        if (w.claim()) {
            waitEnded(w, w.run());
        }
    }

    /** Under the monitor: enter POLL_WAIT, with a poll after {@code nanos}. */
    private void poll(long nanos) {
        state = State.POLL_WAIT;
        pollNanos = nanos;
        int number = ++polls;
        ScheduledFuture<?> unused = env.timer.schedule(() -> env.io.execute(() -> polled(number)), nanos,
                TimeUnit.NANOSECONDS); // a stale poll recognises itself
    }

    /** Under the monitor: nothing held, nobody waiting. */
    private Next idle() {
        state = State.IDLE;
        starving = false;
        woken = null;
        if (strays != null) {
            closeStrays();
        }
        return Next.NONE;
    }

    /** Under the monitor: the operating-system lock was just taken, in this mode. */
    private void tookOs(boolean shared) {
        osShared = shared;
        osSince = System.nanoTime();
        handoffs = 0;
    }

    /** Under the monitor: whether this JVM has kept the operating-system lock long enough. */
    private boolean budgetSpent() {
        return handoffs >= MAX_HANDOFFS || System.nanoTime() - osSince >= MAX_HOLD_NANOS;
    }

    /** Under the monitor: a waiter served in starvation mode who barely waited ends it. */
    private void leaveStarvation(Waiter served) {
        if (starving && (head == null || System.nanoTime() - served.owner.since < STARVE_NANOS)) {
            starving = false;
        }
    }

    /** Under the monitor: a new grant of the held operating-system lock. */
    private Lock grant(Path path, boolean shared) {
        state = State.HELD;
        handoffs++;
        Lock lock = new Lock(this, path, shared);
        holders.add(lock.fileGrant());
        env.leaks.granted();
        return lock;
    }

    private void released(Grant.OfFile g) {
        g.released = true;
        g.clear(); // no leak report for a grant already released
        env.leaks.released();
    }

    /** Under the monitor: the operating-system wait failed; close, and fail every waiter. */
    private Next failAll(Throwable failure) {
        List<Waiter> failed = close();
        IOException named = Registry.named(path, failure);
        return () -> {
            closeDescriptors(false);
            for (Waiter w : failed) {
                w.owner.result.completeExceptionally(named);
            }
        };
    }

    /**
     * Closes this entry if it is idle, and (unless {@code now}) was not used since the last call:
     * the second-chance sweep, the identity check's eviction, and descriptor exhaustion. It stays
     * open if closing its descriptor could drop a lock that code outside Locket holds on the file
     * ({@link OsLock#safeToClose}).
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
            if (!os.safeToClose()) {
                referenced = true;
                return false;
            }
            close();
        }
        closeDescriptors(false);
        return true;
    }

    /**
     * A racing first open of the same file opened this too. Closing it could drop a lock held
     * through ours (classic POSIX locks belong to the process), so it is kept until this entry is
     * next idle, or closed with it; once this entry's descriptors are closed it is closed at once.
     */
    void adopt(OsLock extra) {
        synchronized (this) {
            if (!descriptorsClosed) {
                if (strays == null) {
                    strays = new ArrayList<>(1);
                }
                strays.add(extra);
                if (state == State.IDLE || !os.closingDropsOurLocks()) {
                    closeStrays();
                }
                return;
            }
        }
        extra.close();
    }

    /**
     * Under the monitor, idle: closes the strays, unless closing a descriptor could drop a lock
     * held outside Locket (then they wait for the next idle moment). Closing descriptors that
     * never waited on anything does not block.
     */
    private void closeStrays() {
        List<OsLock> all = strays;
        if (all == null || !os.safeToClose()) {
            return;
        }
        for (OsLock h : all) {
            h.close();
        }
        strays = null;
        os.endProbe();
    }

    /** Under the monitor: moves to CLOSED for good; returns the waiters to fail or restart. */
    private List<Waiter> close() {
        state = State.CLOSED;
        deferred = new ArrayList<>();
        polls++;
        if (wait != null && wait.onThread()) {
            wait.cancel(); // closing our descriptor would not wake it
        }
        wait = null;
        woken = null;
        for (Grant.OfFile g : holders) {
            released(g); // its handle now says so; closing the descriptors releases the lock
        }
        holders.clear();
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
        List<OsLock> extra;
        synchronized (this) {
            descriptorsClosed = true;
            extra = strays == null ? List.of() : strays;
            strays = null;
        }
        try {
            // The strays first: while the entry's own descriptor is open, the JDK's table keeps
            // other descriptors in this JVM from taking a classic lock that closing these would drop.
            for (OsLock h : extra) {
                h.close();
            }
            os.close();
        } finally {
            env.registry.removed(this);
            List<Acquisition> restart;
            synchronized (this) {
                restart = deferred;
                deferred = null;
            }
            closed.complete(null);
            if (restart != null) {
                for (Acquisition a : restart) {
                    a.restart();
                }
            }
        }
    }

    private @Nullable Waiter firstLive() {
        Waiter w = head;
        while (w != null && w.isAbandoned()) { // its abandon() has not run yet
            unlink(w);
            if (woken == w) {
                woken = null;
            }
            w = head;
        }
        return w;
    }

    private Waiter link(Path path, Acquisition owner, boolean shared) {
        Waiter w = new Waiter(this, owner, path, shared);
        w.linked = true;
        w.prev = tail;
        if (tail == null) {
            head = w;
        } else {
            tail.next = w;
        }
        tail = w;
        if (!shared) {
            queuedExclusive++;
        }
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
        if (!w.shared) {
            queuedExclusive--;
        }
    }

    /** Returns {@code FileEntry[<path>, <state>, holders=<n>, waiters=<n>]}. */
    @Override
    public String toString() {
        synchronized (this) {
            int waiters = 0;
            for (Waiter w = head; w != null; w = w.next) {
                waiters++;
            }
            return "FileEntry[" + path + ", " + state.name().toLowerCase(Locale.ROOT) + (starving ? " (starving)" : "")
                    + ", holders=" + holders.size() + (osShared && !holders.isEmpty() ? " shared" : "")
                    + ", waiters=" + waiters + "]";
        }
    }
}
