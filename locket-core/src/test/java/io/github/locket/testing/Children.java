package io.github.locket.testing;

import io.github.locket.Locket;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A child JVM running {@link Child}, read line by line. Close kills it. Shared with other modules' tests. */
public final class Children implements AutoCloseable {
    private static final Duration LINE_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Writer stdin;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder transcript = new StringBuilder();
    private Path scratch; // deleted on close

    private Children(Process process) {
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // process gone
            }
            lines.add("<EOF>");
        }, "child-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code java -cp <test class path> io.github.locket.Child args...}. */
    public static Children start(String... args) throws IOException {
        return start(List.of(), List.of(), System.getProperty("java.class.path"), args);
    }

    /** Like {@link #start(String...)}, with extra options for the child JVM. */
    public static Children startWithOptions(List<String> jvmOptions, String... args) throws IOException {
        return start(List.of(), jvmOptions, System.getProperty("java.class.path"), args);
    }

    /**
     * Starts the child without any native binding, so that Locket falls back to the JDK's channel
     * (classic POSIX locks, no {@code flock(2)}): the class path without JNA and, on Java 24+,
     * native access denied (no FFM). On Java 22 and 23 the FFM binding cannot be denied this way:
     * check {@link #canStartWithoutNativeBinding()} first.
     */
    public static Children startWithoutNativeBinding(String... args) throws IOException {
        if (!canStartWithoutNativeBinding()) {
            throw new IllegalStateException("Java " + Runtime.version().feature() + " cannot deny FFM to a child");
        }
        List<String> classPath = new ArrayList<>(List.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator)));
        try {
            classPath.remove(codeSource(Class.forName("com.sun.jna.Native", false, Children.class.getClassLoader())));
        } catch (ClassNotFoundException absent) {
            // no JNA here either
        }
        List<String> options = Runtime.version().feature() >= 24 ? List.of("--illegal-native-access=deny") : List.of();
        return start(List.of(), options, String.join(java.io.File.pathSeparator, classPath), args);
    }

    /** Whether {@link #startWithoutNativeBinding} can work on this Java: 17-21 (JNA only) or 24+. */
    public static boolean canStartWithoutNativeBinding() {
        int feature = Runtime.version().feature();
        return feature < 22 || feature >= 24;
    }

    /** Starts another main class, on the test class path, with the JIT as usual (for measurements). */
    public static Children startClass(Class<?> main, List<String> jvmOptions, String... args) throws IOException {
        return new Children(new ProcessBuilder(command(List.of(), jvmOptions, System.getProperty("java.class.path"),
                main.getName(), args)).redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    /**
     * Starts the child as the unprivileged user {@code nobody} (we run as root in CI, and root may
     * write any file), with only Locket's own classes (and JNA, if present) on its class path.
     */
    public static Children startAsNobody(String... args) throws IOException {
        // The build directory may sit where nobody cannot read (a clone under /root): copy
        // Locket's classes (a directory, or the packaged JAR) and the harness to a world-readable
        // place first.
        Path classes = Files.createTempDirectory("locket-nobody-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        List<String> classPath = new ArrayList<>();
        List<Class<?>> sources = new ArrayList<>(List.of(Locket.class, Child.class));
        try { // and JNA when this JVM has it, so that the child binds flock(2) the same way
            sources.add(Class.forName("com.sun.jna.Native", false, Children.class.getClassLoader()));
        } catch (ClassNotFoundException absent) {
            // the child has what this JVM has: no JNA
        }
        for (Class<?> c : sources) {
            Path from = Path.of(codeSource(c));
            if (Files.isDirectory(from)) {
                copyTree(from, classes);
                if (!classPath.contains(classes.toString())) {
                    classPath.add(classes.toString());
                }
            } else {
                Path jar = classes.resolve(from.getFileName().toString());
                Files.copy(from, jar, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
                classPath.add(jar.toString());
            }
        }
        Children child = start(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
                List.of(), String.join(java.io.File.pathSeparator, classPath), args);
        child.scratch = classes;
        return child;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        }
    }

    public static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static String codeSource(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Starts any program, read line by line like a child JVM. */
    public static Children exec(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new Children(p);
    }

    private static Children start(List<String> prefix, List<String> jvmOptions, String classPath, String... args)
            throws IOException {
        List<String> options = new ArrayList<>(List.of("-Xshare:auto", "-XX:TieredStopAtLevel=1")); // quick start
        options.addAll(jvmOptions);
        Process p = new ProcessBuilder(command(prefix, options, classPath, Child.class.getName(), args))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new Children(p);
    }

    private static List<String> command(List<String> prefix, List<String> jvmOptions, String classPath, String main,
            String... args) {
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (Runtime.version().feature() >= 22 && jvmOptions.stream().noneMatch(o -> o.contains("native-access"))) {
            command.add("--enable-native-access=ALL-UNNAMED"); // as the test JVM: FFM or JNA without warnings
        }
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(classPath);
        command.add(main);
        command.addAll(List.of(args));
        return command;
    }

    /** Waits for the next line and checks that it starts with {@code expected}; returns it. */
    public String expect(String expected) throws InterruptedException {
        return expect(expected, LINE_TIMEOUT);
    }

    /** Waits at most {@code timeout} for the next line and checks that it starts with {@code expected}. */
    public String expect(String expected, Duration timeout) throws InterruptedException {
        String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        transcript.append(line).append('\n');
        if (line == null || !line.startsWith(expected)) {
            throw new AssertionError("child " + process.pid() + ": expected '" + expected + "' but got '" + line
                    + "'; transcript:\n" + transcript);
        }
        return line;
    }

    /**
     * The next line if one comes within {@code timeout}, else null (and nothing is consumed): for
     * a wait that must do something else between lines.
     */
    public String poll(Duration timeout) throws InterruptedException {
        String line = lines.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (line != null) {
            transcript.append(line).append('\n');
        }
        return line;
    }

    public void send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    public int waitFor() throws InterruptedException {
        return waitFor(LINE_TIMEOUT);
    }

    /** Waits for the child to exit, at most {@code limit}; returns its exit status. */
    public int waitFor(Duration limit) throws InterruptedException {
        if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("child " + process.pid() + " did not exit within " + limit);
        }
        return process.exitValue();
    }

    /** Sends SIGKILL (on Linux) and waits until the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        waitFor();
    }

    public Process process() {
        return process;
    }

    @Override
    public void close() {
        process.destroyForcibly();
        try {
            process.waitFor(LINE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (scratch != null) {
            try (Stream<Path> files = Files.walk(scratch)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException ignored) {
                // a temporary directory; the OS cleans /tmp eventually
            }
        }
    }

    /** Runs {@code probe path} in a fresh process: true if another process could take the lock. */
    public static boolean freeAsSeenFromAnotherProcess(Path path) throws IOException, InterruptedException {
        try (Children probe = start("probe", path.toString())) {
            String line = probe.expect("");
            if (!line.equals("FREE") && !line.equals("BUSY")) {
                throw new AssertionError("probe said " + line);
            }
            return line.equals("FREE");
        }
    }
}
