package io.github.locket.testing;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The other process in cross-process tests: a real JVM started by {@link Children}. It reports on
 * stdout, one line per event, and takes orders on stdin.
 *
 * <ul>
 *   <li>{@code hold PATH}: acquire, print {@code LOCKED}, release on the line {@code release} (or
 *       stdin EOF), print {@code RELEASED}, exit.
 *   <li>{@code probe PATH}: one attempt; print {@code FREE} (and release), {@code BUSY}, or
 *       {@code ERROR <exception>}.
 *   <li>{@code wait PATH MILLIS}: acquire with that timeout; print {@code LOCKED} then release, or
 *       {@code TIMEOUT}.
 *   <li>{@code count PATH COUNTER THREADS ITERATIONS}: each thread increments the counter file
 *       under the lock; print {@code DONE}.
 *   <li>{@code protocols PATH}: print {@code PROTOCOLS} and {@link Locket#protocols()}, then as
 *       {@code hold}.
 *   <li>{@code churn PATH MIN_MICROS MAX_MICROS}: take and release the lock in a loop, holding
 *       it between those times, until stdin says {@code stop}; print {@code STARTED} and then
 *       {@code STOPPED n}.
 *   <li>{@code loop PATH COUNTER LOG MIN_MICROS MAX_MICROS}: for the fault tests, loop until
 *       killed (or stdin EOF): write-ahead log lines {@code waiting n}, {@code granted n}, {@code
 *       done n v} (after writing {@code v} to the counter, crash-safely), {@code released n}, each
 *       one {@code write(2)} to LOG, so a SIGKILL loses nothing already logged. Prints {@code
 *       STARTED}.
 *   <li>{@code exit-holding PATH}: acquire, print {@code LOCKED}, and on any stdin line call
 *       {@code System.exit(0)} without releasing.
 *   <li>{@code throw-holding PATH}: acquire, print {@code LOCKED}, and on any stdin line let an
 *       exception escape {@code main} without releasing.
 *   <li>{@code thread-dies-holding PATH}: a thread acquires and dies of an uncaught exception;
 *       print {@code DIED}; exit normally on any stdin line.
 *   <li>{@code threads PATH}: with the lock held elsewhere, start every kind of library thread
 *       (OS wait, timer, orphaned wait, one-shot async attempt), print {@code WAITING}; on a stdin
 *       line take the lock, then print {@code THREADS name:daemon|user...} of threads started.
 *   <li>{@code pending PATH WAITERS}: start WAITERS acquisitions that cannot be granted (async,
 *       half of them timed), print {@code PENDING}, and return from {@code main}.
 *   <li>{@code hold-as PATH shared|exclusive}: one attempt in that mode; if busy, print {@code
 *       WAITING} and acquire, waiting as long as it takes; then as {@code hold}.
 *   <li>{@code probe-as PATH shared|exclusive}: as {@code probe}, in that mode.
 *   <li>{@code channel-hold PATH shared|exclusive}: the same as {@code hold-as} without Locket: a
 *       JDK {@code FileChannel} (read and write) and its {@code tryLock(0, 1, shared)}, then
 *       {@code lock(0, 1, shared)}: a classic POSIX record lock.
 *   <li>{@code channel-probe PATH shared|exclusive}: one {@code FileChannel.tryLock(0, 1,
 *       shared)}; print {@code FREE} (and release) or {@code BUSY}.
 * </ul>
 */
public final class Child {
    private Child() {}

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[1]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        switch (args[0]) {
            case "protocols":
                say("PROTOCOLS " + Locket.protocols().stream().map(Enum::name).sorted().collect(Collectors.joining(",")));
                hold(path, in);
                break;
            case "hold":
                hold(path, in);
                break;
            case "probe": {
                Optional<Lock> lock;
                try {
                    lock = Locket.lockFile(path).tryAcquire();
                } catch (java.io.IOException e) {
                    say("ERROR " + e);
                    break;
                }
                say(lock.isPresent() ? "FREE" : "BUSY");
                lock.ifPresent(Lock::close);
                break;
            }
            case "wait": {
                try (Lock lock = Locket.lockFile(path, Duration.ofMillis(Long.parseLong(args[2]))).acquire()) {
                    say("LOCKED");
                } catch (LockTimeoutException e) {
                    say("TIMEOUT");
                }
                break;
            }
            case "count": {
                Path counter = Path.of(args[2]);
                int threads = Integer.parseInt(args[3]);
                int iterations = Integer.parseInt(args[4]);
                LockFile lockFile = Locket.lockFile(path);
                List<Thread> all = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    Thread thread = new Thread(() -> {
                        try {
                            for (int i = 0; i < iterations; i++) {
                                try (Lock lock = lockFile.acquire()) {
                                    long n = Long.parseLong(Files.readString(counter).trim());
                                    Files.writeString(counter, Long.toString(n + 1));
                                }
                            }
                        } catch (Exception e) {
                            e.printStackTrace();
                            System.exit(3);
                        }
                    });
                    thread.start();
                    all.add(thread);
                }
                for (Thread thread : all) {
                    thread.join();
                }
                say("DONE");
                break;
            }
            case "churn": {
                int minMicros = Integer.parseInt(args[2]);
                int maxMicros = Integer.parseInt(args[3]);
                LockFile lockFile = Locket.lockFile(path);
                Thread stopper = new Thread(() -> {
                    try {
                        in.readLine();
                    } catch (Exception ignored) {
                        // EOF or error: stop either way
                    }
                });
                stopper.start();
                say("STARTED");
                long n = 0;
                while (stopper.isAlive()) {
                    try (Lock lock = lockFile.acquire()) {
                        n++;
                        long until = System.nanoTime() + 1000L * (minMicros + n % (maxMicros - minMicros + 1));
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                    }
                }
                say("STOPPED " + n);
                break;
            }
            case "loop":
                loop(path, Path.of(args[2]), Path.of(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]), in);
                break;
            case "exit-holding": {
                Locket.lockFile(path).acquire();
                say("LOCKED");
                in.readLine();
                System.exit(0);
                break;
            }
            case "throw-holding": {
                Locket.lockFile(path).acquire();
                say("LOCKED");
                in.readLine();
                throw new IllegalStateException("dying with the lock held");
            }
            case "thread-dies-holding": {
                Thread t = new Thread(() -> {
                    try {
                        Locket.lockFile(path).acquire();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    throw new IllegalStateException("thread dying with the lock held");
                });
                t.start();
                t.join();
                say("DIED");
                in.readLine();
                break;
            }
            case "pending": {
                int waiters = Integer.parseInt(args[2]);
                for (int i = 0; i < waiters; i++) {
                    LockFile lockFile = i % 2 == 0 ? Locket.lockFile(path) : Locket.lockFile(path, Duration.ofHours(1));
                    if (lockFile.acquireAsync().isDone()) {
                        throw new IllegalStateException("granted: the test should hold the lock");
                    }
                }
                say("PENDING");
                break; // main returns with the waiters queued: the JVM must exit all the same
            }
            case "threads": {
                // With the lock held by the test: every kind of library thread, in a fresh JVM.
                java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
                java.util.concurrent.CompletableFuture<Lock> untimed = Locket.lockFile(path).acquireAsync(); // OS wait
                try {
                    Locket.lockFile(path, Duration.ofMillis(50)).acquire().close(); // timer
                    say("ERROR granted while the test holds the lock");
                    break;
                } catch (LockTimeoutException expected) {
                    // as intended
                }
                untimed.cancel(false); // the orphaned OS wait is stopped on a library thread
                try {
                    Locket.lockFile(path, Duration.ZERO).acquireAsync().get(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException expected) {
                    // busy: the one attempt ran off this thread
                }
                java.util.concurrent.CompletableFuture<Lock> waiting =
                        Locket.lockFile(path, Duration.ofSeconds(60)).acquireAsync();
                say("WAITING");
                in.readLine();
                waiting.get(30, java.util.concurrent.TimeUnit.SECONDS).close();
                StringBuilder started = new StringBuilder("THREADS");
                for (Thread t : Thread.getAllStackTraces().keySet()) {
                    if (!before.contains(t)) {
                        started.append(' ').append(t.getName().replace(' ', '_')).append(t.isDaemon() ? ":daemon" : ":user");
                    }
                }
                say(started.toString());
                break;
            }
            case "hold-as": {
                LockFile lockFile = mode(Locket.lockFile(path), args[2]);
                Optional<Lock> free = lockFile.tryAcquire();
                if (free.isEmpty()) {
                    say("WAITING");
                }
                Lock lock = free.isPresent() ? free.get() : lockFile.acquire();
                say("LOCKED");
                awaitRelease(in);
                lock.close();
                say("RELEASED");
                break;
            }
            case "probe-as": {
                Optional<Lock> lock = mode(Locket.lockFile(path), args[2]).tryAcquire();
                say(lock.isPresent() ? "FREE" : "BUSY");
                lock.ifPresent(Lock::close);
                break;
            }
            case "channel-hold": {
                boolean shared = shared(args[2]);
                try (FileChannel channel = channel(path)) {
                    FileLock lock = channel.tryLock(0, 1, shared);
                    if (lock == null) {
                        say("WAITING");
                        lock = channel.lock(0, 1, shared);
                    }
                    say("LOCKED");
                    awaitRelease(in);
                    lock.release();
                }
                say("RELEASED");
                break;
            }
            case "channel-probe": {
                try (FileChannel channel = channel(path)) {
                    FileLock lock = channel.tryLock(0, 1, shared(args[2]));
                    say(lock != null ? "FREE" : "BUSY");
                }
                break;
            }
            default:
                throw new IllegalArgumentException("unknown command: " + args[0]);
        }
    }

    private static void hold(Path path, BufferedReader in) throws Exception {
        Lock lock = Locket.lockFile(path).acquire();
        say("LOCKED");
        awaitRelease(in);
        lock.close();
        say("RELEASED");
    }

    /** Returns when stdin says {@code release}, or ends. */
    private static void awaitRelease(BufferedReader in) throws java.io.IOException {
        for (String line; (line = in.readLine()) != null && !line.equals("release"); ) {
            // wait for the order
        }
    }

    private static boolean shared(String mode) {
        switch (mode) {
            case "shared":
                return true;
            case "exclusive":
                return false;
            default:
                throw new IllegalArgumentException("mode must be shared or exclusive, not " + mode);
        }
    }

    private static LockFile mode(LockFile lockFile, String mode) {
        return shared(mode) ? lockFile.shared() : lockFile;
    }

    /** Read and write: a shared lock needs a readable channel. */
    private static FileChannel channel(Path path) throws java.io.IOException {
        return FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
    }

    private static void loop(Path path, Path counter, Path log, int minMicros, int maxMicros, BufferedReader in)
            throws Exception {
        Thread watchdog = new Thread(() -> {
            try {
                while (in.readLine() != null) {
                    // only EOF matters: the test is gone
                }
            } catch (java.io.IOException ignored) {
                // as EOF
            }
            Runtime.getRuntime().halt(0);
        });
        watchdog.setDaemon(true);
        watchdog.start();
        LockFile lockFile = Locket.lockFile(path);
        Path tmp = counter.resolveSibling(counter.getFileName() + ".tmp");
        java.util.Random random = new java.util.Random();
        try (java.io.FileOutputStream out = new java.io.FileOutputStream(log.toFile(), true)) {
            say("STARTED");
            for (long n = 1; ; n++) {
                logLine(out, "waiting " + n);
                try (Lock lock = lockFile.acquire()) {
                    logLine(out, "granted " + n);
                    long v = Long.parseLong(Files.readString(counter).trim()) + 1;
                    Files.writeString(tmp, Long.toString(v)); // a kill here leaves the counter whole
                    Files.move(tmp, counter, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                    logLine(out, "done " + n + " " + v);
                    long until = System.nanoTime() + 1000L * (minMicros + random.nextInt(maxMicros - minMicros + 1));
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                }
                logLine(out, "released " + n);
            }
        }
    }

    /** One write(2): a line logged survives SIGKILL of this process. */
    private static void logLine(java.io.FileOutputStream out, String line) throws java.io.IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
