package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.infra.Blackhole;

/**
 * In-JVM readers and writers on one lock file: in each group some threads take the lock shared
 * (read) and the others exclusive (write), in a loop, around a critical section of {@code work}
 * {@link Blackhole#consumeCPU tokens} (0: empty). The split is JMH's {@code -tg READERS,WRITERS}
 * (default 3 readers, 1 writer); JMH reports each group's total and its readers' and writers'
 * throughput apart, so a starved writer shows.
 *
 * <p>The baseline is what a careful user writes without Locket: a {@link ReentrantReadWriteLock}
 * for the threads of this JVM, and a {@link FileChannel} lock for other processes, shared while
 * any reader is in. The JDK refuses a second lock on the same file in one JVM ({@code
 * OverlappingFileLockException}), even shared, so the first reader in takes the channel's shared
 * lock and the last one out releases it, counted under a monitor.
 *
 * <pre>
 * java -jar locket-benchmarks/target/benchmarks.jar ReadersWritersBenchmark -tg 3,1 -f 1
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class ReadersWritersBenchmark {
    /** Tokens of {@link Blackhole#consumeCPU} inside the critical section; 0 leaves it empty. */
    @Param({"0", "1000"})
    public int work;

    private Path dir;
    private LockFile writer;
    private LockFile reader;
    private FileChannel channel;
    private final ReentrantReadWriteLock jvmLock = new ReentrantReadWriteLock();
    private final Object readersMonitor = new Object();
    private int readersIn; // guarded by readersMonitor
    private FileLock readersFileLock; // guarded by readersMonitor

    @Setup
    public void setUp() throws IOException {
        dir = Files.createTempDirectory("locket-jmh-readers-writers");
        // Read and write: a shared lock needs a readable channel.
        channel = FileChannel.open(dir.resolve("baseline.lock"), StandardOpenOption.READ, StandardOpenOption.WRITE,
                StandardOpenOption.CREATE);
        writer = Locket.lockFile(dir.resolve("locket.lock"), Duration.ofSeconds(60));
        reader = writer.shared();
    }

    @TearDown
    public void tearDown() throws IOException {
        channel.close();
        Files.walk(dir).sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }

    @Benchmark
    @Group("locket")
    @GroupThreads(3)
    public Lock locketRead() throws IOException, InterruptedException {
        try (Lock lock = reader.acquire()) {
            Blackhole.consumeCPU(work);
            return lock;
        }
    }

    @Benchmark
    @Group("locket")
    @GroupThreads(1)
    public Lock locketWrite() throws IOException, InterruptedException {
        try (Lock lock = writer.acquire()) {
            Blackhole.consumeCPU(work);
            return lock;
        }
    }

    @Benchmark
    @Group("baseline")
    @GroupThreads(3)
    public FileLock baselineRead() throws IOException {
        jvmLock.readLock().lock();
        try {
            FileLock held;
            synchronized (readersMonitor) {
                if (readersIn++ == 0) {
                    readersFileLock = channel.lock(0, 1, true);
                }
                held = readersFileLock;
            }
            try {
                Blackhole.consumeCPU(work);
                return held;
            } finally {
                synchronized (readersMonitor) {
                    if (--readersIn == 0) {
                        readersFileLock.release();
                        readersFileLock = null;
                    }
                }
            }
        } finally {
            jvmLock.readLock().unlock();
        }
    }

    @Benchmark
    @Group("baseline")
    @GroupThreads(1)
    public FileLock baselineWrite() throws IOException {
        jvmLock.writeLock().lock();
        try {
            FileLock fl = channel.lock(0, 1, false);
            try {
                Blackhole.consumeCPU(work);
            } finally {
                fl.release();
            }
            return fl;
        } finally {
            jvmLock.writeLock().unlock();
        }
    }
}
