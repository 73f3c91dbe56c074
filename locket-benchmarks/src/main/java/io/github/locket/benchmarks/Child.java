package io.github.locket.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A peer process ({@link Peer} in a child JVM, or {@code peer.py} under Debian's Python) spoken to
 * line by line over its standard input and output. Closing it asks it to quit, then kills it.
 */
final class Child implements AutoCloseable {
    private static final long LINE_TIMEOUT_SECONDS = 60;

    final String strategy;
    private final Process process;
    private final Writer stdin;
    private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private Child(String strategy, Process process) {
        this.strategy = strategy;
        this.process = process;
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException ignored) {
                // the process is gone
            }
            lines.add("<EOF>");
        }, "peer-reader-" + process.pid());
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Strategies measured on the baseline build of Locket (v0.1): {@code v01-locket} runs {@link
     * Peer}'s {@code locket} with the JAR of {@code -Dlocket.bench.baseline.jar} ahead of this
     * class path, so that its classes are the baseline's.
     */
    static final String BASELINE = "v01-";

    /** Starts a peer for {@code strategy} (see {@link Peer}; {@code python*} runs peer.py) on {@code lockFile}. */
    static Child start(String strategy, Path lockFile) throws IOException {
        List<String> command = new ArrayList<>();
        String peerStrategy = strategy;
        if (strategy.startsWith("python")) {
            command.add(python());
            command.add(pythonScript("peer.py").toString());
        } else {
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.add("-Xshare:auto");
            if (Runtime.version().feature() >= 22) {
                command.add("--enable-native-access=ALL-UNNAMED"); // Locket's FFM flock(2) binding
            }
            String classPath = System.getProperty("java.class.path");
            if (strategy.startsWith(BASELINE)) {
                String baseline = System.getProperty("locket.bench.baseline.jar");
                if (baseline == null) {
                    throw new IllegalStateException(strategy + " needs -Dlocket.bench.baseline.jar (run.sh builds it)");
                }
                classPath = baseline + java.io.File.pathSeparator + classPath;
                peerStrategy = strategy.substring(BASELINE.length());
            }
            command.add("-cp");
            command.add(classPath);
            command.add(Peer.class.getName());
        }
        command.add(peerStrategy);
        command.add(lockFile.toString());
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Child c = new Child(strategy, p);
        c.expect("ready");
        return c;
    }

    /** The Python interpreter that sees Debian's python3-locket: {@code -Dlocket.bench.python}, default /usr/bin/python3. */
    static String python() {
        return System.getProperty("locket.bench.python", "/usr/bin/python3");
    }

    /** A script of locket-benchmarks/src/main/python: {@code -Dlocket.bench.pydir} names that folder. */
    static Path pythonScript(String name) {
        Path dir = Path.of(System.getProperty("locket.bench.pydir", "locket-benchmarks/src/main/python"));
        Path script = dir.resolve(name);
        if (!Files.isRegularFile(script)) {
            throw new IllegalStateException("cannot find " + script + "; set -Dlocket.bench.pydir");
        }
        return script;
    }

    long pid() {
        return process.pid();
    }

    void send(String line) throws IOException {
        stdin.write(line + "\n");
        stdin.flush();
    }

    /** Waits for the next line, checks that it starts with {@code prefix}, returns the rest. */
    String expect(String prefix) {
        String line;
        try {
            line = lines.poll(LINE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted waiting for " + strategy + " peer " + pid());
        }
        if (line == null || !line.startsWith(prefix)) {
            throw new IllegalStateException(strategy + " peer " + pid() + ": expected '" + prefix + "', got '" + line + "'");
        }
        return line.substring(prefix.length()).trim();
    }

    long expectLong(String prefix) {
        return Long.parseLong(expect(prefix));
    }

    @Override
    public void close() {
        try {
            send("quit");
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (IOException | InterruptedException e) {
            process.destroyForcibly();
        }
    }
}
