package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Uncontended {@code acquire()}+{@code close()} with the flock(2) half turned off
 * ({@code -Dio.github.locket.flock=false}), next to {@link UncontendedBenchmark}: what the
 * Python-compatible second lock costs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(jvmArgsAppend = "-Dio.github.locket.flock=false")
public class FcntlOnlyBenchmark {
    private Path dir;
    private LockFile lockFile;

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("locket-jmh-fcntl-only");
        lockFile = Locket.lockFile(dir.resolve("fcntl-only.lock"));
    }

    @TearDown
    public void tearDown() throws IOException {
        Files.walk(dir).sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }

    @Benchmark
    public Lock acquireClose() throws IOException, InterruptedException {
        try (Lock lock = lockFile.acquire()) {
            return lock;
        }
    }
}
