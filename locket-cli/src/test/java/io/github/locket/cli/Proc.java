package io.github.locket.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A real process under test (locket, flock(1), a probe JVM), read line by line on stdout and
 * stderr. Tests wait for lines, never for time. Close kills it.
 */
final class Proc implements AutoCloseable {
    /** Generous: two cores shared with other builds can make a JVM start slowly. */
    static final Duration PATIENCE = Duration.ofSeconds(60);

    private final Process process;
    private final List<String> command;
    private final Writer stdin;
    private final LinkedBlockingQueue<String> out = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<String> err = new LinkedBlockingQueue<>();
    private final List<String> outSeen = new CopyOnWriteArrayList<>();
    private final List<String> errSeen = new CopyOnWriteArrayList<>();
    private final Thread outReader;
    private final Thread errReader;

    private Proc(List<String> command) throws IOException {
        this(command, null);
    }

    private Proc(List<String> command, Path workingDirectory) throws IOException {
        this.command = List.copyOf(command);
        this.process = new ProcessBuilder(command)
                .directory(workingDirectory == null ? null : workingDirectory.toFile()).start();
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.outReader = reader(process.getInputStream(), out, outSeen, "out");
        this.errReader = reader(process.getErrorStream(), err, errSeen, "err");
    }

    /** {@code java -cp <test class path> LocketCommand args...}: the command as users run it, minus the jar. */
    static Proc locket(String... args) throws IOException {
        return new Proc(java(LocketCommand.class, args));
    }

    /** As {@link #locket}, in {@code workingDirectory}. */
    static Proc locketIn(Path workingDirectory, String... args) throws IOException {
        return new Proc(java(LocketCommand.class, args), workingDirectory);
    }

    static Proc exec(String... command) throws IOException {
        return new Proc(List.of(command));
    }

    /** The command line that runs {@code main} of {@code mainClass} in a fresh JVM. */
    static List<String> java(Class<?> mainClass, String... args) {
        List<String> c = new ArrayList<>();
        c.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Start fast: these JVMs live for a second.
        c.add("-XX:TieredStopAtLevel=1");
        c.add("-XX:+UseSerialGC");
        c.add("-Xshare:auto");
        // What locket.jar's manifest says (Enable-Native-Access) for java -jar: JNA's flock(2) binding
        // loads a native library, which Java 24+ would otherwise warn about on stderr.
        c.add("--enable-native-access=ALL-UNNAMED");
        c.add("-cp");
        c.add(System.getProperty("java.class.path"));
        c.add(mainClass.getName());
        c.addAll(List.of(args));
        return c;
    }

    /** Waits for the next stdout line and checks it. */
    String expectOut(String expected) throws InterruptedException {
        String line = out.poll(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        if (line == null || !line.equals(expected)) {
            throw new AssertionError("expected '" + expected + "' on stdout but got '" + line + "'; " + this);
        }
        return line;
    }

    /** Waits for the next stdout line, whatever it says. */
    String expectOutLine() throws InterruptedException {
        String line = out.poll(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        if (line == null || line.equals(EOF)) {
            throw new AssertionError("expected a line on stdout; " + this);
        }
        return line;
    }

    /** Waits for a stderr line that contains {@code fragment}, skipping others. */
    String awaitErr(String fragment) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        for (;;) {
            String line = err.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null || line.equals(EOF)) {
                throw new AssertionError("no line with '" + fragment + "' on stderr; " + this);
            }
            if (line.contains(fragment)) {
                return line;
            }
        }
    }

    void send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** Waits for the exit and for the end of both streams, then returns the status. */
    int waitFor() throws InterruptedException {
        if (!process.waitFor(PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("did not exit; " + this);
        }
        outReader.join(PATIENCE.toMillis());
        errReader.join(PATIENCE.toMillis());
        return process.exitValue();
    }

    /** All of stdout so far (after {@link #waitFor()}: all of it). */
    String stdout() {
        return String.join("\n", outSeen);
    }

    String stderr() {
        return String.join("\n", errSeen);
    }

    Process process() {
        return process;
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        List<String> shown = new ArrayList<>(command);
        int cp = shown.indexOf("-cp");
        if (cp >= 0) {
            shown.set(cp + 1, "<test class path>");
        }
        String state = process.isAlive() ? "running" : "exited " + process.exitValue();
        return "process " + process.pid() + " (" + state + ") " + shown + "\n--- stdout:\n" + stdout() + "\n--- stderr:\n" + stderr();
    }

    private static final String EOF = "\u0000EOF";

    private static Thread reader(InputStream in, LinkedBlockingQueue<String> queue, List<String> seen, String name) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    seen.add(line);
                    queue.add(line);
                }
            } catch (IOException ignored) {
                // the process is gone
            }
            queue.add(EOF);
        }, "proc-" + name);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
