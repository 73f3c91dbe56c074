package io.github.locket.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.github.locket.Locket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code locket status LOCKFILE} as users run it, against real holders and waiters: another locket,
 * util-linux {@code flock(1)}. Linux only: the holders come from {@code /proc/locks}.
 */
@EnabledOnOs(OS.LINUX)
final class StatusTest {
    @TempDir
    Path dir;

    private Path lock() {
        return dir.resolve("job.lock");
    }

    @Test
    void aFreeLockFileIsFreeAndExitsZero() throws Exception {
        Files.createFile(lock());
        try (Proc status = Proc.locket("status", lock().toString())) {
            assertThat(status.waitFor()).isZero();
            assertThat(status.stdout()).isEqualTo(lock() + ": free");
            assertThat(status.stderr()).isEmpty();
        }
    }

    @Test
    void aMissingLockFileExits66() throws Exception {
        try (Proc status = Proc.locket("status", lock().toString())) {
            assertThat(status.waitFor()).isEqualTo(66);
            assertThat(status.stdout()).isEmpty();
            assertThat(status.stderr()).isEqualTo("locket: " + lock() + ": no such file (a lock file is created when first locked)");
        }
        assertThat(lock()).doesNotExist();
    }

    /**
     * Two readers (a shared locket and {@code flock -s}) hold the lock and {@code flock -x} waits:
     * one line each, with pid, type, mode, state and command line, and exit status 1.
     */
    @Test
    void everyHolderAndWaiterHasALineWithPidTypeModeStateAndCommand() throws Exception {
        try (Proc locket = Proc.locket("--shared", lock().toString(), "sh", "-c", "echo HOLDING; read line");
                Proc flock = startAfter(locket, "flock", "-s", lock().toString(), "sh", "-c", "echo HOLDING; read line");
                Proc writer = startAfter(flock, "flock", "-x", lock().toString(), "true")) {
            await().atMost(Proc.PATIENCE).pollInterval(Duration.ofMillis(10))
                    .until(() -> !Locket.lockFile(lock()).waiters().isEmpty()); // flock -x is in the kernel
            try (Proc status = Proc.locket("status", lock().toString())) {
                assertThat(status.waitFor()).isEqualTo(1);
                List<String> lines = status.stdout().lines().toList();
                assertThat(lines).hasSize(5);
                assertThat(lines.get(0)).isEqualTo(lock() + ": held by 2 processes, 1 waiting");
                assertThat(lines.get(1)).matches("PID +TYPE +MODE +STATE +COMMAND");
                int command = lines.get(1).indexOf("COMMAND");
                assertThat(lines.subList(2, 5)).as("aligned: COMMAND starts in its column")
                        .allSatisfy(line -> assertThat(line.charAt(command - 1)).isEqualTo(' '));
                List<String[]> rows = lines.subList(2, 5).stream().map(l -> l.split(" +", 5)).toList();
                assertRow(rows, locket, "FCNTL,FLOCK", "READ", "HELD",
                        "io.github.locket.cli.LocketCommand --shared " + lock() + " sh -c echo HOLDING; read line");
                assertRow(rows, flock, "FLOCK", "READ", "HELD", "flock -s " + lock() + " sh -c echo HOLDING; read line");
                assertRow(rows, writer, "FLOCK", "WRITE", "WAITING", "flock -x " + lock() + " true");
            }
            locket.send("go");
            flock.send("go");
            assertThat(locket.waitFor()).isZero();
            assertThat(flock.waitFor()).isZero();
            assertThat(writer.waitFor()).isZero();
        }
        try (Proc status = Proc.locket("status", lock().toString())) {
            assertThat(status.waitFor()).isZero();
        }
    }

    private static Proc startAfter(Proc holder, String... command) throws Exception {
        holder.expectOut("HOLDING");
        return Proc.exec(command);
    }

    /** Checks the row of process {@code p}: its columns, and the end of its command line. */
    private static void assertRow(List<String[]> rows, Proc p, String type, String mode, String state, String command) {
        String pid = Long.toString(p.process().pid());
        assertThat(rows).as("a row for pid " + pid).anySatisfy(r -> {
            assertThat(r[0]).isEqualTo(pid);
            assertThat(r).hasSize(5);
            assertThat(new String[] {r[1], r[2], r[3]}).containsExactly(type, mode, state);
            assertThat(r[4]).endsWith(command);
        });
    }
}
