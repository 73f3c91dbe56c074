package io.github.locket.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * locket against util-linux {@code flock(1)} on one file, each in its own process, both ways
 * round. On Linux a Locket lock is an {@code fcntl} lock plus a {@code flock(2)} lock (locket.jar
 * ships JNA for the latter on Java 17-21), so the two commands exclude each other.
 */
@EnabledOnOs(OS.LINUX)
final class FlockInteropTest {
    @TempDir
    Path dir;

    private String lock() {
        return dir.resolve("shared.lock").toString();
    }

    @Test
    void locketTakesFlockToo() throws Exception {
        try (Proc p = Proc.locket("--version")) {
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).contains("lock protocols: [FCNTL, FLOCK]");
        }
    }

    @Test
    void flockNonblockIsBusyWhileLocketHolds() throws Exception {
        try (Proc locket = Proc.locket(lock(), "sh", "-c", "echo HOLDING; read line")) {
            locket.expectOut("HOLDING");
            try (Proc flock = Proc.exec("flock", "--nonblock", "--conflict-exit-code", "9", lock(), "echo", "RAN")) {
                assertThat(flock.waitFor()).isEqualTo(9);
                assertThat(flock.stdout()).isEmpty();
            }
            locket.send("go");
            assertThat(locket.waitFor()).isZero();
        }
    }

    @Test
    void locketNonblockIsBusyWhileFlockHolds() throws Exception {
        try (Proc flock = Proc.exec("flock", lock(), "sh", "-c", "echo HOLDING; read line")) {
            flock.expectOut("HOLDING");
            try (Proc locket = Proc.locket("--nonblock", "--conflict-exit-code", "9", lock(), "echo", "RAN")) {
                assertThat(locket.waitFor()).isEqualTo(9);
                assertThat(locket.stdout()).isEmpty();
                assertThat(locket.stderr()).contains("is locked by another process (--nonblock)");
            }
            flock.send("go");
            assertThat(flock.waitFor()).isZero();
        }
    }

    @Test
    void locketWaitsForFlockThenRuns() throws Exception {
        try (Proc flock = Proc.exec("flock", lock(), "sh", "-c", "echo HOLDING; read line");
                Proc locket = startAfter(flock, "--verbose", "--timeout", "60", lock(), "echo", "RAN")) {
            locket.awaitErr("waiting up to 60 seconds");
            flock.send("go");
            assertThat(flock.waitFor()).isZero();
            assertThat(locket.waitFor()).isZero();
            assertThat(locket.stdout()).isEqualTo("RAN");
        }
    }

    @Test
    void flockWaitsForLocketThenRuns() throws Exception {
        try (Proc locket = Proc.locket(lock(), "sh", "-c", "echo HOLDING; read line")) {
            locket.expectOut("HOLDING");
            try (Proc flock = Proc.exec("flock", "--timeout", "60", lock(), "echo", "RAN")) {
                awaitBlockedFlock(Path.of(lock())); // flock(1) sleeps in the kernel behind locket
                locket.send("go");
                assertThat(locket.waitFor()).isZero();
                assertThat(flock.waitFor()).isZero();
                assertThat(flock.stdout()).isEqualTo("RAN");
            }
        }
    }

    /**
     * {@code locket -s} and {@code flock -s} hold the lock together; each side's exclusive lock is
     * refused while the other shares it, both ways round.
     */
    @Test
    void sharedLocketAndFlockHoldTogetherAndExcludeEachOthersExclusiveLock() throws Exception {
        try (Proc flock = Proc.exec("flock", "--shared", lock(), "sh", "-c", "echo HOLDING; read line")) {
            flock.expectOut("HOLDING");
            try (Proc locket = Proc.locket("--shared", "--nonblock", lock(), "echo", "RAN")) {
                assertThat(locket.waitFor()).as("locket -s while flock -s holds").isZero();
                assertThat(locket.stdout()).isEqualTo("RAN");
            }
            try (Proc locket = Proc.locket("--nonblock", lock(), "echo", "RAN")) {
                assertThat(locket.waitFor()).as("locket (exclusive) while flock -s holds").isEqualTo(1);
            }
            flock.send("go");
            assertThat(flock.waitFor()).isZero();
        }
        try (Proc locket = Proc.locket("-s", lock(), "sh", "-c", "echo HOLDING; read line")) {
            locket.expectOut("HOLDING");
            try (Proc flock = Proc.exec("flock", "-s", "-n", lock(), "echo", "RAN")) {
                assertThat(flock.waitFor()).as("flock -s while locket -s holds").isZero();
                assertThat(flock.stdout()).isEqualTo("RAN");
            }
            try (Proc flock = Proc.exec("flock", "-x", "-n", lock(), "echo", "RAN")) {
                assertThat(flock.waitFor()).as("flock -x while locket -s holds").isEqualTo(1);
            }
            locket.send("go");
            assertThat(locket.waitFor()).isZero();
        }
    }

    private static Proc startAfter(Proc holder, String... locketArgs) throws Exception {
        holder.expectOut("HOLDING");
        return Proc.locket(locketArgs);
    }

    /** Waits for a "-> FLOCK" waiter line for the file's inode in /proc/locks. */
    private static void awaitBlockedFlock(Path file) throws IOException {
        Pattern waiter = Pattern.compile("-> FLOCK .*:" + Files.getAttribute(file, "unix:ino") + " ");
        Path locks = Path.of("/proc/locks");
        await().atMost(Proc.PATIENCE)
                .pollInterval(Duration.ofMillis(10))
                .until(() -> Files.readAllLines(locks).stream().anyMatch(l -> waiter.matcher(l).find()));
    }
}
