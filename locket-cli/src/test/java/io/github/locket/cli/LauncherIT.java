package io.github.locket.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped form: {@code bin/locket} running {@code target/locket.jar}, after {@code package}
 * (failsafe runs this in {@code integration-test}).
 */
@EnabledOnOs({OS.LINUX, OS.MAC})
final class LauncherIT {
    private static final Path BIN = Path.of(System.getProperty("locket.bin", "bin"));
    private static final Path JAR = Path.of(System.getProperty("locket.jar", "target/locket.jar"));

    @TempDir
    Path dir;

    @Test
    void jarIsSelfContainedAndRunnable() throws Exception {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
                    .isEqualTo(LocketCommand.class.getName());
            assertThat(jar.getEntry("picocli/CommandLine.class")).isNotNull();
            assertThat(jar.getEntry("io/github/locket/Locket.class")).isNotNull();
            assertThat(jar.getEntry("module-info.class")).isNull();
        }
        try (Proc p = Proc.exec(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString(), "--version")) {
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).startsWith("locket 0.");
            if (System.getProperty("os.name").startsWith("Linux")) {
                // The flock(2) binding (JNA on 17-21, FFM on 22+) is in the jar and may run: no warnings.
                assertThat(p.stdout()).contains("lock protocols: [FCNTL, FLOCK]");
            }
            assertThat(p.stderr()).isEmpty();
        }
    }

    @Test
    void launcherFindsTheJarInTheBuildTree() throws Exception {
        try (Proc p = Proc.exec(BIN.resolve("locket").toString(), "--version")) {
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).startsWith("locket 0.");
        }
    }

    @Test
    void launcherFindsTheJarNextToItThroughASymbolicLink() throws Exception {
        Path installed = Files.createDirectories(dir.resolve("opt/locket"));
        Files.copy(BIN.resolve("locket"), installed.resolve("locket"), StandardCopyOption.COPY_ATTRIBUTES);
        Files.copy(JAR, installed.resolve("locket.jar"));
        Path link = Files.createSymbolicLink(dir.resolve("locket"), installed.resolve("locket"));
        try (Proc p = Proc.exec(link.toString(), dir.resolve("x.lock").toString(), "sh", "-c", "echo ran with \"$#\" args", "0", "a b", "")) {
            assertThat(p.waitFor()).isZero();
            assertThat(p.stdout()).isEqualTo("ran with 2 args");
        }
    }

    @Test
    void twoLaunchedCommandsTakeTurns() throws Exception {
        String lock = dir.resolve("job.lock").toString();
        String locket = BIN.resolve("locket").toString();
        try (Proc first = Proc.exec(locket, lock, "sh", "-c", "echo HOLDING; read line; echo DONE")) {
            first.expectOut("HOLDING");
            try (Proc busy = Proc.exec(locket, "--nonblock", lock, "echo", "never")) {
                assertThat(busy.waitFor()).isEqualTo(1);
                assertThat(busy.stderr()).contains("is locked by another process");
            }
            try (Proc second = Proc.exec(locket, "--verbose", lock, "echo", "second")) {
                second.awaitErr("waiting");
                first.send("go");
                first.expectOut("DONE");
                assertThat(second.waitFor()).isZero();
                assertThat(second.stdout()).isEqualTo("second");
            }
            assertThat(first.waitFor()).isZero();
        }
    }
}
