package io.github.locket.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import io.github.locket.NamedLock;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

final class LocketMetricsTest extends MetricsTestSupport {
    @Test
    void acquireCountsAsAcquiredAndTheHoldIsTimedUntilTheFirstClose() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        Lock held = lock.acquire();
        assertThat(free()).isFalse();
        clock.add(Duration.ofMillis(7));
        held.close();
        held.close(); // harmless, and not a second hold
        assertThat(free()).isTrue();
        assertThat(count("acquired")).isEqualTo(1);
        assertThat(registry.get("locket.held").timer().count()).isEqualTo(1);
        assertThat(registry.get("locket.held").timer().totalTime(TimeUnit.MILLISECONDS)).isEqualTo(7);
        assertThat(waiters()).isZero();
    }

    @Test
    void theWaitIsTimedFromTheCallToTheGrant() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        Lock holder = lockFile().acquire();
        CompletableFuture<Lock> waiting = lock.acquireAsync();
        clock.add(Duration.ofMillis(50));
        holder.close();
        waiting.join().close();
        assertThat(registry.get("locket.acquire").tag("outcome", "acquired").timer().totalTime(TimeUnit.MILLISECONDS))
                .isEqualTo(50);
    }

    @Test
    void allFourOutcomesHaveASeriesBeforeTheyHappen() {
        LocketMetrics.instrument(lockFile(), registry);
        assertThat(registry.get("locket.acquire").timers()).extracting(t -> t.getId().getTag("outcome"))
                .containsExactlyInAnyOrder("acquired", "timed_out", "cancelled", "failed");
        assertThat(count("timed_out")).isZero();
    }

    @Test
    void aBusyAttemptWithAZeroTimeoutCountsAsTimedOut() throws Exception {
        NamedLock once = LocketMetrics.instrument(lockFile(), registry).withTimeout(Duration.ZERO);
        try (Lock holder = lockFile().acquire()) {
            assertThatThrownBy(once::acquire).isInstanceOf(LockTimeoutException.class);
            assertThatThrownBy(once.acquireAsync()::join).hasCauseInstanceOf(LockTimeoutException.class);
        }
        assertThat(count("timed_out")).isEqualTo(2);
        assertThat(count("failed")).isZero();
        assertThat(waiters()).isZero();
    }

    @Test
    void tryAcquireCountsAsAcquiredOrAsTimedOutWhenBusy() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        Lock first = lock.tryAcquire().orElseThrow();
        assertThat(lock.tryAcquire()).isEmpty();
        first.close();
        assertThat(count("acquired")).isEqualTo(1);
        assertThat(count("timed_out")).isEqualTo(1);
        assertThat(free()).isTrue();
    }

    @Test
    void anExpiredTimeoutCountsAsTimedOutWithTheTimeWaited() throws Exception {
        SimpleMeterRegistry realTime = new SimpleMeterRegistry();
        NamedLock patient = LocketMetrics.instrument(lockFile(), realTime).withTimeout(Duration.ofMillis(100));
        try (Lock holder = lockFile().acquire()) {
            assertThatThrownBy(patient::acquire).isInstanceOf(LockTimeoutException.class);
            assertThatThrownBy(patient.acquireAsync()::join).hasCauseInstanceOf(LockTimeoutException.class);
        }
        assertThat(realTime.get("locket.acquire").tag("outcome", "timed_out").timer().count()).isEqualTo(2);
        assertThat(realTime.get("locket.acquire").tag("outcome", "timed_out").timer().totalTime(TimeUnit.MILLISECONDS))
                .isGreaterThanOrEqualTo(200);
    }

    @Test
    void cancellingTheFutureCountsAsCancelledAndLeavesNothingHeld() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        CompletableFuture<Lock> pending;
        try (Lock holder = lockFile().acquire()) {
            pending = lock.acquireAsync();
            assertThat(waiters()).isEqualTo(1);
            assertThat(pending.cancel(false)).isTrue();
            assertThat(waiters()).isZero();
        }
        assertThat(count("cancelled")).isEqualTo(1);
        assertThat(free()).as("the abandoned waiter was not granted the lock").isTrue();
        assertThat(registry.get("locket.held").timer().count()).isZero();
    }

    @Test
    void orTimeoutOnTheFutureCountsAsTimedOut() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        try (Lock holder = lockFile().acquire()) {
            CompletableFuture<Lock> pending = lock.acquireAsync().orTimeout(20, TimeUnit.MILLISECONDS);
            assertThatThrownBy(pending::join).hasCauseInstanceOf(TimeoutException.class);
        }
        assertThat(count("timed_out")).isEqualTo(1);
        assertThat(waiters()).isZero();
        assertThat(free()).isTrue();
    }

    @Test
    void completingTheFutureFromOutsideCountsAsCancelled() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        try (Lock holder = lockFile().acquire()) {
            lock.acquireAsync().completeExceptionally(new IllegalStateException("shutting down"));
            lock.acquireAsync().complete(null);
        }
        assertThat(count("cancelled")).isEqualTo(2);
        assertThat(count("failed")).isZero();
        assertThat(free()).isTrue();
    }

    @Test
    void anInterruptedAcquireCountsAsCancelled() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        try (Lock holder = lockFile().acquire()) {
            Thread waiter = new Thread(() -> {
                try {
                    lock.acquire().close();
                } catch (Exception e) {
                    thrown.set(e);
                }
            }, "interrupted-waiter");
            waiter.start();
            await().until(() -> waiters() == 1);
            waiter.interrupt();
            waiter.join();
        }
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
        assertThat(count("cancelled")).isEqualTo(1);
        assertThat(waiters()).isZero();
        assertThat(free()).isTrue();
    }

    @Test
    void aPathThatCannotBeALockFileCountsAsFailed() {
        NamedLock directory = LocketMetrics.instrument(Locket.lockFile(dir), registry);
        assertThatThrownBy(directory::acquire).isInstanceOf(IOException.class).hasMessageContaining(dir.toString());
        assertThatThrownBy(directory::tryAcquire).isInstanceOf(IOException.class);
        assertThatThrownBy(directory.acquireAsync()::join).isInstanceOf(CompletionException.class)
                .hasCauseInstanceOf(IOException.class);
        assertThat(count("failed")).isEqualTo(3);
        assertThat(waiters()).isZero();
    }

    @Test
    void waitersCountsAcquisitionsInFlightAcrossLocksInstrumentedSeparately() throws Exception {
        // As a service does that makes (and instruments) a lock per request: one gauge for all.
        CompletableFuture<Lock> first;
        CompletableFuture<Lock> second;
        try (Lock holder = lockFile().acquire()) {
            first = LocketMetrics.instrument(lockFile(), registry).acquireAsync();
            second = LocketMetrics.instrument(lockFile(), registry).acquireAsync();
            assertThat(registry.find("locket.waiters").gauges()).hasSize(1);
            assertThat(waiters()).isEqualTo(2);
        }
        first.join().close();
        second.join().close();
        assertThat(waiters()).isZero();
        assertThat(count("acquired")).isEqualTo(2);
        assertThat(registry.get("locket.held").timer().count()).isEqualTo(2);
    }

    @Test
    void withTimeoutAndWithoutTimeoutReturnInstrumentedCopiesThatShareTheMeters() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry, Tags.of("job", "nightly"));
        NamedLock once = lock.withTimeout(Duration.ZERO);
        NamedLock forever = once.withoutTimeout();
        assertThat(once.timeout()).contains(Duration.ZERO);
        assertThat(forever.timeout()).isEmpty();
        assertThat(lock.withoutTimeout()).isSameAs(lock);
        assertThat(once.name()).isEqualTo(lock.name()).isEqualTo(dir.resolve("job.lock").toString());
        assertThat(once).hasToString("LocketMetrics.instrument(LockFile[" + dir.resolve("job.lock") + ", timeout=0s (a single attempt)], [tag(job=nightly)])");
        forever.acquire().close();
        try (Lock holder = lockFile().acquire()) {
            assertThatThrownBy(once::acquire).isInstanceOf(LockTimeoutException.class);
        }
        assertThat(registry.get("locket.acquire").tag("job", "nightly").tag("outcome", "acquired").timer().count()).isEqualTo(1);
        assertThat(registry.get("locket.acquire").tag("job", "nightly").tag("outcome", "timed_out").timer().count()).isEqualTo(1);
    }

    @Test
    void noTagNamesTheLockUnlessTheCallerAsksForOne() {
        LockFile lockFile = lockFile();
        LocketMetrics.instrument(lockFile, registry);
        assertThat(registry.getMeters()).allSatisfy(m -> assertThat(m.getId().getTags())
                .extracting(Tag::getKey).isSubsetOf("outcome"));
        LocketMetrics.instrument(lockFile, registry, Tags.of("lock", lockFile.name()));
        assertThat(registry.find("locket.held").tag("lock", lockFile.name()).timer()).isNotNull();
        assertThat(registry.find("locket.waiters").tag("lock", lockFile.name()).gauge()).isNotNull();
    }

    @Test
    void theOutcomeTagIsTheLibrarysAndNullsAreNamed() {
        assertThatThrownBy(() -> LocketMetrics.instrument(lockFile(), registry, Tags.of("outcome", "mine")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("outcome");
        assertThatThrownBy(() -> LocketMetrics.instrument(null, registry)).hasMessage("lock");
        assertThatThrownBy(() -> LocketMetrics.instrument(lockFile(), null)).hasMessage("registry");
        assertThatThrownBy(() -> LocketMetrics.instrument(lockFile(), registry, null)).hasMessage("tags");
    }

    @Test
    void theHandleNamesTheLockAndSaysWhetherItIsHeld() throws Exception {
        Lock held = LocketMetrics.instrument(lockFile(), registry).acquire();
        assertThat(held.name()).isEqualTo(dir.resolve("job.lock").toString());
        assertThat(held).hasToString("Lock[" + dir.resolve("job.lock") + ", held]");
        held.close();
        assertThat(held.isHeld()).isFalse();
        assertThat(held).hasToString("Lock[" + dir.resolve("job.lock") + ", released]");
    }

    @Test
    void aDroppedHandleIsReleasedByTheBackstopAndItsHoldRecorded() throws Exception {
        dropHeldLock(LocketMetrics.instrument(lockFile(), registry));
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            System.gc();
            return free();
        });
        assertThat(registry.get("locket.held").timer().count()).isEqualTo(1);
    }

    private static void dropHeldLock(NamedLock lock) throws IOException, InterruptedException {
        lock.acquire(); // never closed
    }

    @Test
    void aGrantRacingWithCancellationIsNeverLeakedAndAlwaysCountedOnce() throws Exception {
        NamedLock lock = LocketMetrics.instrument(lockFile(), registry);
        int rounds = 1000;
        ExecutorService releaser = Executors.newSingleThreadExecutor();
        try {
            for (int i = 0; i < rounds; i++) {
                Lock holder = lockFile().acquire();
                CompletableFuture<Lock> pending = lock.acquireAsync();
                CyclicBarrier together = new CyclicBarrier(2);
                Future<?> release = releaser.submit(() -> {
                    together.await();
                    holder.close();
                    return null;
                });
                together.await();
                pending.cancel(false);
                release.get(30, TimeUnit.SECONDS);
                try {
                    pending.join().close(); // the grant won
                } catch (CancellationException cancelled) {
                    // the cancellation won
                }
                if (!free()) { // say who holds it, and whether that passes, to tell a leak from a late release
                    String holders = lockFile().holders().toString();
                    boolean freeSoonAfter;
                    try {
                        await().atMost(Duration.ofSeconds(1)).pollInterval(Duration.ofMillis(10)).until(this::free);
                        freeSoonAfter = true;
                    } catch (org.awaitility.core.ConditionTimeoutException stillBusy) {
                        freeSoonAfter = false;
                    }
                    assertThat(false).as("round %d: busy once both were done; holders %s; free a moment later: %s", i,
                            holders, freeSoonAfter).isTrue();
                }
            }
        } finally {
            releaser.shutdownNow();
        }
        assertThat(count("acquired") + count("cancelled")).isEqualTo(rounds);
        assertThat(registry.get("locket.held").timer().count()).isEqualTo(count("acquired"));
        assertThat(waiters()).isZero();
    }

    @Test
    void meterNamesAreTheDocumentedOnes() {
        LocketMetrics.instrument(lockFile(), registry);
        assertThat(registry.getMeters()).extracting(Meter::getId).extracting(Meter.Id::getName).containsOnly(
                "locket.acquire", "locket.held", "locket.waiters");
    }
}
