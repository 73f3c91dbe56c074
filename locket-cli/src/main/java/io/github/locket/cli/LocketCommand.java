package io.github.locket.cli;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockHolder;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
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
import org.jspecify.annotations.Nullable;
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
 *
 * <p>{@code --shared} takes the lock in shared mode ({@link LockFile#shared()}), like {@code flock
 * -s}. {@code locket status LOCKFILE} ({@link Status}) prints who holds the lock and who waits
 * for it. Because {@code status} is a subcommand, a lock file named {@code status} must be written
 * with a directory ({@code ./status}) or after {@code --}.
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
        subcommands = LocketCommand.Status.class,
        customSynopsis = {
            "locket [--shared | --exclusive] [--timeout SECONDS | --nonblock]",
            "              [--conflict-exit-code N] [--verbose] LOCKFILE COMMAND [ARGS...]",
            "       locket status LOCKFILE",
        },
        description = {
            "Runs COMMAND while holding the lock on LOCKFILE, like flock(1), and exits with COMMAND's exit status.",
            "Options go before LOCKFILE; everything after LOCKFILE is COMMAND and its arguments, passed on untouched.",
            "locket status LOCKFILE prints who holds the lock and who waits for it (see locket status --help).",
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
            "With --shared any number of lockets (and flock -s, or Java and Python code taking a shared lock) hold the"
                    + " lock together; they exclude every exclusive holder, and an exclusive holder excludes them.",
            "A lock file named status must be written ./status (or come after --): locket status LOCKFILE is the"
                    + " status command.",
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
    private @Nullable Mode mode;

    /** --shared and --exclusive exclude each other. */
    static final class Mode {
        @Option(
                names = {"-s", "--shared"},
                description = "Take a shared lock, like flock -s: any number of shared holders hold it together;"
                        + " they exclude exclusive holders.")
        private boolean shared;

        @Option(
                names = {"-x", "-e", "--exclusive"},
                description = "Take an exclusive lock (the default; accepted for flock compatibility).")
        @SuppressWarnings("UnusedVariable") // exclusive is the default: the option only has to parse
        private boolean exclusive;
    }

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    private @Nullable Waiting waiting;

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

    // Optional for picocli, which would otherwise demand them of `locket status LOCKFILE` too;
    // call() requires them, with picocli's own wording.
    @Parameters(index = "0", arity = "0..1", paramLabel = "LOCKFILE", hideParamSyntax = true,
            description = "The lock file.")
    private String lockFile;

    @Parameters(index = "1", arity = "0..1", paramLabel = "COMMAND", hideParamSyntax = true,
            description = "The program to run, found on PATH.")
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
        err.println("Try '" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return EXIT_USAGE;
    }

    @Override
    public Integer call() throws InterruptedException {
        if (lockFile == null) {
            throw new ParameterException(spec.commandLine(), "Missing required parameters: 'LOCKFILE', 'COMMAND'");
        } else if (command == null) {
            throw new ParameterException(spec.commandLine(), "Missing required parameter: 'COMMAND'");
        }
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
        LockFile lockFile = mode != null && mode.shared ? Locket.lockFile(path).shared() : Locket.lockFile(path);
        long start = System.nanoTime();
        Lock lock;
        try {
            // One attempt first, so that --verbose can say when locket waits.
            Optional<Lock> free = lockFile.tryAcquire();
            if (free.isPresent()) {
                lock = free.get();
            } else if (timeout != null && timeout.isZero()) {
                return fail(err, conflictExitCode, path + " is locked by another process (" + optionName() + ")");
            } else {
                if (verbose) {
                    say(err, path + " is locked by another process; waiting"
                            + (timeout == null ? "" : " up to " + seconds(timeout) + " seconds"));
                }
                lock = (timeout == null ? lockFile : lockFile.withTimeout(timeout)).acquire();
            }
        } catch (LockTimeoutException e) {
            return fail(err, conflictExitCode,
                    "timed out after " + seconds(timeout == null ? Duration.ZERO : timeout) + " seconds waiting for the lock on "
                            + path);
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
                say(err, "warning: releasing " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
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
        return waiting != null && waiting.nonblock ? "--nonblock" : "--timeout 0";
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
        private @Nullable Process child; // guarded by this
        private @Nullable Lock lock; // guarded by this
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
        synchronized @Nullable Process start(ProcessBuilder builder) throws IOException {
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

    /**
     * {@code locket status LOCKFILE}: who holds the lock and who waits for it, like {@code lslocks}
     * for one file, from {@link LockFile#holders()} and {@link LockFile#waiters()}. Takes nothing,
     * creates nothing: the file must exist. Where the system cannot list holders (no {@code
     * /proc/locks}: Windows, macOS) it makes one exclusive attempt instead, released at once, and
     * says only free or held.
     */
    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            versionProvider = LocketCommand.Version.class,
            usageHelpAutoWidth = true,
            exitCodeOnInvalidInput = LocketCommand.EXIT_USAGE,
            exitCodeOnExecutionException = LocketCommand.EXIT_SOFTWARE,
            customSynopsis = "locket status LOCKFILE",
            header = "Prints who holds the lock on LOCKFILE and who waits for it; exits 0 if free, 1 if held.",
            description = {
                "Like lslocks, for one file: one line per process, with its PID, TYPE (FCNTL, FLOCK: the locking calls it holds or waits through), MODE"
                        + " (READ: shared, WRITE: exclusive), STATE (HELD or WAITING) and COMMAND line.",
                "A Locket process shows once, with both types; of its waiting threads only the one that waits in"
                        + " the kernel shows. PID and COMMAND are ? for a process this user may not inspect.",
            },
            exitCodeListHeading = "%nExit status:%n",
            exitCodeList = {
                " 0:the lock is free (nobody holds it)",
                " 1:the lock is held",
                "64:bad usage",
                "66:LOCKFILE does not exist or cannot be examined",
                "70:internal error",
            },
            footerHeading = "%nNotes:%n",
            footer = {
                "On Linux the holders come from /proc/locks. Elsewhere locket makes one exclusive attempt (released at"
                        + " once) and prints only whether the lock is free or held.",
                "A lock file named status: run a command under it with locket ./status COMMAND.",
            })
    static final class Status implements Callable<Integer> {
        private static final Path PROC_LOCKS = Path.of("/proc/locks");

        @Spec
        private CommandSpec spec;

        @Parameters(index = "0", paramLabel = "LOCKFILE", description = "The lock file.")
        private String lockFile;

        @Parameters(index = "1..*", arity = "0..*", paramLabel = "MORE", hidden = true)
        private List<String> more = new ArrayList<>();

        @Override
        public Integer call() {
            if (!more.isEmpty() || !spec.commandLine().getParent().getParseResult().matchedOptions().isEmpty()) {
                throw new ParameterException(spec.commandLine(), "status takes one LOCKFILE and no options but"
                        + " --help; to run a COMMAND under a lock file named status, write ./status");
            }
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path path;
            try {
                path = Path.of(lockFile);
            } catch (InvalidPathException e) {
                return fail(err, EXIT_LOCK_FILE, lockFile + ": not a valid path: " + e.getReason());
            }
            return status(path, Files.isReadable(PROC_LOCKS), out, err);
        }

        /**
         * Prints the status of the lock on {@code path} and returns the exit status.
         *
         * @param canList whether the system lists holders; if not, one exclusive attempt tells
         */
        static int status(Path path, boolean canList, PrintWriter out, PrintWriter err) {
            if (!Files.exists(path)) {
                return fail(err, EXIT_LOCK_FILE, path + ": no such file (a lock file is created when first locked)");
            }
            LockFile lock = Locket.lockFile(path);
            List<LockHolder> holders;
            List<LockHolder> waiters;
            try {
                if (!canList) {
                    Optional<Lock> free = lock.tryAcquire();
                    free.ifPresent(Lock::close);
                    out.println(path + ": " + (free.isPresent() ? "free" : "held (this system cannot tell by whom)"));
                    out.flush();
                    return free.isPresent() ? 0 : 1;
                }
                holders = lock.holders();
                waiters = lock.waiters();
            } catch (IOException e) {
                return fail(err, EXIT_LOCK_FILE, "cannot examine " + e.getMessage());
            }
            out.println(path + ": " + (holders.isEmpty() ? "free" : "held by " + count(holders.size()))
                    + (waiters.isEmpty() ? "" : ", " + waiters.size() + " waiting"));
            if (!holders.isEmpty() || !waiters.isEmpty()) {
                List<String[]> rows = new ArrayList<>();
                rows.add(new String[] {"PID", "TYPE", "MODE", "STATE", "COMMAND"});
                holders.forEach(h -> rows.add(row(h, "HELD")));
                waiters.forEach(w -> rows.add(row(w, "WAITING")));
                table(rows).forEach(out::println);
            }
            out.flush();
            return holders.isEmpty() ? 0 : 1;
        }

        private static String count(int processes) {
            return processes == 1 ? "1 process" : processes + " processes";
        }

        private static String[] row(LockHolder h, String state) {
            String command = h.command().map(c -> c.replaceAll("\\p{Cntrl}", " ")).orElse("?");
            return new String[] {
                h.pid() < 0 ? "?" : Long.toString(h.pid()),
                String.join(",", h.protocols().stream().map(Enum::name).toList()),
                h.isShared() ? "READ" : "WRITE",
                state,
                command,
            };
        }

        /** Left-aligned columns two spaces apart; the last one (COMMAND) unpadded. */
        static List<String> table(List<String[]> rows) {
            int columns = rows.get(0).length;
            int[] width = new int[columns];
            for (String[] r : rows) {
                for (int c = 0; c < columns - 1; c++) {
                    width[c] = Math.max(width[c], r[c].length());
                }
            }
            List<String> lines = new ArrayList<>(rows.size());
            for (String[] r : rows) {
                StringBuilder line = new StringBuilder();
                for (int c = 0; c < columns - 1; c++) {
                    line.append(r[c]).append(" ".repeat(width[c] - r[c].length() + 2));
                }
                lines.add(line.append(r[columns - 1]).toString());
            }
            return lines;
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
