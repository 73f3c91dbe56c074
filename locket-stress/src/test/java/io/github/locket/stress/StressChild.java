package io.github.locket.stress;

import static org.awaitility.Awaitility.await;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import io.github.locket.reactor.ReactiveLocket;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Mono;

/**
 * One JVM of the stress test: THREADS threads acquire one lock for DURATION_MILLIS in every way
 * Locket offers, at random, with random timeouts, cancellations and interrupts. Each granted
 * critical section reads the counter file, increments it and writes it back, and counts itself.
 *
 * <p>Arguments: {@code LOCK COUNTER DURATION_MILLIS THREADS}. Prints, one line each: {@code
 * BASELINE threads=T locketThreads=0 fds=F heap=H}, {@code DONE granted=G gaveUp=U
 * overlapsSeenInThisJvm=0 <MODE=granted/gaveUp>...}, {@code AFTER ...} as BASELINE, then exits 0;
 * or {@code ERROR ...} and exits 3. Thread names go to stderr with each resource line.
 *
 * <p>The reactive bodies are synchronous ({@code Mono.fromCallable}), so the critical section is
 * one uninterruptible step however a cancellation lands.
 */
public final class StressChild {
    private StressChild() {}

    enum Mode {
        BLOCKING, BLOCKING_TIMED, BLOCKING_ZERO, TRY_ACQUIRE, BLOCKING_INTERRUPTED,
        ASYNC, ASYNC_TIMED, ASYNC_OR_TIMEOUT, ASYNC_CANCELLED,
        REACTIVE_WITH_LOCK_TIMED, REACTIVE_ACQUIRE_DISPOSED, REACTIVE_WITH_LOCK_MANY,
        REACTIVE_WITH_LOCK_TIMEOUT_OPERATOR, REACTIVE_WITH_LOCK_DISPOSED
    }

    /** Outcomes per mode: granted (a critical section ran), gave up (timeout, cancel, interrupt). */
    private static final Map<Mode, AtomicLong> GRANTED = counters();
    private static final Map<Mode, AtomicLong> GAVE_UP = counters();
    private static final AtomicInteger INSIDE = new AtomicInteger();
    private static final AtomicLong OVERLAPS = new AtomicLong();

    private static Path counter;
    private static ScheduledExecutorService interrupter;

    public static void main(String[] args) throws Exception {
        try {
            run(args);
        } catch (Throwable t) {
            System.out.println("ERROR " + t);
            t.printStackTrace();
            System.out.flush();
            System.exit(3);
        }
        System.exit(0);
    }

