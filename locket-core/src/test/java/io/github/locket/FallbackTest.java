package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.locket.testing.Children;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Without {@code flock(2)} Locket still locks, with {@code fcntl} alone, and says so in {@link
 * Locket#protocols()}: turned off by the system property, or native access denied by the JVM (Java
 * 24+ has {@code --illegal-native-access=deny}; on Java 22-23 denial needs a module list that omits
 * Locket, not tested here). Each case runs in a child JVM, since the choice is made once per JVM.
 */
final class FallbackTest {
    @TempDir
    Path dir;

    @Test
    void flockTurnedOffLocksWithFcntlOnly() throws Exception {
        assertFcntlOnly(List.of("-Dio.github.locket.flock=false"));
    }

    @Test
    void nativeAccessDeniedFallsBackToFcntlOnly() throws Exception {
        assumeTrue(Runtime.version().feature() >= 24, "--illegal-native-access=deny needs Java 24+");
        // Denies FFM linking and JNI library loading alike, so neither binding can load.
        assertFcntlOnly(List.of("--illegal-native-access=deny"));
    }

    private void assertFcntlOnly(List<String> jvmOptions) throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children child = Children.startWithOptions(jvmOptions, "protocols", path.toString())) {
            assertThat(child.expect("PROTOCOLS")).isEqualTo("PROTOCOLS FCNTL");
            child.expect("LOCKED");
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).as("another JVM is excluded").isFalse();
            assertThat(run("flock", "-n", path.toString(), "true")).as("flock(1) is not excluded (no flock half)")
                    .isZero();
            child.send("release");
            child.expect("RELEASED");
        }
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).inheritIO().start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }
}
