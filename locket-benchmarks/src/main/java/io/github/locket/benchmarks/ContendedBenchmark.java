package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockProtocol;
import io.github.locket.Locket;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * In-JVM contended throughput: every thread of the benchmark (run with {@code -t 1, 2, 4, 8})
 * acquires and releases one lock file in a loop, the critical section empty.
 *
 * <p>The baseline is what a careful user writes without Locket: a {@link ReentrantLock} that
 * keeps the threads of this JVM off one {@link FileChannel}, whose lock keeps other processes out,
 * with the same protocols as Locket ({@code flock(2)} on a descriptor of its own as well, when
 * {@link Locket#protocols()} has {@code FLOCK}). It is measured both unfair (the JDK default, which
 * lets a releasing thread re-take the lock at once) and fair (first come, first served).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ContendedBenchmark {
    private Path dir;
    private FileChannel channel;
    private FileChannel fairChannel;
    private final ReentrantLock jvmLock = new ReentrantLock();
    private final ReentrantLock fairJvmLock = new ReentrantLock(true);
    private LockFile lockFile;
    private RawLocks flock; // the flock(2) half of the baselines, or null
    private RawLocks fairFlock;

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("locket-jmh-contended");
        channel = FileChannel.open(dir.resolve("baseline.lock"), StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        fairChannel = FileChannel.open(dir.resolve("fair.lock"), StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        lockFile = Locket.lockFile(dir.resolve("locket.lock"), Duration.ofSeconds(60));
        if (Locket.protocols().contains(LockProtocol.FLOCK)) {
            flock = new RawLocks(dir.resolve("baseline.lock"), true);
            fairFlock = new RawLocks(dir.resolve("fair.lock"), true);
        }
    }

    @TearDown
    public void tearDown() throws IOException {
        channel.close();
        fairChannel.close();
        if (flock != null) {
            flock.close();
            fairFlock.close();
        }
        Files.walk(dir).sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }

    @Benchmark
    public FileLock baselineReentrantLock() throws IOException {
        jvmLock.lock();
        try {
            return fileLockAndRelease(channel, flock);
        } finally {
            jvmLock.unlock();
        }
    }

    @Benchmark
    public FileLock baselineFairReentrantLock() throws IOException {
        fairJvmLock.lock();
        try {
            return fileLockAndRelease(fairChannel, fairFlock);
        } finally {
            fairJvmLock.unlock();
        }
    }

    /** fcntl through the channel, then flock(2) (if any), released in the reverse order, as Locket does. */
    private static FileLock fileLockAndRelease(FileChannel channel, RawLocks flockHalf) throws IOException {
        FileLock fl = channel.lock(0, 1, false);
        if (flockHalf != null) {
            flockHalf.flockOnly(true);
            flockHalf.flockOnly(false);
        }
        fl.release();
        return fl;
    }

    @Benchmark
    public Lock locket() throws IOException, InterruptedException {
        try (Lock lock = lockFile.acquire()) {
            return lock;
        }
    }
}
