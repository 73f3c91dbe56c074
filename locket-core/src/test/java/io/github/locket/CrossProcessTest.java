package io.github.locket;

import io.github.locket.testing.Children;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real child JVMs: the lock excludes processes exactly as it excludes threads. */
final class CrossProcessTest {
    @TempDir
    Path dir;

    @Test
    void aLockHeldHereIsBusyForAnotherProcessAndFreeAfterClose() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Lock lock = Locket.lockFile(path).acquire()) {
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isFalse();
        }
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
    }

    @Test
    void aLockHeldByAnotherProcessMakesEveryTimeoutKindWaitOrFail() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            assertThat(Locket.lockFile(path).tryAcquire()).isEmpty();
            assertThatThrownBy(() -> Locket.lockFile(path, Duration.ZERO).acquire())
                    .isInstanceOf(LockTimeoutException.class);
            assertThatThrownBy(() -> Locket.lockFile(path, Duration.ofMillis(200)).acquire())
                    .isInstanceOf(LockTimeoutException.class)
                    .hasMessageContaining(path.toString());

            CompletableFuture<Lock> untimed = Locket.lockFile(path).acquireAsync();
            CompletableFuture<Lock> timed = Locket.lockFile(path, Duration.ofSeconds(60)).acquireAsync();
            assertThat(untimed).isNotDone();
            holder.send("release");
            holder.expect("RELEASED");
            untimed.get(30, TimeUnit.SECONDS).close();
            timed.get(30, TimeUnit.SECONDS).close();
        }
    }

    @Test
    void aWaitingProcessGetsTheLockWhenThisJvmReleases() throws Exception {
        Path path = dir.resolve("a.lock");
        Lock lock = Locket.lockFile(path).acquire();
        try (Children waiter = Children.start("wait", path.toString(), "60000")) {
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isFalse();
            lock.close();
            waiter.expect("LOCKED");
            assertThat(waiter.waitFor()).isZero();
        }
    }

    @Test
    void aKilledHolderLetsAWaiterIn() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            CompletableFuture<Lock> waiting = Locket.lockFile(path, Duration.ofSeconds(60)).acquireAsync();
            assertThat(waiting).isNotDone();
            holder.process().destroyForcibly();
            try (Lock lock = waiting.get(30, TimeUnit.SECONDS)) {
                assertThat(lock.isHeld()).isTrue();
            }
        }
    }

    /**
     * A waiter that gives up while its OS wait pends leaves that wait behind (the JDK refuses
     * {@code tryLock} while it pends). A one-shot attempt after the holder let go must still win.
     */
    @Test
    void anOsWaitOrphanedByCancellationDoesNotMakeAFreeLockLookBusy() throws Exception {
        Path path = dir.resolve("a.lock");
        LockFile lockFile = Locket.lockFile(path);
        LockFile once = Locket.lockFile(path, Duration.ZERO);
        for (int round = 0; round < 3; round++) {
            try (Children holder = Children.start("hold", path.toString())) {
                holder.expect("LOCKED");
                CompletableFuture<Lock> waiting = lockFile.acquireAsync();
                assertThat(waiting.cancel(false)).isTrue(); // the other process holds it: cannot be granted
                holder.send("release");
                holder.expect("RELEASED");
            }
            switch (round) {
                case 0:
                    assertThat(lockFile.tryAcquire()).hasValueSatisfying(Lock::close);
                    break;
                case 1:
                    once.acquire().close();
                    break;
                default:
                    once.acquireAsync().get(10, TimeUnit.SECONDS).close();
                    break;
            }
        }
    }

    @Test
    void threeProcessesOfTwoThreadsLoseNoUpdate() throws Exception {
        Path path = dir.resolve("a.lock");
        Path counter = Files.writeString(dir.resolve("counter"), "0");
        int processes = 3;
        int threads = 2;
        int iterations = 300;
        List<Children> all = new ArrayList<>();
        try {
            for (int i = 0; i < processes; i++) {
                all.add(Children.start("count", path.toString(), counter.toString(),
                        Integer.toString(threads), Integer.toString(iterations)));
            }
            for (Children c : all) {
                c.expect("DONE");
                assertThat(c.waitFor()).isZero();
            }
        } finally {
            all.forEach(Children::close);
        }
        assertThat(Files.readString(counter)).isEqualTo(Integer.toString(processes * threads * iterations));
    }

    @Test
    void cancellationsAndTimeoutsRacingAnotherProcessLeakNothing() throws Exception {
        Path path = dir.resolve("a.lock");
        LockFile untimed = Locket.lockFile(path);
        LockFile timed = Locket.lockFile(path, Duration.ofNanos(300_000));
        int granted = 0;
        int abandoned = 0;
        try (Children churn = Children.start("churn", path.toString(), "100", "900")) {
            churn.expect("STARTED");
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = 0; i < 4_000; i++) {
                if (i % 4 == 3) { // the blocking variant with its own timeout
                    try {
                        timed.acquire().close();
                        granted++;
                    } catch (LockTimeoutException e) {
                        abandoned++;
                    }
                    continue;
                }
                CompletableFuture<Lock> f;
                switch (i % 4) {
                    case 0: // the LockFile's own timeout
                        f = timed.acquireAsync();
                        break;
                    case 1: // a timeout from outside
                        f = untimed.acquireAsync().orTimeout(random.nextInt(50, 1000), TimeUnit.MICROSECONDS);
                        break;
                    default: // cancellation at a random moment
                        f = untimed.acquireAsync();
                        long until = System.nanoTime() + random.nextInt(0, 1_000_000);
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                        f.cancel(false);
                        break;
                }
                try {
                    f.get(30, TimeUnit.SECONDS).close();
                    granted++;
                } catch (Exception e) {
                    abandoned++;
                }
            }
            churn.send("stop");
            String stopped = churn.expect("STOPPED");
            assertThat(Long.parseLong(stopped.substring("STOPPED ".length()))).isPositive();
        }
        System.out.printf("granted=%d abandoned=%d%n", granted, abandoned);
        assertThat(granted + abandoned).isEqualTo(4_000);
        assertThat(abandoned).as("the races were exercised").isPositive();
        // Nothing leaked: another process can take the lock, and so can this JVM.
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
        assertThat(untimed.tryAcquire()).hasValueSatisfying(Lock::close);
    }
}
