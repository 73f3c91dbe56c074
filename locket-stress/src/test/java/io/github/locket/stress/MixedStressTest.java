package io.github.locket.stress;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.locket.testing.Children;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stress test of docs/guarantees.md: {@value #JVMS} JVMs of {@value #THREADS} threads each
 * acquire one lock in every way Locket offers (blocking, {@code CompletableFuture}, Reactor), with
 * random timeouts, cancellations and interrupts, for {@code -Dlocket.stress.duration} (default 90
 * seconds). Every granted critical section increments a counter file.
 *
 * <p>Afterwards: the counter equals the number of granted sections summed over the JVMs (no
 * update lost, so no two sections overlapped); no JVM saw two of its own sections overlap; a fresh
 * process finds the lock free; and in every JVM, once Locket's idle threads retired, threads are
 * back to the baseline taken after a warm-up, with no {@code locket-*} thread left, descriptors
 * within {@value #FD_SLACK} of it (the lock file's cached descriptors) and heap after GC within
 * {@value #HEAP_SLACK_MIB} MiB.
 */
final class MixedStressTest {
    static final int JVMS = 4;
    static final int THREADS = 4;
    static final int FD_SLACK = 2;
    static final int HEAP_SLACK_MIB = 32;

    @TempDir
    Path dir;

    @Test
    void fourJvmsOfFourThreadsMixingEveryWayToAcquireLoseNoUpdateAndLeakNothing() throws Exception {
        Duration duration = Duration.parse(System.getProperty("locket.stress.duration", "PT90S"));
        Path lock = dir.resolve("stress.lock");
        Path counter = Files.writeString(dir.resolve("counter"), "0");
        List<Children> jvms = new ArrayList<>();
        List<String> report = new ArrayList<>();
        long granted = 0;
        long gaveUp = 0;
        try {
            for (int i = 0; i < JVMS; i++) {
                jvms.add(Children.startClass(StressChild.class, List.of(), lock.toString(), counter.toString(),
                        Long.toString(duration.toMillis()), Integer.toString(THREADS)));
            }
            List<Map<String, Long>> baselines = new ArrayList<>();
            for (Children jvm : jvms) {
                baselines.add(fields(jvm.expect("BASELINE")));
            }
            for (int i = 0; i < JVMS; i++) {
                Children jvm = jvms.get(i);
                String done = jvm.expect("DONE", duration.plusMinutes(2));
                Map<String, Long> d = fields(done);
                granted += d.get("granted");
                gaveUp += d.get("gaveUp");
                assertThat(d.get("overlapsSeenInThisJvm")).as(done).isZero();
                String after = jvm.expect("AFTER");
                Map<String, Long> a = fields(after);
                Map<String, Long> b = baselines.get(i);
                report.add("jvm " + i + ": " + done + "\n  baseline " + b + "\n  after    " + a);
                assertThat(a.get("locketThreads")).as(after).isZero();
                assertThat(a.get("threads")).as("threads, baseline %s", b).isLessThanOrEqualTo(b.get("threads"));
                assertThat(a.get("fds")).as("descriptors, baseline %s", b).isLessThanOrEqualTo(b.get("fds") + FD_SLACK);
                assertThat(a.get("heap")).as("heap after GC, baseline %s", b)
                        .isLessThanOrEqualTo(b.get("heap") + HEAP_SLACK_MIB * 1024L * 1024L);
                assertThat(jvm.waitFor()).isZero();
            }
        } finally {
            jvms.forEach(Children::close);
        }
        long count = Long.parseLong(Files.readString(counter).trim());
        boolean free = Children.freeAsSeenFromAnotherProcess(lock);
        String summary = String.format("mixed stress: %d JVMs x %d threads for %s: granted %d sections, gave up %d"
                + " (timeouts, cancellations, interrupts); counter %d; free afterwards: %s",
                JVMS, THREADS, duration, granted, gaveUp, count, free);
        Figures.record(summary, report);
        assertThat(count).as("counter = granted sections").isEqualTo(granted);
        assertThat(granted).as("sections granted").isPositive();
        assertThat(gaveUp).as("timeouts, cancellations and interrupts exercised").isPositive();
        assertThat(free).as("lock free as seen from a fresh process").isTrue();
    }

    /** {@code KEY=NUMBER} pairs of a report line (other words are ignored). */
    static Map<String, Long> fields(String line) {
        Map<String, Long> m = new HashMap<>();
        for (String word : line.split(" ")) {
            int eq = word.indexOf('=');
            if (eq > 0 && word.substring(eq + 1).matches("-?\\d+")) {
                m.put(word.substring(0, eq), Long.parseLong(word.substring(eq + 1)));
            }
        }
        return m;
    }
}
