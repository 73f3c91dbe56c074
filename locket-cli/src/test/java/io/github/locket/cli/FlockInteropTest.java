package io.github.locket.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * locket against util-linux {@code flock(1)} on one file, each in its own process.
 *
 * <p>Today Locket's lock on Linux is a POSIX record lock (fcntl), which the kernel keeps apart from
 * flock(2) locks on local file systems: the two commands do not exclude each other. When the core
 * takes flock(2) too (the flock interop issue), set {@link #LOCKET_EXCLUDES_FLOCK} to true and
 * these tests assert exclusion instead.
 */
@EnabledOnOs(OS.LINUX)
final class FlockInteropTest {
    /** Flip when locket-core takes a flock(2) lock besides its fcntl lock. */
    static final boolean LOCKET_EXCLUDES_FLOCK = false;

    @TempDir
    Path dir;

    private String lock() {
        return dir.resolve("shared.lock").toString();
    }

    @Test
    void flockNonblockWhileLocketHolds() throws Exception {
        try (Proc locket = Proc.locket(lock(), "sh", "-c", "echo HOLDING; read line")) {
            locket.expectOut("HOLDING");
            try (Proc flock = Proc.exec("flock", "--nonblock", "--conflict-exit-code", "9", lock(), "true")) {
                assertFlockAndLocketInterop(flock.waitFor(), 9);
            }
            locket.send("go");
            assertThat(locket.waitFor()).isZero();
        }
    }

    @Test
    void locketNonblockWhileFlockHolds() throws Exception {
        try (Proc flock = Proc.exec("flock", lock(), "sh", "-c", "echo HOLDING; read line")) {
            flock.expectOut("HOLDING");
            try (Proc locket = Proc.locket("--nonblock", "--conflict-exit-code", "9", lock(), "true")) {
                assertFlockAndLocketInterop(locket.waitFor(), 9);
            }
            flock.send("go");
            assertThat(flock.waitFor()).isZero();
        }
    }

    /** Both ways round, the same truth. */
    private static void assertFlockAndLocketInterop(int nonblockStatus, int conflictCode) {
        if (LOCKET_EXCLUDES_FLOCK) {
            assertThat(nonblockStatus).as("the other tool's lock excludes this one").isEqualTo(conflictCode);
        } else {
            assertThat(nonblockStatus)
                    .as("today flock(2) and Locket's fcntl lock do not exclude each other; see LOCKET_EXCLUDES_FLOCK")
                    .isZero();
        }
    }

    @Test
    void flockStillExcludesFlockOnTheSameFileLocketUses() throws Exception {
        // Guards the test above against a flock(1) that excludes nothing: same file, same tool, busy.
        try (Proc locket = Proc.locket(lock(), "flock", lock(), "sh", "-c", "echo HOLDING; read line")) {
            locket.expectOut("HOLDING");
            try (Proc flock = Proc.exec("flock", "--nonblock", "--conflict-exit-code", "9", lock(), "true")) {
                assertThat(flock.waitFor()).isEqualTo(9);
            }
            locket.send("go");
            assertThat(locket.waitFor()).isZero();
        }
    }
}
