package io.github.locket.shedlock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.locket.testing.Children;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.DefaultLockingTaskExecutor;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.LockingTaskExecutor;
import net.javacrumbs.shedlock.core.LockingTaskExecutor.TaskResult;
import net.javacrumbs.shedlock.core.SimpleLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

final class LocketLockProviderTest {
    private static final Duration MOST = Duration.ofMinutes(5);

    @TempDir
    Path dir;

    @AfterEach
    void restoreClock() {
        ClockProvider.setClock(Clock.systemUTC());
    }

    private LocketLockProvider provider() {
        return LocketLockProvider.create(dir);
    }

    private static LockConfiguration config(String name, Duration atMost, Duration atLeast) {
        return new LockConfiguration(ClockProvider.now(), name, atMost, atLeast);
    }

    private Children child(String name, Duration atLeast, String mode) throws Exception {
        return Children.startClass(ShedLockChild.class, List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1"),
                dir.toString(), name, Long.toString(atLeast.toMillis()), mode);
    }

    /** Moves ShedLock's clock (and so this JVM's idea of lockAtLeastUntil) forward. */
    private static void advanceClock(Duration by) {
        ClockProvider.setClock(Clock.offset(Clock.systemUTC(), by));
    }

    @Test
    void executeWithLockSkipsTheTaskWhileAnotherJvmRunsIt() throws Throwable {
        LockingTaskExecutor executor = new DefaultLockingTaskExecutor(provider());
        AtomicBoolean ran = new AtomicBoolean();
        try (Children other = child("nightly", Duration.ZERO, "hold")) {
            other.expect("RUNNING");
            TaskResult<Boolean> skipped = executor.executeWithLock(() -> ran.getAndSet(true), config("nightly", MOST, Duration.ZERO));
            assertThat(skipped.wasExecuted()).isFalse();
            assertThat(ran).isFalse();
            other.send("finish");
            other.expect("EXECUTED");
            assertThat(other.waitFor()).isZero();
        }
        assertThat(executor.executeWithLock(() -> ran.getAndSet(true), config("nightly", MOST, Duration.ZERO)).wasExecuted())
                .isTrue();
        assertThat(ran).isTrue();
        assertThat(Files.exists(dir.resolve("nightly.lock"))).isTrue();
    }

    @Test
    void anotherJvmSkipsTheTaskWhileThisJvmRunsIt() throws Throwable {
        LockingTaskExecutor executor = new DefaultLockingTaskExecutor(provider());
        TaskResult<String> result = executor.executeWithLock(() -> {
            try (Children other = child("nightly", Duration.ZERO, "run")) {
                other.expect("SKIPPED");
                return "other JVM skipped";
            }
        }, config("nightly", MOST, Duration.ZERO));
        assertThat(result.wasExecuted()).isTrue();
        assertThat(result.getResult()).isEqualTo("other JVM skipped");
        try (Children other = child("nightly", Duration.ZERO, "run")) { // released: now it runs
            other.expect("RUNNING");
            other.expect("EXECUTED");
        }
    }

    @Test
    void locksOfOtherNamesAreIndependent() throws Throwable {
        try (Children other = child("a", Duration.ZERO, "hold")) {
            other.expect("RUNNING");
            Optional<SimpleLock> b = provider().lock(config("b", MOST, Duration.ZERO));
            assertThat(b).isPresent();
            b.get().unlock();
            assertThat(provider().lock(config("a", MOST, Duration.ZERO))).isEmpty();
        }
    }

    @Test
    void aSecondLockInTheSameJvmIsRefusedUntilUnlock() {
        LocketLockProvider provider = provider();
        SimpleLock first = provider.lock(config("job", MOST, Duration.ZERO)).orElseThrow();
        assertThat(provider.lock(config("job", MOST, Duration.ZERO))).isEmpty();
        assertThat(LocketLockProvider.create(dir).lock(config("job", MOST, Duration.ZERO))).isEmpty();
        first.unlock();
        assertThat(provider.lock(config("job", MOST, Duration.ZERO))).isPresent();
        assertThatThrownBy(first::unlock).isInstanceOf(IllegalStateException.class); // ShedLock's contract
    }

    @Test
    void unlockBeforeLockAtLeastForKeepsTheLockUntilThenInEveryJvm() throws Throwable {
        LockingTaskExecutor executor = new DefaultLockingTaskExecutor(provider());
        assertThat(executor.executeWithLock(() -> "quick", config("report", Duration.ofHours(1), Duration.ofMinutes(30))).wasExecuted())
                .isTrue();
        // The task is over, but lockAtLeastFor is not: refused here and in another JVM.
        assertThat(executor.executeWithLock(() -> "again", config("report", MOST, Duration.ZERO)).wasExecuted()).isFalse();
        try (Children other = child("report", Duration.ZERO, "run")) {
            other.expect("SKIPPED");
        }
        assertThat(Instant.parse(Files.readString(dir.resolve("report.until")).trim()))
                .isAfter(Instant.now().plus(Duration.ofMinutes(29))); // the record other JVMs read
        advanceClock(Duration.ofMinutes(29));
        assertThat(provider().lock(config("report", MOST, Duration.ZERO))).isEmpty();
        advanceClock(Duration.ofMinutes(31));
        assertThat(executor.executeWithLock(() -> "again", config("report", MOST, Duration.ZERO)).wasExecuted()).isTrue();
    }

