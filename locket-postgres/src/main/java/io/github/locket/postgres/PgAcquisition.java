package io.github.locket.postgres;

import io.github.locket.Lock;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Connection;
import java.io.IOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * One acquisition: a connection, one lock statement on it, and one decision per outcome about who
 * owns what it holds.
 *
 * <p>States, changed under this object's monitor: {@code CONNECTING} (waiting for the factory) →
 * {@code WAITING} (the lock statement is running) → {@code GRANTED} (this acquisition completes the
 * future with the {@link Lock}) or {@code FAILED} (busy, or an error); or, from {@code CONNECTING}
 * or {@code WAITING}, → {@code ABANDONED} when the future was completed from outside (cancel,
 * timeout, interrupt). Who releases what:
 *
 * <ul>
 *   <li>{@code GRANTED}: the {@code Lock}'s owner, through {@link PgGrant}; if the future was
 *       completed from outside after the decision, the {@code complete} call fails and this class
 *       closes the {@code Lock} at once.
 *   <li>{@code ABANDONED} while connecting: the connection is closed when it arrives.
 *   <li>{@code ABANDONED} while waiting: a CancelRequest is sent (again, while the statement has not
 *       answered: the first may reach the backend before the statement); once the last was delivered <em>and</em>
 *       the lock statement has finished (granted or cancelled: the server can grant and still report
 *       the statement cancelled), {@code pg_advisory_unlock} runs on the connection, then it is
 *       closed. Waiting for the delivery first means the cancel cannot hit a later statement of
 *       another user of a pooled connection: it hits ours, which is retried.
 *   <li>{@code FAILED} after the lock statement ran: the same unlock, then close.
 * </ul>
 */
final class PgAcquisition {
    enum Mode {
        /** pg_advisory_lock: wait until granted (or abandoned). */
        WAIT,
        /** pg_try_advisory_lock; busy fails with LockTimeoutException (a zero timeout). */
        ONCE,
        /** pg_try_advisory_lock; busy completes with null (tryAcquire). */
        TRY
    }

    private enum State { CONNECTING, WAITING, GRANTED, FAILED, ABANDONED }

    private final PgLock lock;
    private final Mode mode;
    final CompletableFuture<Lock> result = new CompletableFuture<>();

    // Guarded by this.
    private State state = State.CONNECTING;
    private @Nullable Connection connection;
    private @Nullable PostgresqlConnection pg;
    private boolean answered; // the lock statement finished, after abandonment
    private int cancelsPending; // CancelRequests sent or due and not yet delivered, after abandonment
    private int cancelRound;
    private boolean cleaning; // the unlock-then-close has started

    private volatile @Nullable Disposable timer;

    PgAcquisition(PgLock lock, Mode mode) {
        this.lock = lock;
        this.mode = mode;
    }

