package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.locket.testing.Children;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per race of the v0.1 core, each made to happen through a seam ({@link Env} with an
 * injected {@link FileOpener}, a second copy of the library, a dropped handle) rather than hoped
 * for by repetition.
 */
final class RaceTest {
    @TempDir
    Path dir;

    /** Threads of the test's own: the common pool may have a single worker on 2 cores. */
    private final java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newCachedThreadPool();

    @org.junit.jupiter.api.AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    private LockFile lockFile(Path path, Env env) {
        return new LockFile(path, null, env);
    }

    /** Problem 1: a rename over the path between the open and the identity. */
    @Test
    void aFileRenamedOverThePathDuringTheFirstOpenNeverYieldsALockOnAnotherFile() throws Exception {
        Path path = dir.resolve("a.lock");
        Files.createFile(path);
        Path other = Files.createFile(dir.resolve("other"));
        AtomicBoolean renamed = new AtomicBoolean();
        FileOpener.Step renameOnce = p -> {
            if (renamed.compareAndSet(false, true)) {
                Files.move(other, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        };
        for (Sys binding : bindings()) {
            renamed.set(false);
            if (Files.notExists(other)) {
                Files.createFile(other);
            }
            Env env = Env.with(FileOpener.standard(binding, Platform.flock(), renameOnce));
            try (Lock lock = lockFile(path, env).acquire()) {
                assertThat(renamed).isTrue();
                assertThat(lock.fileGrant().entry.key).as("the entry names the file the path names")
                        .isEqualTo(Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class).fileKey());
                assertThat(Children.freeAsSeenFromAnotherProcess(path)).as("binding " + binding).isFalse();
                assertThat(fcntlFreeForAnotherProcess(path)).as("fcntl half, binding " + binding).isFalse();
            }
        }
    }

    /** The native binding when there is one, and the by-path fallback always. */
    private static List<Sys> bindings() {
        List<Sys> all = new ArrayList<>();
        all.add(null);
        if (Platform.sys() != null) {
            all.add(Platform.sys());
        }
        return all;
    }

    /**
     * Problem 2: the OS refuses to release; a {@code tryAcquire} racing into that failure either
     * waits for the close or is granted on a fresh descriptor, and what it gets is really held.
     */
    @Test
    void aFailedReleaseClosesAtomicallySoALockGrantedMeanwhileIsReallyHeld() throws Exception {
        Path path = dir.resolve("a.lock");
        AtomicReference<LockFile> racer = new AtomicReference<>();
        CompletableFuture<Optional<Lock>> raced = new CompletableFuture<>();
        AtomicInteger failures = new AtomicInteger();
        FileOpener standard = Env.standardOpener(FileOpener.Step.NONE);
        FileOpener failingOnce = (p, env) -> {
            return new DelegatingOsLock(standard.open(p, env)) {
                @Override
                void unlock() throws IOException {
                    super.unlock();
                    if (failures.getAndIncrement() == 0) {
                        // The racer runs now, while the failing release is under way.
                        new Thread(() -> {
                            try {
                                raced.complete(racer.get().tryAcquire());
                            } catch (IOException e) {
                                raced.completeExceptionally(e);
                            }
                        }).start();
                        throw new IOException("injected unlock failure");
                    }
                }
            };
        };
        Env env = Env.with(failingOnce);
        LockFile lockFile = lockFile(path, env);
        racer.set(lockFile);
        Lock first = lockFile.acquire();
        assertThatThrownBy(first::close).isInstanceOf(UncheckedIOException.class)
                .hasMessageContaining(path.toString()).hasMessageContaining("injected");
        assertThat(first.isHeld()).isFalse();
        first.close(); // idempotent, even after a failure
        Optional<Lock> second = raced.get(10, TimeUnit.SECONDS);
        Lock held = second.isPresent() ? second.get() : lockFile.tryAcquire().orElseThrow();
        assertThat(held.isHeld()).isTrue();
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).as("really held").isFalse();
        held.close();
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
    }

    /**
     * Problem 3: a grant callback that releases and then acquires again, blocking, is served: the
     * waiter its release granted is not held back until the callback returns.
     */
    @Test
    void aCallbackThatReleasesAndAcquiresAgainIsNotHeldHostageByItsOwnDelivery() throws Exception {
        LockFile lockFile = Locket.lockFile(dir.resolve("a.lock"), Duration.ofSeconds(10));
        Lock held = lockFile.acquire();
        CompletableFuture<String> first = lockFile.acquireAsync().thenApply(lock -> {
            lock.close(); // grants the second waiter, which closes at once
            try (Lock again = lockFile.acquire()) {
                return "acquired again";
            } catch (IOException | InterruptedException e) {
                return e.toString();
            }
        });
        CompletableFuture<Void> second = lockFile.acquireAsync().thenAccept(Lock::close);
        held.close(); // both callbacks run on this thread, nested
        assertThat(first.get(20, TimeUnit.SECONDS)).isEqualTo("acquired again");
        second.get(10, TimeUnit.SECONDS);
    }

