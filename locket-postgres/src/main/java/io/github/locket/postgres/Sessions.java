package io.github.locket.postgres;

import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Wrapped;
import java.lang.System.Logger.Level;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** What the acquisition and the grant do with a pinned connection. */
final class Sessions {
    private Sessions() {}

    static final System.Logger LOG = System.getLogger("io.github.locket.postgres");

    /** SQLSTATE query_canceled: a CancelRequest (or statement_timeout) ended the statement. */
    static final String QUERY_CANCELED = "57014";

    /** How often an unlock hit by a late CancelRequest is tried again (each cancel hits once). */
    private static final int UNLOCK_ATTEMPTS = 16;

    /** The r2dbc-postgresql connection under any wrappers (a pool's), or null. */
    static @Nullable PostgresqlConnection unwrap(Connection c) {
        Object o = c;
        for (int depth = 0; depth < 16 && o != null; depth++) {
            if (o instanceof PostgresqlConnection p) {
                return p;
            }
            if (!(o instanceof Wrapped<?> w)) {
                return null;
            }
            Object inner = w.unwrap();
            if (inner == o) {
                return null;
            }
            o = inner;
        }
        return null;
    }

    /**
     * The first column of the statement's single row as a boolean, or true for any row when {@code
     * anyRow} (pg_advisory_lock returns void); false when there is no row. Emits once the statement
     * has finished.
     */
    static Mono<Boolean> booleanQuery(Connection c, String sql, boolean anyRow) {
        return Flux.from(c.createStatement(sql).execute())
                .concatMap(r -> r.map((row, meta) -> anyRow || Boolean.TRUE.equals(row.get(0, Boolean.class))))
                .last(Boolean.FALSE);
    }

    static boolean isCancel(Throwable failure) {
        return failure instanceof R2dbcException e && QUERY_CANCELED.equals(e.getSqlState());
    }

    /**
     * Releases whatever this session holds of the lock, then closes the connection: {@code
     * pg_advisory_unlock} (false, with a server warning, if the session did not hold it), tried
     * again when a late CancelRequest of ours hits it. If the unlock fails otherwise, the connection
     * is closed all the same: a broken session holds nothing once the server ends it.
     */
    static void unlockThenClose(PgLock lock, Connection c) {
        unlockThenClose(lock, c, UNLOCK_ATTEMPTS);
    }

    private static void unlockThenClose(PgLock lock, Connection c, int attempts) {
        Mono<Boolean> unlock;
        try {
            unlock = booleanQuery(c, lock.unlockSql(), false);
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "Locket: unlock of PostgreSQL lock " + lock.name + " failed", e);
            close(c, lock);
            return;
        }
        unlock.subscribe(released -> close(c, lock), failure -> {
            if (isCancel(failure) && attempts > 1) {
                unlockThenClose(lock, c, attempts - 1);
            } else {
                LOG.log(Level.DEBUG, () -> "Locket: unlock of PostgreSQL lock " + lock.name + " failed; closing", failure);
                close(c, lock);
            }
        });
    }

    /** Closes (to a pool: gives back) the connection, without waiting. */
    static void close(Connection c, PgLock lock) {
        try {
            Mono.from(c.close()).subscribe(null, failure -> LOG.log(Level.DEBUG,
                    () -> "Locket: closing the connection of PostgreSQL lock " + lock.name + " failed", failure));
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, () -> "Locket: closing the connection of PostgreSQL lock " + lock.name + " failed", e);
        }
    }
}