    CompletableFuture<Lock> start(long timeoutNanos) {
        CompletableFuture<Lock> unused = result.whenComplete((granted, failure) -> completed()); // a callback
        if (timeoutNanos > 0) {
            try {
                timer = Schedulers.parallel().schedule(
                        () -> result.completeExceptionally(lock.timeoutException()), timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                result.completeExceptionally(new IOException("cannot time the acquisition of PostgreSQL lock "
                        + lock.name + ": Reactor's parallel scheduler refused the timer", e));
                return result;
            }
            if (result.isDone()) {
                disposeTimer();
            }
        }
        Mono<? extends Connection> create;
        try {
            create = Mono.from(lock.factory.create());
        } catch (RuntimeException e) {
            connectFailed(e);
            return result;
        }
        create.subscribe(this::connected, this::connectFailed, this::connectedToNothing);
        return result;
    }

    /** The future completed: by this class (nothing to do) or from outside (abandon). */
    private void completed() {
        disposeTimer();
        boolean cancel = false;
        synchronized (this) {
            if (state == State.CONNECTING) {
                state = State.ABANDONED; // connected() closes the connection when it comes
            } else if (state == State.WAITING) {
                state = State.ABANDONED;
                cancelsPending = 1;
                cancel = true;
            }
        }
        if (cancel) {
            cancelWait();
        }
    }

    private void connected(Connection c) {
        PostgresqlConnection p = Sessions.unwrap(c);
        boolean abandoned;
        synchronized (this) {
            abandoned = state == State.ABANDONED;
            if (!abandoned) {
                if (p == null) {
                    state = State.FAILED;
                } else {
                    state = State.WAITING;
                    connection = c;
                    pg = p;
                }
            }
        }
        if (abandoned) {
            Sessions.close(c, lock);
            return;
        }
        if (p == null) {
            Sessions.close(c, lock);
            result.completeExceptionally(new IOException("PostgreSQL lock " + lock.name
                    + " needs r2dbc-postgresql connections (to cancel a wait), but the factory "
                    + lock.factory + " made a " + c.getClass().getName() + " that does not unwrap to one"));
            return;
        }
        String sql = mode == Mode.WAIT ? lock.lockSql() : lock.tryLockSql();
        Mono<Boolean> answer;
        try {
            answer = Sessions.booleanQuery(c, sql, mode == Mode.WAIT);
        } catch (RuntimeException e) {
            answerFailed(e);
            return;
        }
        answer.subscribe(this::answered, this::answerFailed);
    }

    private void connectedToNothing() {
        synchronized (this) {
            if (state != State.CONNECTING) {
                return; // connected() ran, or abandoned
            }
            state = State.FAILED;
        }
        result.completeExceptionally(new IOException("cannot connect to take PostgreSQL lock " + lock.name
                + ": the factory " + lock.factory + " completed without a connection"));
    }

    private void connectFailed(Throwable failure) {
        synchronized (this) {
            if (state != State.CONNECTING) {
                return; // abandoned first: nothing to report, nothing held
            }
            state = State.FAILED;
        }
        result.completeExceptionally(new IOException("cannot connect to take PostgreSQL lock " + lock.name + ": "
                + failure, failure));
    }

    private void answered(boolean granted) {
        if (granted) {
            lock.seams.granted().whenComplete((ignored, t) -> decide(true));
        } else {
            decide(false);
        }
    }

    /** The connection, which every state from WAITING on has (set before the statement is sent). */
    private synchronized Connection connected() {
        return Objects.requireNonNull(connection, "no connection yet");
    }

    private synchronized PostgresqlConnection backend() {
        return Objects.requireNonNull(pg, "no connection yet");
    }

    private void decide(boolean granted) {
        boolean deliver = false;
        boolean busy = false;
        boolean cleanup = false;
        synchronized (this) {
            if (state == State.WAITING) {
                if (granted) {
                    state = State.GRANTED;
                    deliver = true;
                } else {
                    state = State.FAILED;
                    busy = true;
                }
            } else if (state == State.ABANDONED) {
                answered = true;
                cleanup = readyForCleanup();
            }
        }
        if (deliver) {
            Lock handle = PgGrant.grant(lock, connected(), backend());
            if (!result.complete(handle)) {
                handle.close(); // completed from outside in the same instant: release it
            }
        } else if (busy) {
            Sessions.close(connected(), lock); // holds nothing: pg_try_advisory_lock said so
            if (mode == Mode.TRY) {
                result.complete(null);
            } else {
                result.completeExceptionally(lock.timeoutException());
            }
        } else if (cleanup) {
            Sessions.unlockThenClose(lock, connected());
        }
    }

    private void answerFailed(Throwable failure) {
        boolean fail = false;
        boolean cleanup = false;
        synchronized (this) {
            if (state == State.WAITING) {
                state = State.FAILED;
                fail = true;
            } else if (state == State.ABANDONED) {
                answered = true;
                cleanup = readyForCleanup();
            }
        }
        if (fail) {
            // A cancel from outside (another user of a pooled connection, statement_timeout) can
            // race with a grant, as ours can: unlock before the connection goes back.
            Sessions.unlockThenClose(lock, connected());
            result.completeExceptionally(new IOException("waiting for PostgreSQL lock " + lock.name + " failed: "
                    + failure.getMessage(), failure));
        } else if (cleanup) {
            Sessions.unlockThenClose(lock, connected());
        }
    }

    private void cancelWait() {
        Mono<Void> cancel;
        try {
            cancel = backend().cancelRequest();
        } catch (RuntimeException e) {
            cancelDelivered(e);
            return;
        }
        cancel.subscribe(nothing -> { }, this::cancelDelivered, () -> cancelDelivered(null));
    }

    /**
     * A CancelRequest was delivered (the server has signalled the backend), or could not be. It
     * travels on a connection of its own, so it can reach the backend before the lock statement
     * does and cancel nothing: while the statement has not answered, send another, after 1 ms, then
     * 2, 4... up to 1 s apart.
     */
    private void cancelDelivered(@Nullable Throwable failure) {
        boolean cleanup = false;
        boolean again = false;
        long delayMillis = 0;
        synchronized (this) {
            if (failure == null && !answered) {
                again = true;
                delayMillis = Math.min(1000, 1L << Math.min(cancelRound++, 10));
            } else {
                cancelsPending--;
                cleanup = readyForCleanup();
            }
        }
        if (failure != null) {
            // The wait goes on and we cannot stop it: end the session instead. The server releases
            // what it holds when it notices (at the latest when the wait ends).
            Sessions.LOG.log(System.Logger.Level.WARNING, "Locket: could not cancel the wait for PostgreSQL lock "
                    + lock.name + " (" + failure + "); closing its connection instead");
            Sessions.close(connected(), lock);
        }
        if (again) {
            try {
                Schedulers.parallel().schedule(this::cancelAgain, delayMillis, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                cancelDelivered(e);
            }
        }
        if (cleanup) {
            Sessions.unlockThenClose(lock, connected());
        }
    }

    private void cancelAgain() {
        boolean cleanup = false;
        synchronized (this) {
            if (answered) {
                cancelsPending--;
                cleanup = readyForCleanup();
            }
        }
        if (cleanup) {
            Sessions.unlockThenClose(lock, connected());
        } else {
            cancelWait(); // not answered yet (cleaning cannot have started)
        }
    }

    /** Under the monitor: the statement has answered and no cancel is on its way any more. */
    private boolean readyForCleanup() {
        if (answered && cancelsPending == 0 && !cleaning) {
            cleaning = true;
            return true;
        }
        return false;
    }

    private void disposeTimer() {
        Disposable t = timer;
        if (t != null) {
            t.dispose();
        }
    }
}
