package io.github.locket.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.locket.Lock;
import io.github.locket.LockTimeoutException;
import io.github.locket.NamedLock;
import io.github.locket.reactor.ReactiveLocket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** Locket's semantics, on a real PostgreSQL. */
final class PostgresLocketTest {
    private static final Duration SOON = Duration.ofSeconds(20);

    private final String name = "test-" + getClass().getSimpleName() + "-" + System.nanoTime();
    private final NamedLock lock = PostgresLocket.lock(TestPostgres.factory(), name);

    @AfterEach
    void nothingLeftHeld() throws Exception {
        Wait.until(() -> TestPostgres.holders(PostgresLocket.key(name)).isEmpty(), "no session holds " + name);
    }

    @Test
    void acquireHoldsTheAdvisoryLockUntilClosed() throws Exception {
        try (Lock held = lock.acquire()) {
            assertThat(held.isHeld()).isTrue();
            assertThat(held.name()).isEqualTo(name);
            assertThat(TestPostgres.holders(PostgresLocket.key(name))).hasSize(1);
            assertThat(held.toString()).isEqualTo("Lock[" + name + ", held]");
        }
        Wait.until(() -> TestPostgres.holders(PostgresLocket.key(name)).isEmpty(), "released");
    }

    @Test
    void oneLockPerNameAcrossLockObjectsAndFactories() throws Exception {
        NamedLock other = PostgresLocket.lock(TestPostgres.factory(), name, Duration.ZERO);
        try (Lock held = lock.acquire()) {
            assertThat(other.tryAcquire()).isEmpty();
            assertThatThrownBy(other::acquire).isInstanceOf(LockTimeoutException.class)
                    .hasMessage("lock on " + name + " not acquired within 0s (a single attempt)");
        }
        Wait.until(() -> other.tryAcquire().map(l -> {
            l.close();
            return true;
        }).orElse(false), "free for the other lock after close");
    }

    @Test
    void sharedHoldersHoldTogetherAndExcludeAnExclusiveOneWhichStopsNewReaders() throws Exception {
        NamedLock reader = PostgresLocket.lockShared(TestPostgres.factory(), name);
        assertThat(reader.toString()).startsWith("PostgresLock[" + name + ", shared, key=");
        CompletableFuture<Lock> writer;
        try (Lock first = reader.acquire(); Lock second = reader.withTimeout(Duration.ZERO).acquire()) {
            assertThat(TestPostgres.holders(PostgresLocket.key(name))).hasSize(2);
            assertThat(lock.tryAcquire()).isEmpty();
            writer = lock.acquireAsync();
            Wait.until(() -> waiting(PostgresLocket.key(name)) == 1, "the writer waits on the server");
            // A queued writer stops new readers: the server queues them behind it.
            assertThat(reader.tryAcquire()).isEmpty();
            first.close();
            assertThat(writer).isNotDone(); // the second reader still holds it
        }
        try (Lock held = writer.get(SOON.toSeconds(), TimeUnit.SECONDS)) {
            assertThat(held.isHeld()).isTrue();
            assertThat(reader.tryAcquire()).isEmpty();
        }
        Wait.until(() -> reader.tryAcquire().map(l -> {
            l.close();
            return true;
        }).orElse(false), "free for readers once the writer lets go");
    }