    /** Problem 4: a dropped handle is released by the garbage collector, with a warning. */
    @Test
    void aLockDroppedWhileHeldIsReleasedAfterGarbageCollectionAndReported() throws Exception {
        Path path = dir.resolve("dropped.lock");
        List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger("io.github.locket");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                warnings.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        log.addHandler(capture);
        try {
            acquireAndDrop(path);
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isFalse();
            LockFile lockFile = Locket.lockFile(path);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                System.gc();
                Optional<Lock> lock = lockFile.tryAcquire();
                lock.ifPresent(Lock::close);
                return lock.isPresent();
            });
            assertThat(warnings).anySatisfy(m -> assertThat(m).contains(path.toString()).contains("unreachable while held"));
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
        } finally {
            log.removeHandler(capture);
        }
    }

    private static void acquireAndDrop(Path path) throws Exception {
        Locket.lockFile(path).acquire(); // never closed
    }

    /** Problem 5: a first open that blocks in the file system stalls no other file's first open. */
    @Test
    void aSlowFirstOpenDoesNotBlockTheFirstOpenOfAnotherFile() throws Exception {
        Path slow = dir.resolve("slow.lock");
        CountDownLatch inOpen = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        FileOpener standard = Env.standardOpener(FileOpener.Step.NONE);
        Env env = Env.with((p, environment) -> {
            if (p.equals(slow)) {
                inOpen.countDown();
                try {
                    proceed.await();
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
            }
            return standard.open(p, environment);
        });
        CompletableFuture<Lock> stalled = CompletableFuture.supplyAsync(() -> {
            try {
                return lockFile(slow, env).acquire();
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, threads);
        try {
            assertThat(inOpen.await(10, TimeUnit.SECONDS)).isTrue();
            CompletableFuture<Optional<Lock>> other = CompletableFuture.supplyAsync(() -> {
                try {
                    return lockFile(dir.resolve("fast.lock"), env).tryAcquire();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, threads);
            other.get(10, TimeUnit.SECONDS).orElseThrow().close();
            assertThat(stalled).isNotDone();
        } finally {
            proceed.countDown();
        }
        stalled.get(10, TimeUnit.SECONDS).close();
    }

    /**
     * Problem 6: a second copy of the library in this JVM (another class loader) waits for a
     * lock this copy holds instead of failing, and its sweep of idle descriptors does not drop
     * this copy's lock.
     */
    @Test
    void aSecondCopyOfTheLibraryWaitsForTheLockAndItsSweepDropsNothing() throws Exception {
        Path path = dir.resolve("a.lock");
        try (URLClassLoader copy = new ChildFirst(Locket.class.getProtectionDomain().getCodeSource().getLocation())) {
            Class<?> locket = copy.loadClass("io.github.locket.Locket");
            assertThat(locket).isNotSameAs(Locket.class);
            Method lockFile = locket.getMethod("lockFile", Path.class, Duration.class);
            Class<?> lockFileClass = copy.loadClass("io.github.locket.LockFile");
            Method acquire = lockFileClass.getMethod("acquire");
            Method close = copy.loadClass("io.github.locket.Lock").getMethod("close");

            // The copy opens the file first and leaves its descriptor idle.
            close.invoke(acquire.invoke(lockFile.invoke(null, path, Duration.ofSeconds(5))));
            Lock held = Locket.lockFile(path).acquire();
            // Its sweep runs while this copy holds the lock: enough other files to sweep twice.
            for (int i = 0; i < 3 * Registry.MIN_SWEEP; i++) {
                close.invoke(acquire.invoke(lockFile.invoke(null, dir.resolve("other-" + i), Duration.ofSeconds(5))));
            }
            assertThat(fcntlFreeForAnotherProcess(path)).as("fcntl half still held after the copy's sweep").isFalse();

            CompletableFuture<Object> copyWaits = CompletableFuture.supplyAsync(() -> {
                try {
                    return acquire.invoke(lockFile.invoke(null, path, Duration.ofSeconds(30)));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e.getCause());
                }
            }, threads);
            assertThatThrownBy(() -> copyWaits.get(200, TimeUnit.MILLISECONDS))
                    .isInstanceOf(java.util.concurrent.TimeoutException.class); // waiting, not failing
            held.close();
            close.invoke(copyWaits.get(10, TimeUnit.SECONDS));
        }
    }

    /**
     * Whether another program gets the fcntl half alone: Python's {@code fcntl.lockf} (a POSIX
     * record lock, as Java's {@code FileChannel}), which the flock half cannot hide.
     */
    static boolean fcntlFreeForAnotherProcess(Path path) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/usr/bin/python3", "-c",
                "import fcntl, sys\nf = open(sys.argv[1], 'a')\ntry:\n    fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)\n"
                        + "    print('FREE')\nexcept OSError:\n    print('BUSY')", path.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        assertThat(p.waitFor()).as(out).isZero();
        assertThat(out).isIn("FREE", "BUSY");
        return out.equals("FREE");
    }

    /** Loads Locket's own classes itself (a second copy); everything else from the parent. */
    private static final class ChildFirst extends URLClassLoader {
        ChildFirst(URL classes) {
            super(new URL[] {classes}, RaceTest.class.getClassLoader());
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("io.github.locket.") || name.startsWith("io.github.locket.testing.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : findClass(name);
            }
        }
    }

    /**
     * Problem 7: an interrupt that comes with the grant ends {@code acquire()} with {@link
     * InterruptedException} and leaves the lock free, on virtual threads (where the JDK offers
     * them) as on platform threads.
     */
    @Test
    void anInterruptArrivingWithTheGrantAlwaysWins() throws Exception {
        LockFile lockFile = Locket.lockFile(dir.resolve("a.lock"));
        for (boolean virtual : virtualThreadsAvailable() ? new boolean[] {false, true} : new boolean[] {false}) {
            for (int i = 0; i < 100; i++) {
                Lock held = lockFile.acquire();
                CompletableFuture<String> outcome = new CompletableFuture<>();
                Runnable body = () -> {
                    try {
                        lockFile.acquire().close();
                        outcome.complete("acquired");
                    } catch (InterruptedException e) {
                        outcome.complete("interrupted");
                    } catch (Throwable t) {
                        outcome.complete(t.toString());
                    }
                };
                Thread t = virtual ? startVirtual(body) : startPlatform(body);
                await().pollInterval(Duration.ofMillis(1)).until(() -> t.getState() == Thread.State.WAITING);
                t.interrupt();
                held.close(); // grants the waiter in the same instant as the interrupt
                assertThat(outcome.get(10, TimeUnit.SECONDS)).as((virtual ? "virtual" : "platform") + " #" + i)
                        .isEqualTo("interrupted");
                lockFile.tryAcquire().orElseThrow(() -> new AssertionError("left held")).close();
            }
        }
    }

    private static boolean virtualThreadsAvailable() {
        return Runtime.version().feature() >= 21;
    }

    private static Thread startPlatform(Runnable body) {
        Thread t = new Thread(body);
        t.start();
        return t;
    }

    private static Thread startVirtual(Runnable body) throws ReflectiveOperationException {
        return (Thread) Thread.class.getMethod("startVirtualThread", Runnable.class).invoke(null, body);
    }

    /**
     * Problem 8: out of descriptors, the registry gives back its idle ones and tries again, so a
     * new lock file can be locked once the held locks are released.
     */
    @Test
    void runningOutOfDescriptorsEvictsIdleEntriesAndRetries() throws Exception {
        int limit = 8;
        AtomicInteger open = new AtomicInteger();
        FileOpener standard = Env.standardOpener(FileOpener.Step.NONE);
        Env env = Env.with((p, environment) -> {
            if (open.get() >= limit) {
                throw new FileSystemException(p.toString(), null, "Too many open files");
            }
            return counted(standard.open(p, environment), open);
        });
        for (int i = 0; i < limit; i++) {
            lockFile(dir.resolve(i + ".lock"), env).acquire().close();
        }
        assertThat(open).hasValue(limit);
        try (Lock lock = lockFile(dir.resolve("one-more.lock"), env).acquire()) {
            assertThat(lock.isHeld()).isTrue();
        }
        assertThat(open.get()).isLessThanOrEqualTo(1);
        assertThat(env.registry.size()).isEqualTo(1);
    }

    /**
     * Two first opens of one file race: the loser's descriptors cannot be closed while a lock is
     * held through the winner's (POSIX would drop it), but they are closed as soon as the file is
     * idle, not kept for as long as the file stays in use.
     */
    @Test
    void theDescriptorsOfALosingFirstOpenAreClosedOnceTheFileIsIdle() throws Exception {
        AtomicInteger open = new AtomicInteger();
        CountDownLatch bothOpened = new CountDownLatch(2);
        FileOpener standard = Env.standardOpener(FileOpener.Step.NONE);
        Env env = Env.with((p, environment) -> {
            OsLock h = counted(standard.open(p, environment), open);
            bothOpened.countDown();
            try {
                bothOpened.await(10, TimeUnit.SECONDS); // neither registers before both have opened
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
            return h;
        });
        LockFile lockFile = lockFile(dir.resolve("a.lock"), env);
        List<CompletableFuture<Void>> racers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            racers.add(CompletableFuture.runAsync(() -> {
                try {
                    lockFile.acquire().close();
                } catch (IOException | InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, threads));
        }
        for (CompletableFuture<Void> racer : racers) {
            racer.get(10, TimeUnit.SECONDS);
        }
        assertThat(open).as("descriptors open").hasValue(1);
        assertThat(env.registry.size()).isEqualTo(1);
    }

    /** {@code h}, counted in {@code open} until closed. */
    private static OsLock counted(OsLock h, AtomicInteger open) {
        open.incrementAndGet();
        return new DelegatingOsLock(h) {
            @Override
            void close() {
                super.close();
                open.decrementAndGet();
            }
        };
    }
}
