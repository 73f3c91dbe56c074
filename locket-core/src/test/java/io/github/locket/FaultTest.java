package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.locket.testing.Children;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Holders that die: killed with SIGKILL at random points, or exiting without releasing. The
 * operating system frees the lock of a dead process; no critical section is lost or doubled.
 */
final class FaultTest {
    /** Kills of the random-kill test; {@code -Dlocket.faults.kills=N} for more. */
    private static final int KILLS = Integer.getInteger("locket.faults.kills", 12);

    @TempDir
    Path dir;

    enum KilledWhile { WAITING, HOLDING, RELEASING }

    /**
     * Three processes take turns incrementing a counter under the lock, logging each step ahead
     * ({@code waiting n}, {@code granted n}, {@code done n v}, {@code released n}); one at a time
     * is killed with SIGKILL while waiting, while holding, or at a random moment, and replaced.
     *
     * <p>Invariant: the counter values written by completed sections are all distinct (no two
     * sections overlapped), and every value up to the final counter was written by a completed
     * section or by a section killed after its grant (at most one value each). After every kill, a
     * survivor is granted the lock. At the end a fresh process finds the lock free.
     */
    @Test
    void holdersKilledAtRandomPointsLoseNoSectionAndLeaveTheLockFree() throws Exception {
        Path path = dir.resolve("a.lock");
        Path counter = Files.writeString(dir.resolve("counter"), "0");
        Random random = new Random();
        List<Children> alive = new ArrayList<>();
        List<Path> alog = new ArrayList<>();
        List<Path> logs = new ArrayList<>();
        Map<KilledWhile, Integer> kills = new EnumMap<>(KilledWhile.class);
        try {
            for (int i = 0; i < 3; i++) {
                startLooper(path, counter, alive, alog, logs);
            }
            for (int k = 0; k < KILLS; k++) {
                int victim = random.nextInt(alive.size());
                Path log = alog.get(victim);
                switch (k % 3) {
                    case 0: // while it holds the lock
                        await().pollInterval(Duration.ofMillis(1)).until(() -> lastLine(log).startsWith("granted")
                                || lastLine(log).startsWith("done"));
                        break;
                    case 1: // while it waits for the lock
                        await().pollInterval(Duration.ofMillis(1)).until(() -> lastLine(log).startsWith("waiting"));
                        break;
                    default: // anywhere, once it is under way
                        await().until(() -> !lastLine(log).isEmpty());
                        long until = System.nanoTime() + random.nextInt(20_000_000);
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                        break;
                }
                long grantsBefore = grants(alog, victim);
                alive.remove(victim).kill();
                alog.remove(victim);
                kills.merge(classify(lastLine(log)), 1, Integer::sum);
                // A survivor gets the lock after the kill, whatever the victim was doing.
                await().atMost(Duration.ofSeconds(30)).until(() -> grants(alog, -1) > grantsBefore);
                startLooper(path, counter, alive, alog, logs);
            }
        } finally {
            for (Children c : alive) {
                c.kill();
            }
        }
        System.out.println("kills: " + kills);
        checkInvariant(logs, Long.parseLong(Files.readString(counter).trim()));
        assertThat(kills.getOrDefault(KilledWhile.HOLDING, 0)).as("kills while holding").isPositive();
        assertThat(kills.getOrDefault(KilledWhile.WAITING, 0)).as("kills while waiting").isPositive();
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
    }

    private void startLooper(Path path, Path counter, List<Children> alive, List<Path> alog, List<Path> logs)
            throws Exception {
        Path log = dir.resolve("log-" + logs.size());
        Children c = Children.start("loop", path.toString(), counter.toString(), log.toString(), "200", "2000");
        c.expect("STARTED");
        alive.add(c);
        alog.add(log);
        logs.add(log);
    }

