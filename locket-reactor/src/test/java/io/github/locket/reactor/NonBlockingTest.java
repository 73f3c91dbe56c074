package io.github.locket.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.locket.testing.Children;
import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * Runs with BlockHound installed (blockhound-junit-platform), which fails any blocking call on a
 * non-blocking thread such as {@code Schedulers.parallel()}. The canaries prove it is active and
 * that it knows file locks; the rest prove Locket never blocks such a thread.
 */
final class NonBlockingTest {
    @TempDir
    Path dir;

    @Test
    void canaryBlockHoundIsActive() {
        StepVerifier.create(Mono.delay(Duration.ofMillis(1)).doOnNext(x -> {
                    try {
                        Thread.sleep(1);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }))
                .expectError(BlockingOperationError.class)
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void canaryARawFileChannelLockOnAParallelThreadIsCaught() {
        Path raw = dir.resolve("raw.lock"); // never locked through Locket
        StepVerifier.create(Mono.fromCallable(() -> {
                    try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                        ch.lock(0, 1, false).release();
                    }
                    return 1;
                }).subscribeOn(Schedulers.parallel()))
                .expectError(BlockingOperationError.class)
                .verify(Duration.ofSeconds(10));
    }

    @Test
    void contendedInThisJvmOnParallelThreads() throws Exception {
        LockFile lockFile = Locket.lockFile(dir.resolve("a.lock"));
        Lock held = lockFile.acquire();
        Mono<String> run = ReactiveLocket.withLock(lockFile, lock -> Mono.just(Thread.currentThread().getName()))
                .subscribeOn(Schedulers.parallel());
        StepVerifier.create(run)
                .then(() -> Schedulers.parallel().schedule(held::close))
                .assertNext(thread -> assertThat(thread).startsWith("parallel-"))
                .verifyComplete();
    }

    @Test
    void grantedByTheOsTheBodyRunsOnAParallelThreadNeverOnLocketsOwn() throws Exception {
        Path path = dir.resolve("a.lock");
        AtomicReference<String> bodyThread = new AtomicReference<>();
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            Mono<Integer> run = ReactiveLocket.withLock(Locket.lockFile(path, Duration.ofSeconds(60)), lock -> {
                bodyThread.set(Thread.currentThread().getName());
                return Mono.just(1);
            }).subscribeOn(Schedulers.parallel());
            StepVerifier.create(run)
                    .expectSubscription()
                    .then(() -> send(holder, "release"))
                    .expectNext(1)
                    .verifyComplete();
        }
        assertThat(bodyThread.get()).startsWith("parallel-");
    }

    @Test
    void timeoutsAndCancellationsAgainstAnotherProcessOnParallelThreads() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            StepVerifier.create(ReactiveLocket.acquire(Locket.lockFile(path, Duration.ofMillis(30)))
                            .subscribeOn(Schedulers.parallel()))
                    .expectError(LockTimeoutException.class)
                    .verify(Duration.ofSeconds(10));
            StepVerifier.create(ReactiveLocket.withLock(Locket.lockFile(path), lock -> Mono.just(1))
                            .subscribeOn(Schedulers.parallel())
                            .timeout(Duration.ofMillis(30)))
                    .expectError(TimeoutException.class)
                    .verify(Duration.ofSeconds(10));
            StepVerifier.create(ReactiveLocket.acquire(Locket.lockFile(path, Duration.ZERO))
                            .subscribeOn(Schedulers.parallel()))
                    .expectError(LockTimeoutException.class)
                    .verify(Duration.ofSeconds(10));
            send(holder, "release");
            holder.expect("RELEASED");
        }
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
    }

    private static void send(Children child, String line) {
        try {
            child.send(line);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
