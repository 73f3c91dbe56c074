package io.github.locket.shedlock;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.DefaultLockingTaskExecutor;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.LockingTaskExecutor.TaskResult;

/**
 * The other JVM of the cross-process tests: runs one task through ShedLock's own {@link
 * DefaultLockingTaskExecutor} with a {@link LocketLockProvider}, and reports on stdout.
 *
 * <p>{@code ShedLockChild DIR NAME LOCK_AT_LEAST_MILLIS MODE}; MODE {@code hold}: the task prints
 * {@code RUNNING} and waits for a line on stdin; {@code run}: the task prints {@code RUNNING} and
 * returns. Then prints {@code EXECUTED} or {@code SKIPPED}, and exits.
 */
public final class ShedLockChild {
    private ShedLockChild() {}

    public static void main(String[] args) throws Throwable {
        LocketLockProvider provider = LocketLockProvider.create(Path.of(args[0]));
        String name = args[1];
        Duration atLeast = Duration.ofMillis(Long.parseLong(args[2]));
        boolean hold = args[3].equals("hold");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        LockConfiguration config = new LockConfiguration(ClockProvider.now(), name, atLeast.plusMinutes(5), atLeast);
        TaskResult<String> result = new DefaultLockingTaskExecutor(provider).executeWithLock(() -> {
            say("RUNNING");
            if (hold) {
                in.readLine();
            }
            return "done";
        }, config);
        say(result.wasExecuted() ? "EXECUTED" : "SKIPPED");
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