    private static int waiting(long key) throws java.sql.SQLException {
        try (java.sql.Connection c = TestPostgres.jdbc();
                java.sql.PreparedStatement s = c.prepareStatement("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                        + " AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1 AND NOT granted")) {
            s.setLong(1, key >>> 32);
            s.setLong(2, key & 0xFFFF_FFFFL);
            try (java.sql.ResultSet r = s.executeQuery()) {
                r.next();
                return r.getInt(1);
            }
        }
    }

    @Test
    void notReentrantEvenOnTheSameThread() throws Exception {
        try (Lock held = lock.acquire()) {
            assertThat(lock.tryAcquire()).isEmpty();
            assertThatThrownBy(() -> lock.withTimeout(Duration.ofMillis(200)).acquire())
                    .isInstanceOf(LockTimeoutException.class);
        }
    }

    @Test
    void timeoutExpiresWithTheLocksNameAndTimeout() throws Exception {
        NamedLock patient = lock.withTimeout(Duration.ofMillis(300));
        try (Lock held = lock.acquire()) {
            long start = System.nanoTime();
            assertThatThrownBy(patient::acquire).isInstanceOfSatisfying(LockTimeoutException.class, e -> {
                assertThat(e.name()).isEqualTo(name);
                assertThat(e.timeout()).isEqualTo(Duration.ofMillis(300));
                assertThat(e).hasMessage("lock on " + name + " not acquired within 300ms");
            });
            assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(300));
            assertThat(TestPostgres.holders(PostgresLocket.key(name))).hasSize(1);
        }
    }

    @Test
    void aWaiterIsGrantedWhenTheHolderClosesWithoutPolling() throws Exception {
        Lock held = lock.acquire();
        CompletableFuture<Lock> waiter = lock.acquireAsync();
        Wait.until(() -> TestPostgres.advisoryLocks().stream().anyMatch(r -> r.endsWith(":false")), "waiter queued");
        assertThat(waiter).isNotDone();
        CompletableFuture.runAsync(held::close).join(); // any thread may release
        try (Lock next = waiter.get(SOON.toSeconds(), TimeUnit.SECONDS)) {
            assertThat(next.isHeld()).isTrue();
            assertThat(held.isHeld()).isFalse();
        }
    }

    @Test
    void closingTwiceIsHarmlessAndAStaleHandleReleasesNothing() throws Exception {
        Lock first = lock.acquire();
        first.close();
        try (Lock second = lock.acquire()) {
            first.close();
            assertThat(second.isHeld()).isTrue();
            assertThat(TestPostgres.holders(PostgresLocket.key(name))).hasSize(1);
        }
    }

    @Test
    void timeoutsAndToString() {
        assertThat(lock.timeout()).isEmpty();
        NamedLock timed = lock.withTimeout(Duration.ofSeconds(5));
        assertThat(timed.timeout()).contains(Duration.ofSeconds(5));
        assertThat(timed.withoutTimeout().timeout()).isEmpty();
        assertThat(timed.name()).isEqualTo(name);
        assertThat(timed.toString()).isEqualTo("PostgresLock[" + name + ", key=" + PostgresLocket.key(name)
                + ", timeout=PT5S]");
        assertThatThrownBy(() -> lock.withTimeout(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFactoryThatCannotConnectFailsNamingTheLock() {
        NamedLock nowhere = PostgresLocket.lock(new io.r2dbc.postgresql.PostgresqlConnectionFactory(
                io.r2dbc.postgresql.PostgresqlConnectionConfiguration.builder().host("127.0.0.1").port(1)
                        .username("postgres").build()), name);
        assertThatThrownBy(nowhere::acquire).isInstanceOf(java.io.IOException.class)
                .hasMessageContaining("cannot connect to take PostgreSQL lock " + name);
    }

    @Test
    void reactiveLocketRunsItsBodyUnderThePostgresLock() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        Mono<Integer> job = ReactiveLocket.withLock(lock, held -> Mono.fromCallable(() -> {
            most.accumulateAndGet(inside.incrementAndGet(), Math::max);
            Thread.sleep(5);
            inside.decrementAndGet();
            return 1;
        }).subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic()));
        Integer sum = reactor.core.publisher.Flux.range(0, 8).flatMap(i -> job).reduce(0, Integer::sum)
                .block(SOON);
        assertThat(sum).isEqualTo(8);
        assertThat(most.get()).isEqualTo(1);
    }

    @Test
    void tryAcquireReturnsAHeldLockWhenFree() throws Exception {
        Optional<Lock> got = lock.tryAcquire();
        assertThat(got).isPresent();
        got.get().close();
    }
}
