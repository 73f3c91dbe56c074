package io.github.locket.postgres;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import java.io.IOException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Fencing tokens: one counter per lock key in {@code locket_fencing_tokens}, incremented on the
 * connection that holds the lock, so increments follow grant order. Auto-commit: the new value is
 * committed before the token is returned.
 */
final class Fencing {
    private Fencing() {}

    static final String TABLE = "locket_fencing_tokens";

    static final String CREATE = "CREATE TABLE IF NOT EXISTS " + TABLE + " ("
            + "lock_key bigint PRIMARY KEY, lock_name text NOT NULL, token bigint NOT NULL)";

    private static final String UNDEFINED_TABLE = "42P01";
    private static final String UNIQUE_VIOLATION = "23505"; // two sessions creating the table at once
    private static final String DUPLICATE_TABLE = "42P07";

    static Mono<Long> issue(PgLock lock, Connection c) {
        return increment(lock, c)
                .onErrorResume(e -> sqlState(e, UNDEFINED_TABLE), e -> create(c).then(increment(lock, c)))
                .onErrorMap(R2dbcException.class, e -> new IOException("cannot issue a fencing token for PostgreSQL lock "
                        + lock.name + " (table " + TABLE + "): " + e.getMessage(), e));
    }

    private static Mono<Long> increment(PgLock lock, Connection c) {
        return Flux.from(c.createStatement("INSERT INTO " + TABLE + " AS t (lock_key, lock_name, token) VALUES ("
                        + lock.key + ", $1, 1) ON CONFLICT (lock_key) DO UPDATE SET token = t.token + 1 RETURNING token")
                        .bind("$1", lock.name)
                        .execute())
                .concatMap(r -> r.map((row, meta) -> row.get(0, Long.class)))
                .single();
    }

    private static Mono<Void> create(Connection c) {
        return Flux.from(c.createStatement(CREATE).execute())
                .concatMap(r -> r.getRowsUpdated())
                .then()
                .onErrorResume(e -> sqlState(e, UNIQUE_VIOLATION) || sqlState(e, DUPLICATE_TABLE), e -> Mono.empty());
    }

    private static boolean sqlState(Throwable e, String state) {
        return e instanceof R2dbcException r && state.equals(r.getSqlState());
    }
}
