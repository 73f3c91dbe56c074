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
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What one uncontended acquisition and release costs, next to the JVM's floor: {@code lock} and
 * {@code release} on a {@link FileChannel} that is already open (Locket keeps its descriptor open
 * between acquisitions, so this is the like-for-like floor). Every method locks byte range [0,1),
 * as Locket does, each on its own file.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class UncontendedBenchmark {
    private Path dir;
    private FileChannel raw;
    private FileChannel rawTry;
    private LockFile untimed;
    private LockFile timed;
    private LockFile async;
    private LockFile tryOnly;
    private RawLocks syscalls;

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("locket-jmh-uncontended");
        raw = FileChannel.open(dir.resolve("raw.lock"), StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        rawTry = FileChannel.open(dir.resolve("raw-try.lock"), StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        untimed = Locket.lockFile(dir.resolve("untimed.lock"));
        timed = Locket.lockFile(dir.resolve("timed.lock"), Duration.ofSeconds(30));
        async = Locket.lockFile(dir.resolve("async.lock"), Duration.ofSeconds(30));
        tryOnly = Locket.lockFile(dir.resolve("try.lock"));
        syscalls = new RawLocks(dir.resolve("syscalls.lock"), Locket.protocols().contains(LockProtocol.FLOCK));
    }

    @TearDown
    public void tearDown() throws IOException {
        raw.close();
        rawTry.close();
        syscalls.close();
        Files.walk(dir).sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }

    /** The floor: blocking lock + release on an open channel. */
    @Benchmark
    public FileLock rawLockRelease() throws IOException {
        FileLock fl = raw.lock(0, 1, false);
        fl.release();
        return fl;
    }

    /**
     * The system-call floor of Locket's protocols, by hand on an open descriptor: {@code
     * F_OFD_SETLK} and {@code flock(LOCK_EX | LOCK_NB)}, then {@code flock(LOCK_UN)} and {@code
     * F_UNLCK} ({@code fcntl} alone when {@link Locket#protocols()} has no {@code FLOCK}).
     */
    @Benchmark
    public boolean rawSyscalls() {
        boolean got = syscalls.tryLock(false);
        syscalls.unlock();
        return got;
    }

    /** The floor for tryAcquire: non-blocking tryLock + release on an open channel. */
    @Benchmark
    public FileLock rawTryLockRelease() throws IOException {
        FileLock fl = rawTry.tryLock(0, 1, false);
        fl.release();
        return fl;
    }

    @Benchmark
    public Lock acquireClose() throws IOException, InterruptedException {
        try (Lock lock = untimed.acquire()) {
            return lock;
        }
    }

    @Benchmark
    public Lock acquireCloseWithTimeout() throws IOException, InterruptedException {
        try (Lock lock = timed.acquire()) {
            return lock;
        }
    }

    @Benchmark
    public Lock acquireAsyncJoinClose() {
        try (Lock lock = async.acquireAsync().join()) {
            return lock;
        }
    }

    @Benchmark
    public Lock tryAcquireClose() throws IOException {
        try (Lock lock = tryOnly.tryAcquire().orElseThrow()) {
            return lock;
        }
    }
}
