package io.github.locket.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.locket.Lock;
import io.github.locket.Locket;
import io.github.locket.testing.Child;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command as users run it: each locket is its own JVM, started from the test class path, and
 * its COMMAND is a real {@code sh}. Every wait is for a line the processes print.
 */
@EnabledOnOs({OS.LINUX, OS.MAC})
final class LocketProcessTest {
    @TempDir
    Path dir;

    private Path lock() {
        return dir.resolve("job.lock");
    }

    /** A locket that holds the lock until it reads a line: prints HOLDING once it has it. */
    private Proc holder() throws Exception {
        Proc p = Proc.locket(lock().toString(), "sh", "-c", "echo HOLDING; read line; echo RELEASING");
        p.expectOut("HOLDING");
        return p;
    }

    /** Whether another process (this test JVM) could take the lock now. */
    private boolean isFree() throws IOException {
        Optional<Lock> lock = Locket.lockFile(lock()).tryAcquire();
        lock.ifPresent(Lock::close);
        return lock.isPresent();
    }

    @Test
    void exitStatusIsTheCommands() throws Exception {
        try (Proc p = Proc.locket(lock().toString(), "sh", "-c", "exit 7")) {
            assertThat(p.waitFor()).isEqualTo(7);
            assertThat(p.stderr()).isEmpty();
        }
        assertThat(lock()).exists();
        assertThat(isFree()).isTrue();
    }

