package io.github.locket.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.locket.Lock;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

final class LocksTest {
    @Test
    void closeRunsTheReleaseOnceAndTheHandleSaysSo() {
        AtomicInteger releases = new AtomicInteger();
        Lock lock = Locks.newLock("jobs/nightly", releases::incrementAndGet);
        assertThat(lock.isHeld()).isTrue();
        assertThat(lock.name()).isEqualTo("jobs/nightly");
        assertThat(lock).hasToString("Lock[jobs/nightly, held]");
        lock.close();
        lock.close();
        assertThat(releases).hasValue(1);
        assertThat(lock.isHeld()).isFalse();
        assertThat(lock).hasToString("Lock[jobs/nightly, released]");
    }

    @Test
    void aLockThatIsNotALockFileHasNoPath() {
        try (Lock lock = Locks.newLock("jobs/nightly", () -> {})) {
            assertThatThrownBy(lock::path).isInstanceOf(UnsupportedOperationException.class)
                    .hasMessageContaining("jobs/nightly");
        }
    }

    @Test
    void aFailingReleaseIsThrownByCloseAndTheLockCountsAsReleased() {
        AtomicInteger releases = new AtomicInteger();
        Lock lock = Locks.newLock("a", () -> {
            releases.incrementAndGet();
            throw new UncheckedIOException(new java.io.IOException("connection gone"));
        });
        assertThatThrownBy(lock::close).isInstanceOf(UncheckedIOException.class).hasMessageContaining("connection gone");
        assertThat(lock.isHeld()).isFalse();
        lock.close();
        assertThat(releases).hasValue(1);
    }

    @Test
    void aLostLockIsNoLongerHeldAndClosingItReleasesNothing() {
        AtomicInteger releases = new AtomicInteger();
        Lock lock = Locks.newLock("a", releases::incrementAndGet);
        assertThat(Locks.lost(lock)).isTrue();
        assertThat(Locks.lost(lock)).isFalse();
        assertThat(lock.isHeld()).isFalse();
        lock.close();
        assertThat(releases).hasValue(0);
    }

    @Test
    void aDroppedLockIsReleasedByTheGarbageCollectorBackstop() {
        AtomicInteger releases = new AtomicInteger();
        dropHeldLock(releases);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            System.gc();
            return releases.get() == 1;
        });
    }

    private static void dropHeldLock(AtomicInteger releases) {
        Locks.newLock("dropped", releases::incrementAndGet); // never closed
    }
}
