package io.github.locket;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A child JVM running {@link Child}, read line by line. Close kills it. */
final class Children implements AutoCloseable {
    private static final Duration LINE_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Writer stdin;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final StringBuilder transcript = new StringBuilder();

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
    static Children start(String... args) throws IOException {
        return start(List.of(), System.getProperty("java.class.path"), args);
    }

    /**
     * Starts the child as the unprivileged user {@code nobody} (we run as root in CI, and root may
     * write any file), with only Locket's own classes on its class path.
     */
    static Children startAsNobody(String... args) throws IOException {
        String classPath = codeSource(Locket.class) + java.io.File.pathSeparator + codeSource(Child.class);
        return start(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"), classPath, args);
    }

    static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static String codeSource(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Children start(List<String> prefix, String classPath, String... args) throws IOException {
        List<String> command = new ArrayList<>(prefix);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xshare:auto");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-cp");
        command.add(classPath);
        command.add(Child.class.getName());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        return new Children(p);
    }

    /** Waits for the next line and checks that it starts with {@code expected}; returns it. */
    String expect(String expected) throws InterruptedException {
        String line = lines.poll(LINE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        transcript.append(line).append('\n');
        if (line == null || !line.startsWith(expected)) {
            throw new AssertionError("child " + process.pid() + ": expected '" + expected + "' but got '" + line
                    + "'; transcript:\n" + transcript);
        }
        return line;
    }

    void send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    int waitFor() throws InterruptedException {
        if (!process.waitFor(LINE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("child " + process.pid() + " did not exit");
        }
        return process.exitValue();
    }

    Process process() {
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
    }

    /** Runs {@code probe path} in a fresh process: true if another process could take the lock. */
    static boolean freeAsSeenFromAnotherProcess(Path path) throws IOException, InterruptedException {
        try (Children probe = start("probe", path.toString())) {
            String line = probe.expect("");
            if (!line.equals("FREE") && !line.equals("BUSY")) {
                throw new AssertionError("probe said " + line);
            }
            return line.equals("FREE");
        }
    }
}
