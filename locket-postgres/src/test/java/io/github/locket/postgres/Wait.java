package io.github.locket.postgres;

import java.time.Duration;
import java.util.concurrent.Callable;
import org.awaitility.Awaitility;

/** Awaitility with this module's defaults: a condition seen from another session, polled. */
final class Wait {
    private Wait() {}

    static final Duration LIMIT = Duration.ofSeconds(30);

    static void until(Callable<Boolean> condition, String what) {
        Awaitility.await(what).atMost(LIMIT).pollInterval(Duration.ofMillis(10)).until(condition);
    }
}
