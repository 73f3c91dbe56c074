package io.github.locket.cli;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code locket [OPTIONS] LOCKFILE COMMAND [ARGS...]}: runs COMMAND while holding the lock on
 * LOCKFILE, the way util-linux {@code flock(1)} does, and exits with COMMAND's status.
 *
 * <p>The lock is Locket's ({@link Locket#lockFile(Path)}): the same lock that Java code using
 * Locket takes on that file, in any process; on Linux it includes {@code flock(2)} (JNA ships in
 * the jar), so {@code flock(1)} users are excluded too. It is held by this JVM, not by COMMAND: COMMAND does
 * not inherit the descriptor (the JDK closes every other descriptor in a child), and the lock is
 * released as soon as COMMAND exits, even if COMMAND left background processes behind.
 *
 * <p>When this JVM is told to stop (SIGTERM, SIGINT, SIGHUP, Ctrl-C on Windows) while COMMAND
 * runs, a shutdown hook sends SIGTERM to COMMAND and its descendants, waits for COMMAND to exit,
 * and only then releases the lock; the exit status is then 128 plus the signal number, as shells
 * report it.
 */
@Command(
        name = "locket",
        mixinStandardHelpOptions = true,
        versionProvider = LocketCommand.Version.class,
        sortOptions = false,
        separator = " ",
        usageHelpAutoWidth = true,
        exitCodeOnInvalidInput = LocketCommand.EXIT_USAGE,
        exitCodeOnExecutionException = LocketCommand.EXIT_SOFTWARE,
        customSynopsis = "locket [--timeout SECONDS | --nonblock] [--conflict-exit-code N] [--verbose] LOCKFILE COMMAND [ARGS...]",
        description = {
            "Runs COMMAND while holding the lock on LOCKFILE, like flock(1), and exits with COMMAND's exit status.",
            "Options go before LOCKFILE; everything after LOCKFILE is COMMAND and its arguments, passed on untouched.",
        },
        exitCodeListHeading = "%nExit status:%n",
        exitCodeList = {
            "  *:COMMAND's exit status (128+N if signal N ended it)",
            "  1:the lock is busy (--nonblock) or the timeout expired; see --conflict-exit-code",
            " 64:bad usage",
            " 66:LOCKFILE cannot be opened or locked",
            " 70:internal error",
            "126:COMMAND was found but cannot be run",
            "127:COMMAND was not found",
            "128+N:locket itself was stopped by signal N (COMMAND got SIGTERM first)",
        },
        footerHeading = "%nNotes:%n",
        footer = {
            "LOCKFILE is created (empty) if missing and never deleted. The lock is held by locket, not by COMMAND: it is"
                    + " released when COMMAND exits, and background processes COMMAND leaves behind do not hold it.",
            "Locket's lock is the one Java programs using Locket take. On Linux it is both a POSIX (fcntl) lock and a"
                    + " flock(2) lock, so it also excludes flock(1) and Python's locket and filelock; on Windows it is"
                    + " LockFileEx on byte 0, like Python's locket and filelock. --version lists the protocols in effect.",
            "If locket is told to stop (SIGTERM, SIGINT, SIGHUP, Ctrl-C) it sends SIGTERM to COMMAND and its"
                    + " descendants, waits for COMMAND to exit, then releases the lock.",
        })
public final class LocketCommand implements Callable<Integer> {
    /** Bad usage: sysexits.h EX_USAGE, as flock(1) uses. */
    static final int EXIT_USAGE = 64;
    /** The lock file cannot be opened or locked: sysexits.h EX_NOINPUT, as flock(1) uses. */
    static final int EXIT_LOCK_FILE = 66;
    /** A bug in locket: sysexits.h EX_SOFTWARE. */
    static final int EXIT_SOFTWARE = 70;
    /** COMMAND exists but cannot be executed, as POSIX shells report it. */
    static final int EXIT_CANNOT_EXECUTE = 126;
    /** COMMAND not found, as POSIX shells report it. */
    static final int EXIT_NOT_FOUND = 127;

    @Spec
    private CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private Waiting waiting;

    /** --timeout and --nonblock exclude each other. */
    static final class Waiting {
        @Option(
                names = {"-w", "--timeout", "--wait"},
                paramLabel = "SECONDS",
                converter = SecondsConverter.class,
                description = "Give up after SECONDS (decimals allowed; 0 means one attempt, like --nonblock)."
                        + " Default: wait as long as it takes.")
        private Duration timeout;

        @Option(
                names = {"-n", "--nonblock"},
                description = "Fail at once if the lock is held.")
        private boolean nonblock;
    }

    @Option(
            names = {"-E", "--conflict-exit-code"},
            paramLabel = "N",
            defaultValue = "1",
            description = "Exit status (0-255) when the lock is busy or the timeout expires. Default: ${DEFAULT-VALUE}.")
    private int conflictExitCode;

    @Option(
            names = "--verbose",
            description = "Tell on standard error when locket waits, how long getting the lock took, and what it runs.")
    private boolean verbose;

