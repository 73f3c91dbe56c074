package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import io.github.locket.reactor.ReactiveLocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import reactor.core.publisher.Mono;

/**
 * Uncontended reactive acquisition, run by run.sh in the same JMH invocation as {@link
 * UncontendedBenchmark} so that it compares with the raw FileChannel floor measured there.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ReactiveBenchmark {
    private Path dir;
    private LockFile acquired;
    private LockFile withLock;
    private LockFile untimed;

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("locket-jmh-reactive");
        acquired = Locket.lockFile(dir.resolve("acquire.lock"), Duration.ofSeconds(30));
        withLock = Locket.lockFile(dir.resolve("with-lock.lock"), Duration.ofSeconds(30));
        untimed = Locket.lockFile(dir.resolve("untimed.lock"));
    }

    @TearDown
    public void tearDown() throws IOException {
        Files.walk(dir).sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }

    /** The bare {@code Mono<Lock>}: subscribe, take the lock, release it. */
    @Benchmark
    public Lock acquireBlockClose() {
        Lock lock = ReactiveLocket.acquire(acquired).block();
        lock.close();
        return lock;
    }

    /** The bare {@code Mono<Lock>} of a lock file without a timeout. */
    @Benchmark
    public Lock acquireBlockCloseUntimed() {
        Lock lock = ReactiveLocket.acquire(untimed).block();
        lock.close();
        return lock;
    }

    /** The recommended form: the lock is held while the body's Mono runs, released after it. */
    @Benchmark
    public Integer withLockBlock() {
        return ReactiveLocket.withLock(withLock, lock -> Mono.just(1)).block();
    }
}
