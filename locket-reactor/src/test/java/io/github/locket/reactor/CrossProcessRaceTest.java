package io.github.locket.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.locket.LockFile;
import io.github.locket.Locket;
import io.github.locket.testing.Children;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Thousands of timeouts and disposals racing grants from another process that takes and releases
 * the lock all the time; afterwards a fresh process must find the lock free.
 */
final class CrossProcessRaceTest {
    @TempDir
    Path dir;

    @Test
    void timeoutsAndDisposalsRacingAnotherProcessLeakNothing() throws Exception {
        Path path = dir.resolve("a.lock");
        LockFile untimed = Locket.lockFile(path);
        LockFile timed = Locket.lockFile(path, Duration.ofNanos(400_000));
        AtomicInteger ran = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        int iterations = 3_000;
        try (Children churn = Children.start("churn", path.toString(), "100", "900")) {
            churn.expect("STARTED");
            ThreadLocalRandom random = ThreadLocalRandom.current();
            for (int i = 0; i < iterations; i++) {
                Mono<Integer> body = Mono.fromCallable(ran::incrementAndGet);
                Duration jitter = Duration.ofNanos(random.nextLong(50_000, 1_000_000));
                switch (i % 4) {
                    case 0: // the LockFile's own timeout, timed by Reactor
                        ReactiveLocket.withLock(timed, lock -> body).onErrorResume(e -> count(failed)).block();
                        break;
                    case 1: // a timeout operator downstream
                        ReactiveLocket.withLock(untimed, lock -> body).timeout(jitter)
                                .onErrorResume(e -> count(failed)).block();
                        break;
                    case 2: { // disposal at a random moment
                        Disposable d = ReactiveLocket.withLock(untimed, lock -> body).subscribe();
                        spin(jitter);
                        d.dispose();
                        break;
                    }
                    default: { // bare acquire, cancelled at a random moment by a subscriber that closes what it gets
                        ClosingSubscriber s = new ClosingSubscriber();
                        ReactiveLocket.acquire(untimed).subscribe(s);
                        spin(jitter);
                        s.dispose();
                        break;
                    }
                }
            }
            churn.send("stop");
            churn.expect("STOPPED");
        }
        assertThat(ran.get()).as("some bodies ran").isPositive();
        assertThat(failed.get()).as("some waits timed out").isPositive();
        // Let in-flight disposals settle (a leak would time out here), then prove from another
        // process that nothing is held.
        Locket.lockFile(path, Duration.ofSeconds(10)).acquire().close();
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
    }

    private static Mono<Integer> count(AtomicInteger failed) {
        failed.incrementAndGet();
        return Mono.empty();
    }

    private static void spin(Duration d) {
        long until = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < until) {
            Thread.onSpinWait();
        }
    }
}
