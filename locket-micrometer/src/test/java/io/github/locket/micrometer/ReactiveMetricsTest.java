package io.github.locket.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.locket.Lock;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import io.github.locket.NamedLock;
import io.github.locket.reactor.ReactiveLocket;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** An instrumented lock through {@link ReactiveLocket}, which takes any {@code NamedLock} unchanged. */
final class ReactiveMetricsTest extends MetricsTestSupport {
    @BeforeAll
    static void bindNativeLocksOutsideVirtualTime() {
        Locket.protocols(); // the first reactive acquisition would do it on boundedElastic
    }

    @Test
    void withLockCountsAsAcquiredAndTimesTheHoldUntilTheBodyEnds() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        StepVerifier.create(ReactiveLocket.withLock(lock, held -> Mono.fromCallable(() -> free())))
                .expectNext(false) // held while the body runs
                .verifyComplete();
        assertThat(free()).isTrue();
        assertThat(count("acquired")).isEqualTo(1);
        assertThat(registry.get("locket.held").timer().count()).isEqualTo(1);
        assertThat(waiters()).isZero();
    }

    @Test
    void theLocksTimeoutTimedByReactorCountsAsTimedOut() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry).withTimeout(Duration.ofSeconds(5));
        try (Lock holder = lockFile().acquire()) {
            StepVerifier.withVirtualTime(() -> ReactiveLocket.withLock(lock, held -> Mono.just("ran")))
                    .expectSubscription()
                    .expectNoEvent(Duration.ofSeconds(4))
                    .thenAwait(Duration.ofSeconds(1))
                    .expectError(LockTimeoutException.class)
                    .verify(Duration.ofSeconds(10));
        }
        assertThat(count("timed_out")).isEqualTo(1);
        assertThat(count("cancelled")).isZero();
        assertThat(waiters()).isZero();
        assertThat(free()).isTrue();
    }

    @Test
    void aBusyZeroTimeoutCountsAsTimedOut() throws Exception {
        NamedLock once = LocketMetrics.instrument(lockFile(), registry).withTimeout(Duration.ZERO);
        try (Lock holder = lockFile().acquire()) {
            StepVerifier.create(ReactiveLocket.acquire(once)).verifyError(LockTimeoutException.class);
        }
        assertThat(count("timed_out")).isEqualTo(1);
    }

    @Test
    void disposingBeforeTheGrantCountsAsCancelled() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        try (Lock holder = lockFile().acquire()) {
            Disposable subscription = ReactiveLocket.withLock(lock, held -> Mono.just("ran")).subscribe();
            await().until(() -> waiters() == 1);
            subscription.dispose();
            assertThat(waiters()).isZero();
        }
        assertThat(count("cancelled")).isEqualTo(1);
        assertThat(free()).isTrue();
        assertThat(registry.get("locket.held").timer().count()).isZero();
    }

    @Test
    void aReactorTimeoutDownstreamCountsAsCancelled() throws Exception {
        // timeout(...) after withLock cancels the acquisition: the caller gave up, not the lock's timeout.
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        try (Lock holder = lockFile().acquire()) {
            StepVerifier.create(ReactiveLocket.withLock(lock, held -> Mono.just("ran")).timeout(Duration.ofMillis(20)))
                    .verifyError(TimeoutException.class);
        }
        assertThat(count("cancelled")).isEqualTo(1);
        assertThat(count("timed_out")).isZero();
        assertThat(free()).isTrue();
    }
}