    private static void run(String[] args) throws Exception {
        Path lockPath = Path.of(args[0]);
        counter = Path.of(args[1]);
        long durationMillis = Long.parseLong(args[2]);
        int threads = Integer.parseInt(args[3]);
        Mode[] modes = Mode.values();
        interrupter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "stress-interrupter");
            t.setDaemon(true);
            return t;
        });
        LockFile untimed = Locket.lockFile(lockPath);

        // Warm up every code path once, uncontended, so that the baseline includes Reactor's
        // schedulers and the lock file's cached descriptors; then let Locket's threads retire.
        for (Mode m : modes) {
            once(m, untimed, lockPath);
        }
        // Threads that the workload starts once and keeps: Reactor's parallel workers (timeouts,
        // grants from other processes) and the JDK's orTimeout scheduler.
        for (int i = 0; i < 4 * Runtime.getRuntime().availableProcessors(); i++) {
            Mono.delay(Duration.ofNanos(1)).block();
        }
        new CompletableFuture<Void>().orTimeout(1, TimeUnit.NANOSECONDS).exceptionally(e -> null).join();
        awaitNoLocketThreads();
        say("BASELINE " + resources());

        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(durationMillis);
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread worker = new Thread(() -> {
                try {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (System.nanoTime() < deadline) {
                        once(modes[random.nextInt(modes.length)], untimed, lockPath);
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "stress-worker-" + t);
            worker.start();
            workers.add(worker);
        }
        for (Thread worker : workers) {
            worker.join();
        }
        if (!failures.isEmpty()) {
            AssertionError e = new AssertionError("a worker failed: " + failures.get(0), failures.get(0));
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
        // Quiesce: bodies started by disposed subscriptions may still run on other threads; one
        // more acquisition waits for whatever holds the lock in this JVM.
        await().atMost(Duration.ofSeconds(60)).until(() -> INSIDE.get() == 0);
        Locket.lockFile(lockPath, Duration.ofSeconds(60)).acquire().close();

        long granted = GRANTED.values().stream().mapToLong(AtomicLong::get).sum();
        long gaveUp = GAVE_UP.values().stream().mapToLong(AtomicLong::get).sum();
        StringBuilder perMode = new StringBuilder();
        for (Mode m : modes) {
            perMode.append(' ').append(m).append('=').append(GRANTED.get(m)).append('/').append(GAVE_UP.get(m));
        }
        say("DONE granted=" + granted + " gaveUp=" + gaveUp + " overlapsSeenInThisJvm=" + OVERLAPS.get() + perMode);

        awaitNoLocketThreads(); // the I/O threads retire after 10 s idle
        say("AFTER " + resources());
    }

    /** One acquisition in the given mode; runs the critical section if granted. */
    private static void once(Mode mode, LockFile untimed, Path lockPath) throws Exception {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        Duration shortTimeout = Duration.ofNanos(random.nextLong(0, 5_000_000));
        switch (mode) {
            case BLOCKING:
                try (Lock lock = untimed.acquire()) {
                    section(mode);
                }
                break;
            case BLOCKING_TIMED:
            case BLOCKING_ZERO: {
                LockFile timed = Locket.lockFile(lockPath, mode == Mode.BLOCKING_ZERO ? Duration.ZERO : shortTimeout);
                try (Lock lock = timed.acquire()) {
                    section(mode);
                } catch (LockTimeoutException e) {
                    gaveUp(mode);
                }
                break;
            }
            case TRY_ACQUIRE: {
                Optional<Lock> lock = untimed.tryAcquire();
                if (lock.isPresent()) {
                    try (Lock held = lock.get()) {
                        section(mode);
                    }
                } else {
                    gaveUp(mode);
                }
                break;
            }
            case BLOCKING_INTERRUPTED:
                blockingInterrupted(untimed, random.nextLong(0, 2_000_000));
                break;
            case ASYNC:
                try (Lock lock = untimed.acquireAsync().get(60, TimeUnit.SECONDS)) {
                    section(mode);
                }
                break;
            case ASYNC_TIMED:
                outcome(mode, Locket.lockFile(lockPath, shortTimeout).acquireAsync());
                break;
            case ASYNC_OR_TIMEOUT:
                outcome(mode, untimed.acquireAsync().orTimeout(random.nextLong(1, 3_000_000), TimeUnit.NANOSECONDS));
                break;
            case ASYNC_CANCELLED: {
                CompletableFuture<Lock> f = untimed.acquireAsync();
                spin(random.nextLong(0, 2_000_000));
                f.cancel(false);
                outcome(mode, f);
                break;
            }
            case REACTIVE_WITH_LOCK_TIMED: {
                Boolean ran = ReactiveLocket.withLock(Locket.lockFile(lockPath, shortTimeout),
                                lock -> Mono.fromCallable(() -> section(mode)))
                        .onErrorResume(LockTimeoutException.class, e -> Mono.just(false))
                        .block(Duration.ofSeconds(60));
                if (!Boolean.TRUE.equals(ran)) {
                    gaveUp(mode);
                }
                break;
            }
            case REACTIVE_ACQUIRE_DISPOSED: {
                // The subscriber owns what it receives: the grant-versus-cancel race is Locket's.
                OwningSubscriber s = new OwningSubscriber(mode);
                ReactiveLocket.acquire(untimed).subscribe(s);
                spin(random.nextLong(0, 2_000_000));
                s.dispose();
                if (!s.received) {
                    gaveUp(mode); // counted now; a section that does run later counts itself
                }
                break;
            }
            case REACTIVE_WITH_LOCK_MANY: {
                Long n = ReactiveLocket.withLockMany(Locket.lockFile(lockPath, shortTimeout),
                                lock -> reactor.core.publisher.Flux.range(0, 2).map(i -> section(mode)))
                        .onErrorResume(LockTimeoutException.class, e -> reactor.core.publisher.Flux.empty())
                        .count()
                        .block(Duration.ofSeconds(60));
                if (n == null || n == 0) {
                    gaveUp(mode);
                }
                break;
            }
            case REACTIVE_WITH_LOCK_TIMEOUT_OPERATOR:
                ReactiveLocket.withLock(untimed, lock -> Mono.fromCallable(() -> section(mode)))
                        .timeout(Duration.ofNanos(random.nextLong(1, 3_000_000)))
                        .onErrorResume(TimeoutException.class, e -> {
                            gaveUp(mode);
                            return Mono.empty();
                        })
                        .block(Duration.ofSeconds(60));
                break;
            case REACTIVE_WITH_LOCK_DISPOSED: {
                Disposable d = ReactiveLocket.withLock(untimed, lock -> Mono.fromCallable(() -> section(mode)))
                        .subscribe();
                spin(random.nextLong(0, 2_000_000));
                d.dispose();
                break;
            }
        }
    }

    /** A blocking acquire interrupted at a random moment, maybe after it was granted. */
    private static void blockingInterrupted(LockFile lockFile, long delayNanos) throws Exception {
        Thread me = Thread.currentThread();
        Object guard = new Object();
        boolean[] armed = {true};
        interrupter.schedule(() -> {
            synchronized (guard) {
                if (armed[0]) {
                    me.interrupt();
                }
            }
        }, delayNanos, TimeUnit.NANOSECONDS);
        Lock lock = null;
        try {
            lock = lockFile.acquire();
        } catch (InterruptedException e) {
            gaveUp(Mode.BLOCKING_INTERRUPTED);
        } finally {
            synchronized (guard) {
                armed[0] = false;
            }
            Thread.interrupted(); // an interrupt that came after the grant: not for the section's I/O
        }
        if (lock != null) {
            try (Lock held = lock) {
                section(Mode.BLOCKING_INTERRUPTED);
            }
        }
    }

    private static void outcome(Mode mode, CompletableFuture<Lock> f) throws Exception {
        Lock lock;
        try {
            lock = f.get(60, TimeUnit.SECONDS);
        } catch (CancellationException e) {
            gaveUp(mode);
            return;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof LockTimeoutException || e.getCause() instanceof TimeoutException) {
                gaveUp(mode);
                return;
            }
            throw e;
        }
        try (Lock held = lock) {
            section(mode);
        }
    }

    /** The critical section: read, increment, write the counter file; count the grant. */
    private static boolean section(Mode mode) {
        if (INSIDE.incrementAndGet() != 1) {
            OVERLAPS.incrementAndGet();
        }
        try {
            long n = Long.parseLong(Files.readString(counter).trim());
            Files.writeString(counter, Long.toString(n + 1));
            GRANTED.get(mode).incrementAndGet();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } finally {
            INSIDE.decrementAndGet();
        }
        return true;
    }

    private static void gaveUp(Mode mode) {
        GAVE_UP.get(mode).incrementAndGet();
    }

    private static final class OwningSubscriber extends BaseSubscriber<Lock> {
        private final Mode mode;
        volatile boolean received;

        OwningSubscriber(Mode mode) {
            this.mode = mode;
        }

        @Override
        protected void hookOnSubscribe(Subscription subscription) {
            subscription.request(1);
        }

        @Override
        protected void hookOnNext(Lock lock) {
            received = true;
            try (lock) {
                section(mode);
            }
        }
    }

    private static void spin(long nanos) {
        long until = System.nanoTime() + nanos;
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }

    private static void awaitNoLocketThreads() {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> locketThreads() == 0);
    }

    private static long locketThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("locket-")).count();
    }

    private static String resources() throws IOException {
        System.gc();
        System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long fds;
        try (var list = Files.list(Path.of("/proc/self/fd"))) {
            fds = list.count();
        }
        try (var list = Files.list(Path.of("/proc/self/fd"))) { // the lock file's, for when the count is off
            System.err.println("stress child descriptors other than JARs: " + list.map(fd -> {
                try {
                    return fd.getFileName() + "->" + Files.readSymbolicLink(fd);
                } catch (IOException gone) {
                    return fd.getFileName() + "->?";
                }
            }).filter(d -> !d.endsWith(".jar") && !d.endsWith("/modules")).collect(java.util.stream.Collectors.joining(", ")));
        }
        System.err.println("stress child threads: " + Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName).sorted().collect(java.util.stream.Collectors.joining(", ")));
        return "threads=" + ManagementFactory.getThreadMXBean().getThreadCount() + " locketThreads=" + locketThreads()
                + " fds=" + fds + " heap=" + heap;
    }

    private static Map<Mode, AtomicLong> counters() {
        Map<Mode, AtomicLong> m = new EnumMap<>(Mode.class);
        for (Mode mode : Mode.values()) {
            m.put(mode, new AtomicLong());
        }
        return m;
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
