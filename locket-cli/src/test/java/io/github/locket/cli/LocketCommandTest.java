package io.github.locket.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.locket.Lock;
import io.github.locket.Locket;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The parser, in process: usage errors, help and version never start a command. */
final class LocketCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int run(String... args) {
        CommandLine cl = LocketCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @Test
    void helpDescribesUsageAndExitStatusAndExitsZero() {
        assertThat(run("--help")).isZero();
        assertThat(out.toString())
                .contains("Usage: locket [--shared | --exclusive] [--timeout SECONDS | --nonblock]")
                .contains("[--conflict-exit-code N] [--verbose] LOCKFILE COMMAND [ARGS...]")
                .contains("       locket status LOCKFILE")
                .contains("--shared", "--exclusive", "--nonblock", "--timeout", "--conflict-exit-code", "--verbose",
                        "--version")
                .contains("127", "126", "64", "66")
                .contains("Commands:", "status")
                .contains("./status")
                .doesNotContain("[LOCKFILE]", "[COMMAND]");
    }

    @Test
    void statusHelpDescribesTheColumnsAndExitStatusAndExitsZero() {
        assertThat(run("status", "--help")).isZero();
        assertThat(out.toString())
                .contains("Usage: locket status LOCKFILE")
                .contains("PID", "TYPE", "MODE", "STATE", "COMMAND", "HELD", "WAITING")
                .contains("the lock is free", "the lock is held", "66", "64");
    }

    @Test
    void sharedAndExclusiveExcludeEachOther() {
        assertThat(run("--shared", "--exclusive", "/tmp/x.lock", "true")).isEqualTo(64);
        assertThat(run("-s", "-x", "/tmp/x.lock", "true")).isEqualTo(64);
        assertThat(err.toString()).contains("mutually exclusive").doesNotContain("Error:");
    }

    @Test
    void sharedExclusiveAndFlocksDashEAreParsedBeforeTheLockFile() {
        for (String option : new String[] {"-s", "--shared", "-x", "-e", "--exclusive"}) {
            CommandLine.ParseResult parsed = LocketCommand.commandLine().parseArgs(option, "-n", "/tmp/x.lock", "ls", "-s");
            assertThat(parsed.hasMatchedOption(option)).as(option).isTrue();
            assertThat(parsed.matchedPositionalValue(1, "")).isEqualTo("ls");
            assertThat(parsed.matchedPositionalValue(2, java.util.List.of())).isEqualTo(java.util.List.of("-s"));
        }
    }

    /** {@code status} first is the subcommand; a lock file named status is reached another way. */
    @Test
    void statusFirstIsTheStatusCommandAndALockFileNamedStatusNeedsADirectoryOrDoubleDash() {
        assertThat(LocketCommand.commandLine().parseArgs("status", "x.lock").hasSubcommand()).isTrue();
        for (String[] args : new String[][] {{"./status", "make"}, {"--", "status", "make"}, {"-n", "--", "status", "make"}}) {
            CommandLine.ParseResult parsed = LocketCommand.commandLine().parseArgs(args);
            assertThat(parsed.hasSubcommand()).as(String.join(" ", args)).isFalse();
            assertThat(parsed.matchedPositionalValue(0, "")).endsWith("status");
            assertThat(parsed.matchedPositionalValue(1, "")).isEqualTo("make");
        }
        // After LOCKFILE, status is COMMAND like any other word.
        CommandLine.ParseResult parsed = LocketCommand.commandLine().parseArgs("x.lock", "status");
        assertThat(parsed.hasSubcommand()).isFalse();
        assertThat(parsed.matchedPositionalValue(1, "")).isEqualTo("status");
    }

    @Test
    void statusTakesOneLockFileAndNoOptionsAndSaysHowToNameALockFileStatus() {
        assertThat(run("status", "make", "all")).isEqualTo(64);
        assertThat(err.toString()).contains("status takes one LOCKFILE").contains("write ./status")
                .contains("Try 'locket status --help'");
        assertThat(run("-n", "status", "make")).isEqualTo(64);
        assertThat(run("status")).isEqualTo(64);
        assertThat(err.toString()).contains("locket: Missing required parameter: 'LOCKFILE'");
        assertThat(run("status", "-s", "x.lock")).isEqualTo(64);
        assertThat(err.toString()).contains("Unknown option: '-s'");
    }

    @Test
    void statusOfAMissingFileExits66AndCreatesNothing(@TempDir Path dir) {
        Path missing = dir.resolve("x.lock");
        assertThat(run("status", missing.toString())).isEqualTo(66);
        assertThat(err.toString().lines())
                .containsExactly("locket: " + missing + ": no such file (a lock file is created when first locked)");
        assertThat(missing).doesNotExist();
    }

    @Test
    void statusOfAFreeLockSaysFreeAndExitsZero(@TempDir Path dir) throws Exception {
        Path file = Files.createFile(dir.resolve("x.lock"));
        assertThat(run("status", file.toString())).isZero();
        assertThat(out.toString().lines()).containsExactly(file + ": free");
    }