    @Test
    void commandArgumentsThatLookLikeOptionsPassThroughUntouched() throws Exception {
        try (Proc p = Proc.locket("--verbose", lock().toString(), "printf", "%s|", "-n", "--timeout", "--", "@x", "-h")) {
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).isEqualTo("-n|--timeout|--|@x|-h|");
        }
    }

    @Test
    void twoInvocationsTakeTurns() throws Exception {
        Path log = dir.resolve("log");
        try (Proc first = Proc.locket(lock().toString(), "sh", "-c",
                        "echo first-start >> \"$0\"; echo HOLDING; read line; echo first-end >> \"$0\"", log.toString());
                Proc second = startSecond(first, log)) {
            // The second locket said it is waiting: it tried while the first held the lock.
            second.awaitErr("is locked by another process; waiting");
            first.send("go");
            assertThat(first.waitFor()).isZero();
            assertThat(second.waitFor()).isZero();
            assertThat(Files.readAllLines(log)).containsExactly("first-start", "first-end", "second");
            assertThat(second.stderr()).contains("getting lock took").contains("executing sh");
        }
    }

    private Proc startSecond(Proc first, Path log) throws Exception {
        first.expectOut("HOLDING");
        return Proc.locket("--verbose", lock().toString(), "sh", "-c", "echo second >> \"$0\"", log.toString());
    }

    @Test
    void nonblockOnABusyLockExitsWithTheConflictCode() throws Exception {
        try (Proc holder = holder()) {
            try (Proc p = Proc.locket("--nonblock", lock().toString(), "sh", "-c", "echo RAN")) {
                assertThat(p.waitFor()).isEqualTo(1);
                assertThat(p.stdout()).isEmpty();
                assertThat(p.stderr()).isEqualTo("locket: " + lock() + " is locked by another process (--nonblock)");
            }
            try (Proc p = Proc.locket("-n", "-E", "42", lock().toString(), "true")) {
                assertThat(p.waitFor()).isEqualTo(42);
            }
            holder.send("go");
            assertThat(holder.waitFor()).isZero();
        }
        try (Proc p = Proc.locket("--nonblock", lock().toString(), "sh", "-c", "echo RAN")) {
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).isEqualTo("RAN");
        }
    }

    @Test
    void timeoutExpiresWithTheConflictCodeAndAClearMessage() throws Exception {
        try (Proc holder = holder();
                Proc p = Proc.locket("--timeout", "0.2", "--conflict-exit-code", "75", lock().toString(), "sh", "-c", "echo RAN")) {
            assertThat(p.waitFor()).isEqualTo(75);
            assertThat(p.stdout()).isEmpty();
            assertThat(p.stderr()).isEqualTo("locket: timed out after 0.2 seconds waiting for the lock on " + lock());
        }
    }

    @Test
    void timeoutLongEnoughRunsTheCommandOnceTheHolderLetsGo() throws Exception {
        try (Proc holder = holder();
                Proc p = Proc.locket("--verbose", "-w", "60", lock().toString(), "sh", "-c", "echo RAN")) {
            p.awaitErr("waiting up to 60 seconds");
            holder.send("go");
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).isEqualTo("RAN");
        }
    }

    @Test
    void sharedLocketsHoldTogetherAndAnExclusiveOneWaitsForAllOfThem() throws Exception {
        Path log = dir.resolve("log");
        String reader = "echo HOLDING; read line; echo \"$0\" >> \"$1\"";
        try (Proc first = Proc.locket("--shared", lock().toString(), "sh", "-c", reader, "first", log.toString());
                Proc second = startAfter(first, "-s", lock().toString(), "sh", "-c", reader, "second", log.toString())) {
            second.expectOut("HOLDING"); // both hold it now
            try (Proc busy = Proc.locket("--nonblock", lock().toString(), "true")) {
                assertThat(busy.waitFor()).as("exclusive while two share").isEqualTo(1);
            }
            try (Proc writer = Proc.locket("--verbose", "--exclusive", lock().toString(), "sh", "-c",
                    "echo writer >> \"$0\"", log.toString())) {
                writer.awaitErr("is locked by another process; waiting");
                first.send("go");
                assertThat(first.waitFor()).isZero();
                second.send("go");
                assertThat(second.waitFor()).isZero();
                assertThat(writer.waitFor()).isZero();
            }
        }
        assertThat(Files.readAllLines(log)).containsExactly("first", "second", "writer");
    }

    private static Proc startAfter(Proc holder, String... locketArgs) throws Exception {
        holder.expectOut("HOLDING");
        return Proc.locket(locketArgs);
    }

    @Test
    void aSharedLocketWaitsForAnExclusiveOneThenRuns() throws Exception {
        try (Proc holder = holder()) {
            try (Proc busy = Proc.locket("-s", "-n", lock().toString(), "true")) {
                assertThat(busy.waitFor()).as("shared while one holds it exclusively").isEqualTo(1);
                assertThat(busy.stderr()).isEqualTo("locket: " + lock() + " is locked by another process (--nonblock)");
            }
            try (Proc reader = Proc.locket("--verbose", "--shared", "-w", "60", lock().toString(), "sh", "-c", "echo RAN")) {
                reader.awaitErr("waiting up to 60 seconds");
                holder.send("go");
                assertThat(holder.waitFor()).isZero();
                assertThat(reader.waitFor()).isZero();
                assertThat(reader.stdout()).isEqualTo("RAN");
            }
        }
    }

    /** {@code locket status LOCKFILE} is the status command; a lock file named status is ./status. */
    @Test
    void aLockFileNamedStatusIsUsableWrittenWithItsDirectory() throws Exception {
        try (Proc p = Proc.locketIn(dir, "./status", "sh", "-c", "echo RAN")) {
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).isEqualTo("RAN");
        }
        assertThat(dir.resolve("status")).exists();
        try (Proc p = Proc.locketIn(dir, "status", "status")) {
            assertThat(p.waitFor()).as("status of the file named status").isZero();
            assertThat(p.stdout()).isEqualTo("status: free");
        }
    }

    @Test
    void commandNotFoundExits127() throws Exception {
        try (Proc p = Proc.locket(lock().toString(), "no-such-command-here", "-x")) {
            assertThat(p.waitFor()).isEqualTo(127);
            assertThat(p.stderr()).isEqualTo("locket: failed to execute no-such-command-here: No such file or directory");
        }
        assertThat(isFree()).isTrue();
    }

    @Test
    void commandThatCannotBeRunExits126() throws Exception {
        Path script = Files.writeString(dir.resolve("not-executable.sh"), "echo hi\n");
        try (Proc p = Proc.locket(lock().toString(), script.toString())) {
            assertThat(p.waitFor()).isEqualTo(126);
            assertThat(p.stderr()).isEqualTo("locket: failed to execute " + script + ": Permission denied");
        }
        try (Proc p = Proc.locket(lock().toString(), dir.toString())) {
            assertThat(p.waitFor()).isEqualTo(126);
        }
    }

    @Test
    void lockFileThatCannotBeCreatedExits66NamingThePath() throws Exception {
        Path missing = dir.resolve("no-such-dir").resolve("job.lock");
        try (Proc p = Proc.locket(missing.toString(), "sh", "-c", "echo RAN")) {
            assertThat(p.waitFor()).isEqualTo(66);
            assertThat(p.stdout()).isEmpty();
            assertThat(p.stderr()).startsWith("locket: cannot lock " + missing + ": ");
        }
        try (Proc p = Proc.locket(dir.toString(), "true")) {
            assertThat(p.waitFor()).isEqualTo(66);
            assertThat(p.stderr()).contains("is a directory");
        }
    }

    /**
     * The JDK closes every descriptor but 0-2 in a child: COMMAND has no descriptor on the lock
     * file, and from COMMAND's own process the lock is busy, held by locket.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void commandDoesNotInheritTheLockDescriptor() throws Exception {
        try (Proc p = Proc.locket(lock().toString(), "ls", "-l", "/proc/self/fd")) {
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).contains("0 ->").doesNotContain(lock().toString());
        }
        List<String> args = new ArrayList<>();
        args.add(lock().toString());
        args.addAll(Proc.java(Child.class, "probe", lock().toString()));
        try (Proc p = Proc.locket(args.toArray(String[]::new))) {
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).isEqualTo("BUSY");
        }
    }

    @Test
    void commandKilledBySignalExits128PlusSignalAndReleases() throws Exception {
        try (Proc p = Proc.locket(lock().toString(), "sh", "-c", "kill -KILL $$")) {
            assertThat(p.waitFor()).isEqualTo(128 + 9);
        }
        assertThat(isFree()).isTrue();
    }

    /**
     * SIGTERM to locket reaches COMMAND, and the lock stays held until COMMAND has finished its
     * own cleanup: the trap below finds the lock busy.
     */
    @Test
    void sigtermToLocketStopsTheCommandThenReleases() throws Exception {
        String probe = String.join(" ", Proc.java(Child.class, "probe", lock().toString()).stream()
                .map(a -> "'" + a + "'").toList());
        String script = "trap '" + probe.replace("'", "'\\''") + "; echo CLEANED-UP; exit 3' TERM;"
                + " echo READY; while :; do sleep 0.05; done";
        try (Proc p = Proc.locket(lock().toString(), "sh", "-c", script)) {
            p.expectOut("READY");
            assertThat(isFree()).isFalse();
            // SIGTERM to the locket JVM only. (Process.destroy() would also close our ends of its pipes.)
            p.process().toHandle().destroy();
            p.expectOut("BUSY");
            p.expectOut("CLEANED-UP");
            assertThat(p.waitFor()).isEqualTo(128 + 15);
        }
        assertThat(isFree()).isTrue();
    }

    @Test
    void sigtermToLocketAlsoStopsTheCommandsChildren() throws Exception {
        try (Proc p = Proc.locket(lock().toString(), "sh", "-c", "sleep 600 & echo $!; wait")) {
            long grandchild = Long.parseLong(p.expectOutLine());
            p.process().toHandle().destroy();
            assertThat(p.waitFor()).isEqualTo(128 + 15);
            Optional<ProcessHandle> sleeper = ProcessHandle.of(grandchild);
            if (sleeper.isPresent()) {
                sleeper.get().onExit().get(Proc.PATIENCE.toSeconds(), TimeUnit.SECONDS);
            }
        }
        assertThat(isFree()).isTrue();
    }
}
