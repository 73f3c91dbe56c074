package io.github.locket.stress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import io.github.locket.reactor.ReactiveLocket;
import io.github.locket.testing.Children;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.Disposable;
import reactor.core.publisher.Hooks;
import reactor.core.scheduler.Schedulers;

/**
 * The bare {@code Mono<Lock>} that Reactor itself can drop: {@code acquire(f).subscribe(consumer)}
 * disposed in the instant of the grant loses the {@code Lock} to {@code Hooks.onNextDropped}. The
 * garbage-collector backstop must release every such lock and report each one.
 */
final class DroppedLockTest {
    @TempDir
    Path dir;

    @Test
    void locksReactorDropsOnDisposeAreReleasedAfterGarbageCollectionAndEachIsReported() throws Exception {
        Path path = dir.resolve("a.lock");
        LockFile lockFile = Locket.lockFile(path);
        AtomicInteger dropped = new AtomicInteger();
        List<String> warnings = new CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger("io.github.locket");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getMessage() != null && r.getMessage().contains("unreachable while held")) {
                    warnings.add(r.getMessage());
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        log.addHandler(capture);
        // Count what Reactor drops, without keeping it (a kept Lock would never be unreachable).
        Hooks.onNextDropped(value -> {
            if (value instanceof Lock) {
                dropped.incrementAndGet();
            }
        });
        try {
            try (Children churn = Children.start("churn", path.toString(), "50", "400")) {
                churn.expect("STARTED");
                ThreadLocalRandom random = ThreadLocalRandom.current();
                for (int i = 0; i < 10_000; i++) {
                    Disposable d = ReactiveLocket.acquire(lockFile).subscribeOn(Schedulers.parallel()).subscribe(Lock::close);
                    long until = System.nanoTime() + random.nextLong(0, 300_000);
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    d.dispose();
                }
                churn.send("stop");
                // The churning process may be waiting for a lock Reactor dropped here, which only
                // the garbage collector releases: collect until it has stopped.
                AtomicReference<String> stopped = new AtomicReference<>();
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    System.gc();
                    String line = churn.poll(Duration.ofMillis(200));
                    if (line != null) {
                        stopped.set(line);
                    }
                    return stopped.get() != null;
                });
                assertThat(stopped.get()).startsWith("STOPPED");
            }
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
                System.gc();
                return warnings.size() >= dropped.get() && Children.freeAsSeenFromAnotherProcess(path);
            });
            assertThat(warnings).as("one report per dropped lock (%d dropped)", dropped.get()).hasSize(dropped.get());
            Figures.record("Dropped locks: " + dropped.get() + " of 10,000 disposed acquisitions lost by Reactor,"
                    + " each released after GC and reported", List.of());
        } finally {
            Hooks.resetOnNextDropped();
            log.removeHandler(capture);
        }
    }
}