    /** Where holders cannot be listed (Windows, macOS), one exclusive attempt tells free from held. */
    @Test
    void statusWhereHoldersCannotBeListedTriesTheLockOnceAndLetsGo(@TempDir Path dir) throws Exception {
        Path file = Files.createFile(dir.resolve("x.lock"));
        PrintWriter o = new PrintWriter(out, true);
        PrintWriter e = new PrintWriter(err, true);
        try (Lock reader = Locket.lockFile(file).shared().acquire()) {
            assertThat(LocketCommand.Status.status(file, false, o, e)).isEqualTo(1);
        }
        assertThat(LocketCommand.Status.status(file, false, o, e)).isZero();
        assertThat(out.toString().lines())
                .containsExactly(file + ": held (this system cannot tell by whom)", file + ": free");
        Locket.lockFile(file).tryAcquire().orElseThrow(() -> new AssertionError("the attempt kept the lock")).close();
    }

    @Test
    void statusTableAlignsEveryColumnButTheLast() {
        assertThat(LocketCommand.Status.table(java.util.List.of(
                new String[] {"PID", "TYPE", "COMMAND"},
                new String[] {"4242", "FCNTL,FLOCK", "java -jar locket.jar"},
                new String[] {"?", "FLOCK", "?"})))
                .containsExactly(
                        "PID   TYPE         COMMAND",
                        "4242  FCNTL,FLOCK  java -jar locket.jar",
                        "?     FLOCK        ?");
    }

    @Test
    void versionNamesTheProjectVersionAndExitsZero() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).startsWith("locket 0.").doesNotContain("${");
    }

    @Test
    void missingCommandIsAUsageError() {
        assertThat(run("/tmp/x.lock")).isEqualTo(64);
        assertThat(err.toString())
                .contains("locket: Missing required parameter: 'COMMAND'")
                .contains("Try 'locket --help'");
    }

    @Test
    void nothingAtAllIsAUsageError() {
        assertThat(run()).isEqualTo(64);
        assertThat(err.toString()).contains("'LOCKFILE', 'COMMAND'");
    }

    @Test
    void unknownOptionBeforeLockFileIsAUsageError() {
        assertThat(run("--bogus", "/tmp/x.lock", "true")).isEqualTo(64);
        assertThat(err.toString()).contains("Unknown option: '--bogus'");
    }

    @Test
    void timeoutAndNonblockExcludeEachOther() {
        assertThat(run("--nonblock", "--timeout", "3", "/tmp/x.lock", "true")).isEqualTo(64);
        assertThat(err.toString()).contains("mutually exclusive").doesNotContain("Error:");
    }

    @Test
    void negativeOrNonNumericTimeoutIsAUsageError() {
        assertThat(run("--timeout", "-1", "/tmp/x.lock", "true")).isEqualTo(64);
        assertThat(run("-w", "soon", "/tmp/x.lock", "true")).isEqualTo(64);
        assertThat(err.toString()).contains("'-1' is negative").contains("'soon' is not a number of seconds");
    }

    @Test
    void conflictExitCodeOutsideByteRangeIsAUsageError() {
        assertThat(run("-E", "256", "/tmp/x.lock", "true")).isEqualTo(64);
        assertThat(run("--conflict-exit-code", "-1", "/tmp/x.lock", "true")).isEqualTo(64);
        assertThat(err.toString()).contains("between 0 and 255, not 256").contains("not -1");
    }

    @Test
    void secondsAreDecimalAndRoundUpToTheNanosecond() {
        LocketCommand.SecondsConverter c = new LocketCommand.SecondsConverter();
        assertThat(c.convert("0")).isEqualTo(Duration.ZERO);
        assertThat(c.convert("2")).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.convert("0.25")).isEqualTo(Duration.ofMillis(250));
        assertThat(c.convert("1.0000000001")).isEqualTo(Duration.ofSeconds(1, 1));
        assertThat(c.convert("1e30")).isEqualTo(Duration.ofSeconds(Long.MAX_VALUE));
        assertThat(LocketCommand.seconds(Duration.ofMillis(1500))).isEqualTo("1.5");
        assertThat(LocketCommand.seconds(Duration.ofSeconds(30))).isEqualTo("30");
    }

    @Test
    void execFailuresReadTheSameOnEveryJdkAndOs() {
        assertThat(execFailure("error=2, No such file or directory"))
                .isEqualTo(new LocketCommand.ExecFailure(127, "No such file or directory"));
        assertThat(execFailure("Exec failed, error: 2 (No such file or directory) "))
                .isEqualTo(new LocketCommand.ExecFailure(127, "No such file or directory"));
        assertThat(execFailure("error=13, Permission denied"))
                .isEqualTo(new LocketCommand.ExecFailure(126, "Permission denied"));
        assertThat(execFailure("Exec failed, error: 13 (Permission denied) "))
                .isEqualTo(new LocketCommand.ExecFailure(126, "Permission denied"));
        assertThat(execFailure("CreateProcess error=2, The system cannot find the file specified"))
                .isEqualTo(new LocketCommand.ExecFailure(127, "The system cannot find the file specified"));
        assertThat(execFailure("CreateProcess error=193, %1 is not a valid Win32 application"))
                .isEqualTo(new LocketCommand.ExecFailure(126, "%1 is not a valid Win32 application"));
        assertThat(execFailure("something else")).isEqualTo(new LocketCommand.ExecFailure(126, "something else"));
    }

    private static LocketCommand.ExecFailure execFailure(String jdkDetail) {
        IOException e = new IOException("Cannot run program \"x\": " + jdkDetail, new IOException(jdkDetail));
        return LocketCommand.ExecFailure.of(e);
    }
}
