package io.github.locket.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.locket.Lock;
import io.github.locket.LockTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Every way a wait can be abandoned, and every way a grant can meet that, leaves nothing held and
 * no session open, as another session sees in {@code pg_locks} and {@code pg_stat_activity}.
 * Interleavings are forced through {@link Seams} where luck would rarely find them; the race test
 * then repeats the real thing thousands of times.
 */
final class CancellationTest {
    private final String name = "cancel-" + System.nanoTime();
    private final long key = PostgresLocket.key(name);

    private PgLock lock(Seams seams) {
        return new PgLock(TestPostgres.factory(), name, key, null, seams);
    }

    @AfterEach
    void nothingLeaked() throws Exception {
        Wait.until(() -> TestPostgres.holders(key).isEmpty(), "no session holds " + name);
        Wait.until(() -> TestPostgres.lockSessions() == 0, "every lock session closed");
        assertThat(TestPostgres.advisoryLocks()).isEmpty();
    }

    @Test
    void cancelBeforeTheConnectionArrivesClosesIt() {
        CompletableFuture<Lock> f = lock(Seams.NONE).acquireAsync();
        assertThat(f.cancel(false)).isTrue();
    }

    @Test
    void cancelWhileWaitingStopsTheStatementAndClosesTheSession() throws Exception {
        try (Lock held = lock(Seams.NONE).acquire()) {
            CompletableFuture<Lock> waiter = lock(Seams.NONE).acquireAsync();
            Wait.until(() -> TestPostgres.advisoryLocks().stream().anyMatch(r -> r.endsWith(":false")), "queued");
            assertThat(waiter.cancel(false)).isTrue();
            Wait.until(() -> TestPostgres.advisoryLocks().size() == 1 && TestPostgres.lockSessions() == 1,
                    "the waiter's statement stopped and its session closed");
            assertThat(held.isHeld()).isTrue();
        }
    }

    @Test
    void timeoutWhileWaitingStopsTheStatementAndClosesTheSession() throws Exception {
        try (Lock held = lock(Seams.NONE).acquire()) {
            CompletableFuture<Lock> waiter = lock(Seams.NONE).withTimeout(Duration.ofMillis(200)).acquireAsync();
            assertThatThrownBy(() -> waiter.get(20, TimeUnit.SECONDS)).hasCauseInstanceOf(LockTimeoutException.class);
            Wait.until(() -> TestPostgres.advisoryLocks().size() == 1 && TestPostgres.lockSessions() == 1,
                    "the waiter's statement stopped and its session closed");
        }
    }

    @Test
    void aGrantThatMeetsACancelIsReleased() throws Exception {
        // The server grants the waiter; before the acquisition decides, the test cancels its future.
        CompletableFuture<Void> reached = new CompletableFuture<>();
        CompletableFuture<Void> gate = new CompletableFuture<>();
        Seams held = new Seams() {
            @Override
            CompletionStage<Void> granted() {
                reached.complete(null);
                return gate;
            }
        };
        Lock holder = lock(Seams.NONE).acquire();
        CompletableFuture<Lock> waiter = lock(held).acquireAsync();
        Wait.until(() -> TestPostgres.advisoryLocks().stream().anyMatch(r -> r.endsWith(":false")), "queued");
        holder.close();
        reached.get(20, TimeUnit.SECONDS);
        assertThat(TestPostgres.holders(key)).hasSize(1); // the waiter's session holds it now
        assertThat(waiter.cancel(false)).isTrue();
        gate.complete(null);
        assertThatThrownBy(waiter::join).isInstanceOf(CancellationException.class);
    }

    @Test
    void aGrantThatArrivesAsTheFutureIsCompletedFromOutsideIsReleased() throws Exception {
        // The grant decides first; the future is completed from outside before complete() runs.
        AtomicReference<CompletableFuture<Lock>> waiter = new AtomicReference<>();
        Seams late = new Seams() {
            @Override
            CompletionStage<Void> granted() {
                waiter.get().complete(null); // someone else completes it: complete(lock) will fail
                return CompletableFuture.completedFuture(null);
            }
        };
        waiter.set(new CompletableFuture<>());
        CompletableFuture<Lock> f = lock(late).acquireAsync();
        waiter.set(f);
        Wait.until(f::isDone, "completed");
        assertThat(f.join()).isNull();
    }

    @Test
    void theServerCanGrantAndStillReportTheStatementCancelled() throws Exception {
        // The statement goes on after the grant (pg_sleep): the cancel ends it with 57014 while the
        // session holds the lock. Only the unconditional unlock releases it.
        Seams slow = new Seams() {
            @Override
            String lockSql(long k) {
                return "SELECT pg_advisory_lock(" + k + "), pg_sleep(30)";
            }
        };
        CompletableFuture<Lock> f = lock(slow).acquireAsync();
        Wait.until(() -> TestPostgres.holders(key).size() == 1, "granted, the statement still running");
        assertThat(f.cancel(false)).isTrue();
    }

