package io.github.locket.examples.webflux;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A child JVM running {@link LockHolder}: holds a lock file from another process until released. */
final class Holder implements AutoCloseable {
    private static final long PATIENCE_SECONDS = 60;

    private final Process process;
    private final BufferedReader out;

    private Holder(Process process) {
        this.process = process;
        this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    }

    /** Starts the holder and returns once it says it holds {@code lockFile}. */
    static Holder holding(Path lockFile) throws IOException, InterruptedException {
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                "-cp", System.getProperty("java.class.path"),
                LockHolder.class.getName(), lockFile.toString());
        Holder h = new Holder(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start());
        h.expect("LOCKED");
        return h;
    }

    long pid() {
        return process.pid();
    }

    /** Lets go of the lock and waits until the holder says it has. */
    void release() throws IOException, InterruptedException {
        OutputStream in = process.getOutputStream();
        in.write('\n');
        in.flush();
        expect("RELEASED");
    }

    private void expect(String expected) throws IOException, InterruptedException {
        // Read off the test thread so that a silent child cannot hang the build.
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                return out.readLine();
            } catch (IOException e) {
                return "<" + e + ">";
            }
        });
        String got;
        try {
            got = line.get(PATIENCE_SECONDS, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("holder " + process.pid() + " said nothing; expected " + expected, e);
        }
        if (!expected.equals(got)) {
            throw new AssertionError("holder " + process.pid() + " said '" + got + "', expected " + expected);
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(PATIENCE_SECONDS, TimeUnit.SECONDS);
    }
}