    private static KilledWhile classify(String lastLine) {
        if (lastLine.startsWith("granted") || lastLine.startsWith("done")) {
            return KilledWhile.HOLDING;
        } else if (lastLine.startsWith("released")) {
            return KilledWhile.RELEASING; // released, not yet waiting again: between sections
        }
        return KilledWhile.WAITING;
    }

    /** Grants logged by the live children except {@code skip}. */
    private static long grants(List<Path> alog, int skip) throws IOException {
        long n = 0;
        for (int i = 0; i < alog.size(); i++) {
            if (i != skip) {
                for (String line : lines(alog.get(i))) {
                    if (line.startsWith("granted")) {
                        n++;
                    }
                }
            }
        }
        return n;
    }

    private static void checkInvariant(List<Path> logs, long counter) throws IOException {
        Set<Long> written = new HashSet<>();
        long completed = 0;
        long killedInSection = 0;
        for (Path log : logs) {
            List<String> lines = lines(log);
            String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
            for (String line : lines) {
                if (line.startsWith("done")) {
                    long v = Long.parseLong(line.split(" ")[2]);
                    assertThat(written.add(v)).as("value %d written by two sections: they overlapped", v).isTrue();
                    completed++;
                }
            }
            if (last.startsWith("granted")) {
                killedInSection++; // may or may not have written its value
            }
        }
        long unaccounted = 0;
        for (long v = 1; v <= counter; v++) {
            if (!written.contains(v)) {
                unaccounted++;
            }
        }
        System.out.printf("counter=%d completed sections=%d killed inside a section=%d%n", counter, completed,
                killedInSection);
        assertThat(written).allMatch(v -> v <= counter, "no completed write is lost");
        assertThat(unaccounted).as("values written by sections killed after their grant").isLessThanOrEqualTo(killedInSection);
        assertThat(completed).as("sections completed").isPositive();
    }

    private static String lastLine(Path log) throws IOException {
        List<String> lines = lines(log);
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    /** The complete lines of a log (a line being written when the reader looks is left out). */
    private static List<String> lines(Path log) throws IOException {
        if (!Files.exists(log)) {
            return List.of();
        }
        String text = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
        int end = text.lastIndexOf('\n');
        return end < 0 ? List.of() : List.of(text.substring(0, end).split("\n"));
    }

    @Test
    void aHolderThatCallsSystemExitWithoutReleasingFreesTheLock() throws Exception {
        holderExitsWithoutReleasing("exit-holding", 0);
    }

    @Test
    void aHolderWhoseMainThrowsWithoutReleasingFreesTheLock() throws Exception {
        holderExitsWithoutReleasing("throw-holding", 1);
    }

    private void holderExitsWithoutReleasing(String command, int expectedStatus) throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start(command, path.toString())) {
            holder.expect("LOCKED");
            CompletableFuture<Lock> waiting = Locket.lockFile(path, Duration.ofSeconds(60)).acquireAsync();
            assertThat(waiting).isNotDone();
            holder.send("go");
            assertThat(holder.waitFor()).isEqualTo(expectedStatus);
            try (Lock lock = waiting.get(30, TimeUnit.SECONDS)) {
                assertThat(lock.isHeld()).isTrue();
            }
        }
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
    }

    /** Not a guarantee: like any lock, one held by a thread that dies stays held until its process ends. */
    @Test
    void aThreadThatDiesHoldingKeepsTheLockUntilItsProcessExits() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("thread-dies-holding", path.toString())) {
            holder.expect("DIED");
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isFalse();
            holder.send("exit");
            assertThat(holder.waitFor()).isZero();
        }
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
    }

    /** Pending waiters hold only daemon threads: a JVM whose main returns exits at once. */
    @Test
    void aJvmWithPendingWaitersExitsWhenItsMainReturns() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Lock held = Locket.lockFile(path).acquire();
                Children waiters = Children.start("pending", path.toString(), "20")) {
            waiters.expect("PENDING");
            // Generous: a non-daemon thread would keep the child alive for ever.
            assertThat(waiters.waitFor(Duration.ofSeconds(20))).isZero();
        }
    }
}
