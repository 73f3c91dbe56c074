package io.github.locket.micrometer;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import io.micrometer.core.instrument.MockClock;
import io.micrometer.core.instrument.simple.SimpleConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;

/** What the metrics tests look at: one lock file in a fresh directory, and one registry's meters. */
abstract class MetricsTestSupport {
    @TempDir
    Path dir;

    /** The registry's clock: timers see only the time a test adds. */
    final MockClock clock = new MockClock();
    final SimpleMeterRegistry registry = new SimpleMeterRegistry(SimpleConfig.DEFAULT, clock);

    LockFile lockFile() {
        return Locket.lockFile(dir.resolve("job.lock"));
    }

    long count(String outcome) {
        return registry.get("locket.acquire").tag("outcome", outcome).timer().count();
    }

    double waiters() {
        return registry.get("locket.waiters").gauge().value();
    }

    /** Whether the lock is free: one attempt, released at once. */
    boolean free() throws IOException {
        Optional<Lock> lock = lockFile().tryAcquire();
        lock.ifPresent(Lock::close);
        return lock.isPresent();
    }
}
