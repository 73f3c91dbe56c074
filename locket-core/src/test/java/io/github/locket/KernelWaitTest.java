package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.locket.testing.Children;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With a native binding (Linux), a thread blocked in {@link LockFile#acquire()} at the head of the
 * queue waits for another process in the kernel itself, so the kernel wakes the thread that wants
 * the lock; an interrupt or the timeout still ends that wait, and the lock is an
 * open-file-description lock that no other descriptor's close can drop.
 */
final class KernelWaitTest {
    @TempDir
    Path dir;

    private final ExecutorService threads = Executors.newCachedThreadPool();
    /** Tasks handed to the library's I/O threads by {@link #env}. */
    private final AtomicInteger ioTasks = new AtomicInteger();
    private Env env;

    @BeforeEach
    void nativeBinding() {
        assertThat(Platform.sys()).as("a native binding on Linux (JNA on the test class path, FFM on 22+)").isNotNull();
        ExecutorService io = Threads.io();
        ExecutorService counting = new ExecuteOnly() {
            @Override
            public void execute(Runnable task) {
                ioTasks.incrementAndGet();
                io.execute(task);
            }
        };
        env = new Env(counting, Threads.timer(), Env.standardOpener(FileOpener.Step.NONE), true);
    }

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    private LockFile lockFile(Path path, Duration timeout) {
        return new LockFile(path, timeout, env);
    }

    /** Starts a blocking acquisition on a thread of the test; returns its outcome. */
    private CompletableFuture<Object> acquireOnThread(LockFile lockFile, Thread[] thread) {
        CompletableFuture<Object> outcome = new CompletableFuture<>();
        WaiterThread t = new WaiterThread(() -> {
            try (Lock lock = lockFile.acquire()) {
                outcome.complete("acquired " + lock.isHeld());
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        thread[0] = t;
        t.start();
        return outcome;
    }

    private static final class WaiterThread extends Thread {
        WaiterThread(Runnable body) {
            super(body, "kernel-waiter");
            setDaemon(true);
        }
    }

    /** Whether {@code t} is inside the kernel wait, on its own stack. */
    private static boolean waitingInTheKernel(Thread t) {
        return Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals(OfdLock.Wait.class.getName())
                && f.getMethodName().equals("waitInKernel"));
    }

    private static java.util.List<Thread> threadsWaitingInTheKernel() {
        return Thread.getAllStackTraces().keySet().stream().filter(KernelWaitTest::waitingInTheKernel).toList();
    }

    @Test
    void aBlockedAcquireWaitsForAnotherProcessInTheKernelOnItsOwnThread() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            Thread[] t = new Thread[1];
            CompletableFuture<Object> outcome = acquireOnThread(lockFile(path, null), t);
            await().atMost(Duration.ofSeconds(30)).until(() -> waitingInTheKernel(t[0]));
            assertThat(ioTasks).as("no library thread waits for it").hasValue(0);
            assertThat(threadsWaitingInTheKernel()).containsExactly(t[0]);
            holder.send("release");
            assertThat(outcome.get(30, TimeUnit.SECONDS)).isEqualTo("acquired true");
        }
    }

    @Test
    void anInterruptEndsAWaitInTheKernelAndLeavesNothingHeld() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            Thread[] t = new Thread[1];
            CompletableFuture<Object> outcome = acquireOnThread(lockFile(path, null), t);
            await().atMost(Duration.ofSeconds(30)).until(() -> waitingInTheKernel(t[0]));
            t[0].interrupt();
            assertThat(outcome.get(30, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
            holder.send("release");
            holder.expect("RELEASED");
        }
        assertThat(lockFile(path, Duration.ZERO).tryAcquire()).as("nothing left held or queued")
                .hasValueSatisfying(Lock::close);
    }

    @Test
    void theTimeoutEndsAWaitInTheKernel() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            Thread[] t = new Thread[1];
            CompletableFuture<Object> outcome = acquireOnThread(lockFile(path, Duration.ofMillis(300)), t);
            assertThat(outcome.get(30, TimeUnit.SECONDS)).isInstanceOf(LockTimeoutException.class);
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isFalse();
        }
        assertThat(lockFile(path, Duration.ZERO).tryAcquire()).hasValueSatisfying(Lock::close);
    }

    @Test
    void whenTheThreadInTheKernelGivesUpTheNextBlockedThreadTakesOverTheWait() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            Thread[] first = new Thread[1];
            CompletableFuture<Object> gaveUp = acquireOnThread(lockFile(path, Duration.ofMillis(300)), first);
            await().atMost(Duration.ofSeconds(30)).until(() -> waitingInTheKernel(first[0]));
            Thread[] second = new Thread[1];
            CompletableFuture<Object> patient = acquireOnThread(lockFile(path, null), second);
            assertThat(gaveUp.get(30, TimeUnit.SECONDS)).isInstanceOf(LockTimeoutException.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> waitingInTheKernel(second[0]));
            CompletableFuture<Lock> async = lockFile(path, null).acquireAsync();
            assertThat(threadsWaitingInTheKernel()).as("only the head's own thread waits").containsExactly(second[0]);
            holder.send("release");
            assertThat(patient.get(30, TimeUnit.SECONDS)).isEqualTo("acquired true");
            async.get(30, TimeUnit.SECONDS).close();
        }
    }

    @Test
    void anAsynchronousWaiterWaitsOnALibraryThreadAndItsCancellationEndsTheWait() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            CompletableFuture<Lock> pending = lockFile(path, null).acquireAsync();
            await().atMost(Duration.ofSeconds(30)).until(() -> ioTasks.get() == 1);
            pending.cancel(false);
            // The wait has left the kernel: the next acquisition starts a wait of its own.
            CompletableFuture<Lock> next = lockFile(path, null).acquireAsync();
            await().atMost(Duration.ofSeconds(30)).until(() -> ioTasks.get() == 2);
            holder.send("release");
            next.get(30, TimeUnit.SECONDS).close();
        }
    }

    @Test
    void readingAndWritingTheLockFileWhileHoldingItDropsNothing() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Lock lock = Locket.lockFile(path).acquire()) {
            Files.readAllBytes(path); // opens and closes another descriptor of the file
            Files.writeString(path, "pid 42\n", StandardOpenOption.APPEND);
            try (FileChannel other = FileChannel.open(path, StandardOpenOption.READ)) {
                other.size();
            }
            assertThat(lock.isHeld()).isTrue();
            assertThat(RaceTest.fcntlFreeForAnotherProcess(path)).as("fcntl half still held").isFalse();
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isFalse();
        }
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
    }

    @Test
    void aFileChannelLockInThisJvmAndLocketExcludeEachOther() throws Exception {
        Path path = dir.resolve("a.lock");
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            try (Lock lock = Locket.lockFile(path).acquire()) {
                assertThat(channel.tryLock(0, 1, false)).as("FileChannel while Locket holds").isNull();
            }
            FileLock fl = channel.lock(0, 1, false);
            try {
                assertThat(Locket.lockFile(path).tryAcquire()).as("Locket while FileChannel holds").isEmpty();
                CompletableFuture<Lock> waiting = Locket.lockFile(path).acquireAsync();
                fl.release();
                waiting.get(30, TimeUnit.SECONDS).close();
            } finally {
                if (fl.isValid()) {
                    fl.release();
                }
            }
        }
    }
}
