package io.github.locket.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
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
                .contains("Usage: locket [--timeout SECONDS | --nonblock] [--conflict-exit-code N] [--verbose]")
                .contains("LOCKFILE COMMAND [ARGS...]")
                .contains("--nonblock", "--timeout", "--conflict-exit-code", "--verbose", "--version")
                .contains("127", "126", "64", "66");
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
