package io.github.locket.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.locket.Lock;
import io.github.locket.NamedLock;
import io.github.locket.reactor.ReactiveLocket;
import io.github.locket.testing.Children;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * A holder that dies, or whose session ends, frees the lock for a waiter in another JVM at once;
 * a holder that survives its session learns of it. Fencing tokens order the grants.
 */
final class LossTest {
    private static final Duration PROMPT = Duration.ofSeconds(10);

    private final String name = "loss-" + System.nanoTime();
    private final long key = PostgresLocket.key(name);
    private final NamedLock lock = PostgresLocket.lock(TestPostgres.factory(), name);

    @AfterEach
    void nothingLeaked() throws Exception {
        Wait.until(() -> TestPostgres.holders(key).isEmpty(), "no session holds " + name);
        Wait.until(() -> TestPostgres.lockSessions() == 0, "every lock session closed");
    }

    private Children holderJvm() throws Exception {
        Children child = Children.startClass(PostgresChild.class, List.of(), String.valueOf(TestPostgres.port()), name);
        child.expect("HELD");
        return child;
    }

    private CompletableFuture<Lock> queuedWaiter() {
        CompletableFuture<Lock> waiter = lock.acquireAsync();
        Wait.until(() -> TestPostgres.advisoryLocks().stream().anyMatch(r -> r.endsWith(":false")), "waiter queued");
        assertThat(waiter).isNotDone();
        return waiter;
    }

    @Test
    void killingTheHoldersJvmFreesTheLockForAWaiterPromptly() throws Exception {
        try (Children child = holderJvm()) {
            CompletableFuture<Lock> waiter = queuedWaiter();
            long killed = System.nanoTime();
            child.kill(); // SIGKILL: no shutdown hook, no unlock; the kernel closes its socket
            try (Lock next = waiter.get(PROMPT.toSeconds(), TimeUnit.SECONDS)) {
                System.out.printf("kill -9 to grant in another JVM: %.1f ms%n", (System.nanoTime() - killed) / 1e6);
                assertThat(next.isHeld()).isTrue();
            }
        }
    }

    @Test
    void terminatingTheHoldersBackendFreesTheLockAndTellsTheHolder() throws Exception {
        try (Children child = holderJvm()) {
            int pid = TestPostgres.holders(key).get(0);
            CompletableFuture<Lock> waiter = queuedWaiter();
            TestPostgres.execute("SELECT pg_terminate_backend(" + pid + ")");
            try (Lock next = waiter.get(PROMPT.toSeconds(), TimeUnit.SECONDS)) {
                assertThat(next.isHeld()).isTrue();
                child.expect("LOST lost the lock on " + name + ": the connection that held it ended");
            }
        }
    }

    @Test
    void aHolderInThisJvmSeesItsLossAsLockLostExceptionAndIsHeldFalse() throws Exception {
        Lock held = lock.acquire();
        int pid = TestPostgres.holders(key).get(0);
        TestPostgres.execute("SELECT pg_terminate_backend(" + pid + ")");
        StepVerifier.create(PostgresLocket.lost(held))
                .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(LockLostException.class)
                        .hasMessageStartingWith("lost the lock on " + name)
                        .satisfies(x -> assertThat(((LockLostException) x).name()).isEqualTo(name)))
                .verify(PROMPT);
        assertThat(held.isHeld()).isFalse();
        held.close(); // does nothing: nothing to release
        StepVerifier.create(PostgresLocket.fencingToken(held)).expectError(IllegalStateException.class).verify(PROMPT);
    }

    @Test
    void workStoppedByLostFailsTheReactivePipeline() throws Exception {
        Mono<String> job = ReactiveLocket.withLock(lock, held -> Mono.<String>never()
                .doOnSubscribe(s -> CompletableFuture.runAsync(() -> {
                    try {
                        TestPostgres.execute("SELECT pg_terminate_backend(" + TestPostgres.holders(key).get(0) + ")");
                    } catch (java.sql.SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }))
                .takeUntilOther(PostgresLocket.lost(held)));
        StepVerifier.create(job).expectError(LockLostException.class).verify(PROMPT);
    }

    @Test
    void lostCompletesEmptyWhenTheLockIsClosedFirst() throws Exception {
        Lock held = lock.acquire();
        Mono<Void> lost = PostgresLocket.lost(held);
        held.close();
        StepVerifier.create(lost).verifyComplete();
        assertThatThrownBy(() -> PostgresLocket.lost(io.github.locket.spi.Locks.newLock("x", () -> { })))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not acquired from a PostgresLocket");
    }

    @Test
    void fencingTokensIncreaseWithEveryGrantAndStayPerGrant() throws Exception {
        TestPostgres.execute("DROP TABLE IF EXISTS " + Fencing.TABLE); // created when missing
        long previous = 0;
        for (int i = 0; i < 3; i++) {
            NamedLock any = PostgresLocket.lock(TestPostgres.factory(), name); // another object, same lock
            try (Lock held = any.acquire()) {
                long token = PostgresLocket.fencingToken(held).block(PROMPT);
                assertThat(token).isGreaterThan(previous);
                assertThat(PostgresLocket.fencingToken(held).block(PROMPT)).isEqualTo(token);
                previous = token;
            }
        }
        assertThat(previous).isEqualTo(3);
        assertThat(TestPostgres.strings("SELECT lock_name || '=' || token FROM " + Fencing.TABLE
                + " WHERE lock_key = " + key)).containsExactly(name + "=3");
    }
}
