package io.github.locket.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.locket.Locket;
import io.github.locket.reactor.blockhound.FileLockBlockHoundIntegration;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.blockhound.BlockHound;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The very first lock in a JVM loads the native flock(2) binding (JNA unpacks a library from its
 * JAR). Only a fresh JVM can show whether that blocks a non-blocking thread, so this test starts
 * one, with BlockHound installed, whose first use of Locket is a {@code withLock} on a parallel
 * thread.
 */
final class FirstUseTest {
    @TempDir
    Path dir;

    /** The child: BlockHound on, then the first Locket call of its life, on Schedulers.parallel(). */
    public static void main(String[] args) {
        BlockHound.install(new FileLockBlockHoundIntegration());
        String result = ReactiveLocket.withLock(Locket.lockFile(Path.of(args[0])), lock -> Mono.just("LOCKED"))
                .subscribeOn(Schedulers.parallel())
                .onErrorResume(e -> Mono.just("FAILED " + e))
                .block();
        System.out.println(result + " " + Locket.protocols());
    }

    @Test
    void theFirstAcquisitionInAJvmDoesNotBlockANonBlockingThread() throws Exception {
        Process child = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-XX:+AllowRedefinitionToAddDeleteMethods",
                        "-cp", System.getProperty("java.class.path"),
                        FirstUseTest.class.getName(), dir.resolve("a.lock").toString()))
                .redirectErrorStream(true)
                .start();
        String output;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            output = out.lines().collect(Collectors.joining("\n"));
        }
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(output).contains("LOCKED [FCNTL, FLOCK]").doesNotContain("FAILED");
    }
}
