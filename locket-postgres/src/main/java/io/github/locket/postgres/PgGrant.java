package io.github.locket.postgres;

import io.github.locket.Lock;
import io.github.locket.spi.Locks;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Connection;
import java.lang.System.Logger.Level;
import java.lang.ref.WeakReference;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A held PostgreSQL lock: its pinned connection, the watch on that connection, its fencing token.
 * The {@link Lock} handle runs {@link #run()} once to release it.
 *
 * <p>Nothing here holds the handle strongly (a weak reference, and weak keys in {@link #GRANTS}),
 * so that a handle dropped while held still reaches core's garbage-collector backstop.
 */
final class PgGrant implements Runnable {
    /** Each handle's grant, for {@link PostgresLocket#lost} and {@link PostgresLocket#fencingToken}. */
    private static final Map<Lock, PgGrant> GRANTS = Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * Written by every release before its unlock is sent, read by every grant before it is handed
     * out: a volatile write and a later volatile read, so a release in this JVM happens-before the
     * acquisition that the server grants after it (the hand-off itself goes through sockets and the
     * server, which the memory model does not see).
     */
    private static final AtomicLong HANDOFFS = new AtomicLong();

    private final PgLock lock;
    private final Connection connection;
    private final PostgresqlConnection pg;
    private final Sinks.Empty<Void> lost = Sinks.empty();
    private volatile @Nullable WeakReference<Lock> handle;

    // Guarded by this.
    private boolean ended; // released, or lost
    private @Nullable Disposable watch;
    private @Nullable Mono<Long> token;

    private PgGrant(PgLock lock, Connection connection, PostgresqlConnection pg) {
        this.lock = lock;
        this.connection = connection;
        this.pg = pg;
    }

    /** Makes the held {@link Lock} for a granted acquisition, and starts watching its connection. */
    static Lock grant(PgLock lock, Connection connection, PostgresqlConnection pg) {
        HANDOFFS.get();
        PgGrant g = new PgGrant(lock, connection, pg);
        Lock handle = Locks.newLock(lock.name, g);
        g.handle = new WeakReference<>(handle);
        GRANTS.put(handle, g);
        g.watch();
        return handle;
    }

    static PgGrant of(Lock lock) {
        Objects.requireNonNull(lock, "lock");
        PgGrant g = GRANTS.get(lock);
        if (g == null) {
            throw new IllegalArgumentException(lock + " was not acquired from a PostgresLocket lock");
        }
        return g;
    }

    /**
     * The driver ends the notification stream when the connection closes: normally when we close
     * it, with an error when it breaks. Either, while held, means the server no longer holds the lock
     * for us.
     */
    private void watch() {
        Disposable d = pg.getNotifications().subscribe(n -> { }, this::connectionEnded, () -> connectionEnded(null));
        boolean dispose;
        synchronized (this) {
            dispose = ended;
            if (!ended) {
                watch = d;
            }
        }
        if (dispose) {
            d.dispose();
        }
    }

    /** Releases the lock: {@link Lock#close()} (or the garbage-collector backstop) runs this once. */
    @Override
    public void run() {
        Disposable d;
        synchronized (this) {
            if (ended) {
                return; // lost before: nothing to release
            }
            ended = true;
            d = watch;
        }
        if (d != null) {
            d.dispose();
        }
        HANDOFFS.incrementAndGet();
        Sessions.unlockThenClose(lock, connection);
        lost.tryEmitEmpty();
    }

    private void connectionEnded(@Nullable Throwable cause) {
        synchronized (this) {
            if (ended) {
                return;
            }
            ended = true;
        }
        WeakReference<Lock> ref = handle;
        Lock h = ref == null ? null : ref.get();
        if (h != null) {
            Locks.lost(h);
        }
        LockLostException e = new LockLostException(lock.name, cause);
        Sessions.LOG.log(Level.WARNING, "Locket: " + e.getMessage() + "; the server has released it");
        lost.tryEmitError(e);
        Sessions.close(connection, lock);
    }

    Mono<Void> lost() {
        return lost.asMono();
    }

    Mono<Long> fencingToken() {
        return Mono.defer(() -> {
            synchronized (this) {
                if (ended) {
                    return Mono.error(new IllegalStateException("the PostgreSQL lock " + lock.name
                            + " is no longer held by this handle (closed or lost): no fencing token"));
                }
                if (token == null) {
                    token = Fencing.issue(lock, connection).cache();
                }
                return token;
            }
        });
    }
}
