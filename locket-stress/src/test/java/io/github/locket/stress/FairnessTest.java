package io.github.locket.stress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.locket.testing.Children;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fairness between processes: two JVMs take and release one lock back to back for {@code
 * -Dlocket.stress.fairness} (default 5 s), holding it 100 to 900 us each time; each must get at
 * least a quarter of the acquisitions. (Within one JVM waiters are served in arrival order:
 * LockFileTest.waitersInThisJvmAreServedInArrivalOrder.)
 */
final class FairnessTest {
    @TempDir
    Path dir;

    @Test
    void twoProcessesContendingContinuouslyEachGetAtLeastAQuarter() throws Exception {
        Duration duration = Duration.parse(System.getProperty("locket.stress.fairness", "PT5S"));
        Path path = dir.resolve("fair.lock");
        long a;
        long b;
        try (Children first = Children.start("churn", path.toString(), "100", "900");
                Children second = Children.start("churn", path.toString(), "100", "900")) {
            first.expect("STARTED");
            second.expect("STARTED");
            // Let them contend for the duration (Awaitility's fixed delay; nothing to poll).
            await().pollDelay(duration).atMost(duration.plusSeconds(30)).until(() -> true);
            first.send("stop");
            second.send("stop");
            a = count(first.expect("STOPPED"));
            b = count(second.expect("STOPPED"));
        }
        long total = a + b;
        Figures.record(String.format("fairness: 2 processes for %s: %d and %d acquisitions (%.1f%% / %.1f%%)",
                duration, a, b, 100.0 * a / total, 100.0 * b / total), List.of());
        assertThat(total).isPositive();
        assertThat(4 * Math.min(a, b)).as("the smaller share (%d of %d) is at least a quarter", Math.min(a, b), total)
                .isGreaterThanOrEqualTo(total);
    }

    private static long count(String stopped) {
        return Long.parseLong(stopped.substring("STOPPED ".length()).trim());
    }
}