    @Test
    void anInterruptEndsABlockingAcquireHoldingNothing() throws Exception {
        try (Lock held = lock(Seams.NONE).acquire()) {
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    lock(Seams.NONE).acquire().close();
                    outcome.complete(null);
                } catch (Throwable e) {
                    outcome.complete(e);
                }
            });
            t.start();
            Wait.until(() -> TestPostgres.advisoryLocks().stream().anyMatch(r -> r.endsWith(":false")), "queued");
            t.interrupt();
            assertThat(outcome.get(20, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class)
                    .hasMessageContaining(name);
            Wait.until(() -> TestPostgres.advisoryLocks().size() == 1 && TestPostgres.lockSessions() == 1, "waiter gone");
        }
    }

    @Test
    void anInterruptBeforeAcquireThrowsAtOnce() {
        Thread.currentThread().interrupt();
        assertThatThrownBy(() -> lock(Seams.NONE).acquire()).isInstanceOf(InterruptedException.class);
        assertThat(Thread.interrupted()).isFalse();
    }

    /**
     * The real race, many times: a holder releases while a waiter is abandoned a random moment
     * later (cancel, completion from outside, or its own timeout), half the time once the waiter is
     * queued in the server, half the time before (so that the cancel can overtake the statement).
     * Each round ends with the waiter either granted (then closed) or abandoned. Through a pool,
     * so that whatever a round leaves in a session (a held lock, a late cancel) meets the next;
     * then without, so that closing is what ends sessions. Afterwards nothing is held or waiting,
     * and (once the pool is emptied) no session is open.
     */
    @Test
    void cancellationRacesLeakNothing() throws Exception {
        int rounds = Integer.getInteger("locket.postgres.races", 2000);
        Duration soak = Duration.parse(System.getProperty("locket.postgres.soak", "PT0S"));
        TestPool pool = new TestPool(TestPostgres.factory());
        try (java.sql.Connection observer = TestPostgres.jdbc();
                java.sql.PreparedStatement queued = observer.prepareStatement("SELECT count(*) FROM pg_locks"
                        + " WHERE locktype = 'advisory' AND NOT granted AND classid::bigint = ? AND objid::bigint = ?")) {
            queued.setLong(1, key >>> 32);
            queued.setLong(2, key & 0xFFFF_FFFFL);
            int[] pooled = race(new PgLock(pool, name, key, null, Seams.NONE), rounds, soak, queued);
            int[] plain = race(lock(Seams.NONE), rounds / 10, Duration.ZERO, queued);
            System.out.printf("cancellation races: pooled (%d sessions) %d granted, %d abandoned; unpooled %d granted,"
                    + " %d abandoned%n", pool.opened.get(), pooled[0], pooled[1], plain[0], plain[1]);
            assertThat(TestPostgres.advisoryLocks()).as("advisory locks, pool sessions still open").isEmpty();
            for (int[] outcome : List.of(pooled, plain)) {
                assertThat(outcome[0]).as("granted").isPositive();
                assertThat(outcome[1]).as("abandoned").isPositive();
            }
        } finally {
            pool.closeIdle();
        }
        // nothingLeaked() then checks from another session.
    }

    private static int[] race(PgLock lock, int rounds, Duration soak, java.sql.PreparedStatement queued)
            throws Exception {
        long end = System.nanoTime() + soak.toNanos();
        int granted = 0;
        int abandoned = 0;
        List<Throwable> unexpected = new ArrayList<>();
        for (int i = 0; i < rounds || System.nanoTime() - end < 0; i++) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            Lock holder = lock.acquire();
            int how = i % 3;
            CompletableFuture<Lock> waiter = how == 2
                    ? lock.withTimeout(Duration.ofNanos(random.nextLong(1, 3_000_000))).acquireAsync()
                    : lock.acquireAsync();
            if (i % 2 == 0) {
                long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!waiter.isDone() && queuedCount(queued) == 0 && System.nanoTime() - giveUp < 0) {
                    Thread.onSpinWait();
                }
            }
            long delay = random.nextLong(0, 500_000);
            CompletableFuture<Void> release = CompletableFuture.runAsync(holder::close);
            LockSupport.parkNanos(delay);
            if (how == 0) {
                waiter.cancel(false);
            } else if (how == 1) {
                waiter.completeExceptionally(new IllegalStateException("abandoned"));
            }
            release.join();
            try {
                waiter.get(20, TimeUnit.SECONDS).close();
                granted++;
            } catch (CancellationException e) {
                abandoned++;
            } catch (java.util.concurrent.ExecutionException e) {
                if (e.getCause() instanceof LockTimeoutException || e.getCause() instanceof IllegalStateException) {
                    abandoned++;
                } else {
                    unexpected.add(e.getCause());
                }
            }
        }
        assertThat(unexpected).isEmpty();
        return new int[] {granted, abandoned};
    }

    private static int queuedCount(java.sql.PreparedStatement queued) throws java.sql.SQLException {
        try (java.sql.ResultSet r = queued.executeQuery()) {
            r.next();
            return r.getInt(1);
        }
    }
}