    @Parameters(index = "0", paramLabel = "LOCKFILE", description = "The lock file.")
    private String lockFile;

    @Parameters(index = "1", paramLabel = "COMMAND", description = "The program to run, found on PATH.")
    private String command;

    @Parameters(index = "2..*", arity = "0..*", paramLabel = "ARGS", description = "COMMAND's arguments.")
    private List<String> args = new ArrayList<>();

    /**
     * Runs the command line and exits with its status.
     *
     * @param args the command line
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The parser, configured so that COMMAND and its arguments reach COMMAND untouched. */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new LocketCommand());
        // Everything from LOCKFILE on is positional, like getopt's "+": `locket L ls -l` passes -l to ls.
        cl.setStopAtPositional(true);
        // picocli would otherwise replace any argument of the form @FILE, COMMAND's too, by FILE's contents.
        cl.setExpandAtFiles(false);
        cl.setParameterExceptionHandler(LocketCommand::usageError);
        return cl;
    }

    private static int usageError(ParameterException e, String[] args) {
        PrintWriter err = e.getCommandLine().getErr();
        String message = String.valueOf(e.getMessage());
        err.println("locket: " + (message.startsWith("Error: ") ? message.substring("Error: ".length()) : message));
        err.println("Try 'locket --help' for more information.");
        err.flush();
        return EXIT_USAGE;
    }

    @Override
    public Integer call() throws InterruptedException {
        if (conflictExitCode < 0 || conflictExitCode > 255) {
            throw new ParameterException(spec.commandLine(),
                    "--conflict-exit-code must be between 0 and 255, not " + conflictExitCode);
        }
        PrintWriter err = spec.commandLine().getErr();
        Path path;
        try {
            path = Path.of(lockFile);
        } catch (InvalidPathException e) {
            return fail(err, EXIT_LOCK_FILE, lockFile + ": not a valid path: " + e.getReason());
        }
        Supervisor supervisor = new Supervisor();
        supervisor.install();
        try {
            return lockAndRun(path, supervisor, err);
        } finally {
            supervisor.uninstall();
        }
    }

    private int lockAndRun(Path path, Supervisor supervisor, PrintWriter err) throws InterruptedException {
        Duration timeout = waiting == null ? null : waiting.nonblock ? Duration.ZERO : waiting.timeout;
        long start = System.nanoTime();
        Lock lock;
        try {
            // One attempt first, so that --verbose can say when locket waits.
            Optional<Lock> free = Locket.lockFile(path).tryAcquire();
            if (free.isPresent()) {
                lock = free.get();
            } else if (timeout != null && timeout.isZero()) {
                return fail(err, conflictExitCode, path + " is locked by another process (" + optionName() + ")");
            } else {
                if (verbose) {
                    say(err, path + " is locked by another process; waiting"
                            + (timeout == null ? "" : " up to " + seconds(timeout) + " seconds"));
                }
                LockFile waiter = timeout == null ? Locket.lockFile(path) : Locket.lockFile(path, timeout);
                lock = waiter.acquire();
            }
        } catch (LockTimeoutException e) {
            return fail(err, conflictExitCode,
                    "timed out after " + seconds(timeout) + " seconds waiting for the lock on " + path);
        } catch (IOException e) {
            return fail(err, EXIT_LOCK_FILE, "cannot lock " + e.getMessage());
        }
        int status;
        try {
            status = run(lock, supervisor, start, err);
        } finally {
            try {
                lock.close();
            } catch (UncheckedIOException e) {
                // The core closed the descriptor, which released the lock anyway; COMMAND's status stands.
                say(err, "warning: releasing " + e.getCause().getMessage());
            }
        }
        return status;
    }

    private int run(Lock lock, Supervisor supervisor, long start, PrintWriter err) throws InterruptedException {
        if (!supervisor.hold(lock)) {
            return EXIT_SOFTWARE; // this JVM is exiting; its status is the signal's, not this
        }
        if (verbose) {
            say(err, String.format(Locale.ROOT, "getting lock took %.6f seconds", (System.nanoTime() - start) / 1e9));
            say(err, "executing " + command);
        }
        List<String> argv = new ArrayList<>(1 + args.size());
        argv.add(command);
        argv.addAll(args);
        Process child;
        try {
            // inheritIO: COMMAND talks to locket's terminal or pipes directly. The JDK closes every
            // other descriptor in the child, so COMMAND does not get the lock file's.
            child = supervisor.start(new ProcessBuilder(argv).inheritIO());
        } catch (IOException e) {
            return cannotExecute(err, e);
        }
        if (child == null) {
            return EXIT_SOFTWARE; // this JVM is exiting
        }
        return child.waitFor();
    }

    private String optionName() {
        return waiting.nonblock ? "--nonblock" : "--timeout 0";
    }

    private int cannotExecute(PrintWriter err, IOException e) {
        ExecFailure f = ExecFailure.of(e);
        return fail(err, f.status(), "failed to execute " + command + ": " + f.reason());
    }

    /** Why ProcessBuilder.start() failed, as a shell would report it: 127 not found, 126 cannot run. */
    record ExecFailure(int status, String reason) {
        // The JDK's message names the OS error code, worded by JDK version and OS:
        //   JDK 17, Unix:    Cannot run program "x": error=2, No such file or directory
        //   JDK 21+, Unix:   Cannot run program "x": Exec failed, error: 2 (No such file or directory)
        //   Windows:         Cannot run program "x": CreateProcess error=2, The system cannot find the file specified
        private static final Pattern ERROR_CODE = Pattern.compile("error(?:=|: )(\\d+)(?: \\(([^)]*)\\)|,?(.*))");

        static ExecFailure of(IOException e) {
            String detail = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
            Matcher m = ERROR_CODE.matcher(detail);
            if (!m.find()) {
                return new ExecFailure(EXIT_CANNOT_EXECUTE, detail.trim());
            }
            int code = Integer.parseInt(m.group(1));
            String reason = (m.group(2) != null ? m.group(2) : m.group(3)).trim();
            // 2: ENOENT / ERROR_FILE_NOT_FOUND; 3: ERROR_PATH_NOT_FOUND (Windows; ESRCH never comes from exec).
            return new ExecFailure(code == 2 || code == 3 ? EXIT_NOT_FOUND : EXIT_CANNOT_EXECUTE, reason);
        }
    }

    private static int fail(PrintWriter err, int status, String message) {
        say(err, message);
        return status;
    }

    private static void say(PrintWriter err, String message) {
        err.println("locket: " + message);
        err.flush();
    }

    /** Seconds as typed back to the user: "5", "0.25". */
    static String seconds(Duration d) {
        return new BigDecimal(d.getSeconds()).add(BigDecimal.valueOf(d.getNano(), 9)).stripTrailingZeros().toPlainString();
    }

    /**
     * The shutdown hook that keeps the lock held for as long as COMMAND runs, even when this JVM
     * is told to exit: without it, a SIGTERM to locket would release the lock while COMMAND
     * carries on.
     */
    static final class Supervisor extends Thread {
        private Process child; // guarded by this
        private Lock lock; // guarded by this
        private boolean stopping; // guarded by this

        Supervisor() {
            super("locket-shutdown");
        }

        void install() {
            Runtime.getRuntime().addShutdownHook(this);
        }

        void uninstall() {
            try {
                Runtime.getRuntime().removeShutdownHook(this);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running or has run: it owns the rest
            }
        }

        /** Returns false if this JVM is already exiting: the caller must not go on. */
        synchronized boolean hold(Lock held) {
            if (stopping) {
                return false;
            }
            lock = held;
            return true;
        }

        /** Starts COMMAND unless this JVM is exiting (then null), so that the hook cannot miss it. */
        synchronized Process start(ProcessBuilder builder) throws IOException {
            if (stopping) {
                return null;
            }
            child = builder.start();
            return child;
        }

        @Override
        public void run() {
            Process c;
            Lock l;
            synchronized (this) {
                stopping = true;
                c = child;
                l = lock;
            }
            if (c != null && c.isAlive()) {
                // The whole tree: a shell's children would otherwise go on running without the lock.
                List<ProcessHandle> tree = c.descendants().toList();
                c.destroy();
                tree.forEach(ProcessHandle::destroy);
                boolean interrupted = false;
                for (;;) {
                    try {
                        c.waitFor();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    }
                }
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            if (l != null) {
                l.close();
            }
        }
    }

    /** Decimal seconds, as flock(1) takes them, to a Duration (rounded up to the nanosecond). */
    static final class SecondsConverter implements ITypeConverter<Duration> {
        private static final BigDecimal FOREVER = BigDecimal.valueOf(Long.MAX_VALUE);

        @Override
        public Duration convert(String value) {
            BigDecimal s;
            try {
                s = new BigDecimal(value.trim());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a number of seconds");
            }
            if (s.signum() < 0) {
                throw new TypeConversionException("'" + value + "' is negative; the timeout is a number of seconds >= 0");
            }
            if (s.compareTo(FOREVER) > 0) {
                return Duration.ofSeconds(Long.MAX_VALUE); // Locket waits forever past ~292 years
            }
            BigDecimal whole = s.setScale(0, RoundingMode.DOWN);
            long nanos = s.subtract(whole).movePointRight(9).setScale(0, RoundingMode.CEILING).longValueExact();
            return Duration.ofSeconds(whole.longValueExact()).plusNanos(nanos);
        }
    }

    /** "locket 0.1.0", the Java runtime and the OS, and which OS locks a lock takes part in. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = LocketCommand.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {
                "locket " + p.getProperty("version", "(unknown version)"),
                "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + "), "
                        + System.getProperty("os.name") + " " + System.getProperty("os.arch"),
                "lock protocols: " + Locket.protocols(),
            };
        }
    }
}