    @Test
    void lockAtLeastForOutlivesTheProcessThatSetIt() throws Throwable {
        try (Children other = child("batch", Duration.ofHours(1), "run")) {
            other.expect("RUNNING");
            other.expect("EXECUTED");
            assertThat(other.waitFor()).isZero(); // the process is gone; its lockAtLeastFor is not
        }
        assertThat(provider().lock(config("batch", MOST, Duration.ZERO))).isEmpty();
        advanceClock(Duration.ofMinutes(61));
        assertThat(provider().lock(config("batch", MOST, Duration.ZERO))).isPresent();
    }

    @Test
    void unlockAfterLockAtLeastForReleasesAtOnce() {
        LocketLockProvider provider = provider();
        SimpleLock lock = provider.lock(config("job", MOST, Duration.ofSeconds(1))).orElseThrow();
        advanceClock(Duration.ofSeconds(2)); // the task took longer than lockAtLeastFor
        lock.unlock();
        assertThat(provider.lock(config("job", MOST, Duration.ZERO))).isPresent();
        assertThat(Files.exists(dir.resolve("job.until"))).isFalse();
    }

    @Test
    void aKilledHolderFreesTheLockAtOnceNotAfterLockAtMostFor() throws Throwable {
        try (Children other = child("nightly", Duration.ZERO, "hold")) {
            other.expect("RUNNING");
            assertThat(provider().lock(config("nightly", MOST, Duration.ZERO))).isEmpty();
            other.kill();
        }
        assertThat(provider().lock(config("nightly", MOST, Duration.ZERO))).isPresent();
    }

    @Test
    void lockAtMostForReleasesATaskThatOverrunsAndItsLateUnlockReleasesNothing() throws Exception {
        LocketLockProvider provider = provider();
        SimpleLock overrun = provider.lock(config("slow", Duration.ofMillis(200), Duration.ZERO)).orElseThrow();
        SimpleLock next = await().atMost(Duration.ofSeconds(10))
                .until(() -> provider.lock(config("slow", MOST, Duration.ZERO)), Optional::isPresent).orElseThrow();
        overrun.unlock(); // late: must not release the next holder
        Path lockFile = provider.lockFile("slow");
        assertThat(Children.freeAsSeenFromAnotherProcess(lockFile)).isFalse();
        next.unlock();
        assertThat(Children.freeAsSeenFromAnotherProcess(lockFile)).isTrue();
    }

    @Test
    void extendMovesTheDeadlinesAndInvalidatesTheOldLock() throws Exception {
        LocketLockProvider provider = provider();
        SimpleLock first = provider.lock(config("long", Duration.ofMillis(300), Duration.ZERO)).orElseThrow();
        SimpleLock extended = first.extend(Duration.ofMinutes(10), Duration.ofMinutes(5)).orElseThrow();
        assertThatThrownBy(first::unlock).isInstanceOf(IllegalStateException.class);
        // Well past the first lockAtMostFor, the lock is still held.
        await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(5))
                .until(() -> provider.lock(config("long", MOST, Duration.ZERO)).isEmpty());
        extended.unlock(); // the extension's lockAtLeastFor (5 minutes from the extension) applies
        assertThat(provider.lock(config("long", MOST, Duration.ZERO))).isEmpty();
        advanceClock(Duration.ofMinutes(6));
        assertThat(provider.lock(config("long", MOST, Duration.ZERO))).isPresent();
    }

    @Test
    void extendAfterLockAtMostForReturnsEmpty() {
        LocketLockProvider provider = provider();
        SimpleLock lock = provider.lock(config("short", Duration.ofMillis(50), Duration.ZERO)).orElseThrow();
        SimpleLock next = await().atMost(Duration.ofSeconds(10))
                .until(() -> provider.lock(config("short", MOST, Duration.ZERO)), Optional::isPresent).orElseThrow();
        assertThat(lock.extend(Duration.ofMinutes(1), Duration.ZERO)).isEmpty();
        next.unlock();
    }

    @Test
    void lockNamesThatAreNotPlainFileNamesAreRejectedByName() {
        LocketLockProvider provider = provider();
        for (String name : List.of("a/b", "../escape", "..", ".", "back\\slash", "nul\0byte", "x".repeat(241))) {
            assertThatThrownBy(() -> provider.lock(config(name, MOST, Duration.ZERO)))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining(name);
        }
        assertThat(provider.lock(config("com.example.Jobs.nightly-run_1", MOST, Duration.ZERO))).isPresent();
    }

    @Test
    void createMakesAMissingDirectory() {
        Path nested = dir.resolve("a/b");
        LocketLockProvider provider = LocketLockProvider.create(nested);
        assertThat(nested).isDirectory();
        assertThat(provider.lockFile("job")).isEqualTo(nested.resolve("job.lock"));
    }
}
