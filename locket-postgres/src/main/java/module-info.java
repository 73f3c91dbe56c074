/**
 * Locket on PostgreSQL: the same lock as a lock file, across hosts, held as a PostgreSQL advisory
 * lock on a connection of its own, taken without blocking through R2DBC.
 *
 * <p>Start at {@link io.github.locket.postgres.PostgresLocket}.
 */
module io.github.locket.postgres {
    requires transitive io.github.locket;
    // The API takes an io.r2dbc.spi.ConnectionFactory and returns Reactor Monos.
    requires transitive r2dbc.spi;
    requires transitive reactor.core;
    requires transitive org.reactivestreams;
    // Cancels a wait with the protocol's CancelRequest (PostgresqlConnection.cancelRequest()).
    requires r2dbc.postgresql;

    exports io.github.locket.postgres;
}
