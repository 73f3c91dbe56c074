package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.locket.testing.Children;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real other programs: util-linux {@code flock(1)} and Python's locket (Debian's {@code
 * python3-locket}), both {@code flock(2)} users, exclude Locket and are excluded by it, both ways.
 *
 * <p>CI ({@code .ci/run}, which installs python3-locket) fails if a program is missing; elsewhere
 * the Python tests are skipped with the reason.
 */
final class InteropTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final String HOLD = "import locket, sys\n"
            + "l = locket.lock_file(sys.argv[1])\n"
            + "l.acquire()\n"
            + "print('LOCKED', flush=True)\n"
            + "sys.stdin.readline()\n"
            + "l.release()\n"
            + "print('RELEASED', flush=True)\n";
    private static final String PROBE = "import locket, sys\n"
            + "try:\n"
            + "    l = locket.lock_file(sys.argv[1], timeout=0)\n"
            + "    l.acquire()\n"
            + "    print('FREE', flush=True)\n"
            + "    l.release()\n"
            + "except locket.LockError:\n"
            + "    print('BUSY', flush=True)\n";
    private static final String WAIT = "import locket, sys\n"
            + "print('WAITING', flush=True)\n"
            + "l = locket.lock_file(sys.argv[1], timeout=60)\n"
            + "l.acquire()\n"
            + "print('LOCKED', flush=True)\n"
            + "l.release()\n";

    /** Probes the fcntl half alone: a POSIX record lock on byte [0,1), as lockf(3) takes it. */
    private static final String FCNTL_PROBE = "import fcntl, os, sys\n"
            + "fd = os.open(sys.argv[1], os.O_RDWR)\n"
            + "try:\n"
            + "    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)\n"
            + "    print('FREE', flush=True)\n"
            + "except OSError:\n"
            + "    print('BUSY', flush=True)\n";

    @TempDir
    Path dir;

    @BeforeAll
    static void flockIsInEffect() {
        assertThat(Locket.protocols()).as("JNA or FFM binding (" + Platform.binding() + ")")
                .containsExactlyInAnyOrder(LockProtocol.FCNTL, LockProtocol.FLOCK);
    }

    /** Maven says which binding each run must use: JNA from target/classes, FFM from the JAR on 22+. */
    @Test
    void theExpectedBindingIsInEffect() {
        String expected = System.getProperty("locket.expect.binding");
        assumeTrue(expected != null, "locket.expect.binding is set by the Maven build only");
        assertThat(Platform.binding()).as("binding on Java " + Runtime.version()).isEqualTo(expected);
    }

    private static void requirePythonLocket() throws Exception {
        boolean present = new ProcessBuilder(PYTHON, "-c", "import locket").start().waitFor() == 0;
        if (System.getenv("CI") != null) {
            assertThat(present).as("python3-locket is installed (apt-get install -y python3-locket)").isTrue();
        }
        assumeTrue(present, "python3-locket is not installed (apt-get install -y python3-locket)");
    }

    @Test
    void flockCommandHoldingMakesJavaWaitOrTimeOut() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children flock = Children.exec("flock", path.toString(), "sh", "-c", "echo LOCKED; read line")) {
            flock.expect("LOCKED");
            assertThat(Locket.lockFile(path).tryAcquire()).isEmpty();
            assertThatThrownBy(() -> Locket.lockFile(path, Duration.ofMillis(100)).acquire())
                    .isInstanceOf(LockTimeoutException.class);
            CompletableFuture<Lock> waiting = Locket.lockFile(path, Duration.ofSeconds(60)).acquireAsync();
            assertThat(waiting).isNotDone();
            flock.send("go");
            assertThat(flock.waitFor()).isZero();
            waiting.get(30, TimeUnit.SECONDS).close();
        }
    }

    @Test
    void javaHoldingMakesTheFlockCommandFail() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Lock lock = Locket.lockFile(path).acquire()) {
            assertThat(run("flock", "-n", path.toString(), "true")).as("flock -n while Java holds").isEqualTo(1);
        }
        assertThat(run("flock", "-n", path.toString(), "true")).as("flock -n after release").isZero();
    }

    @Test
    void pythonLocketHoldingMakesJavaWaitOrTimeOut() throws Exception {
        requirePythonLocket();
        Path path = dir.resolve("a.lock");
        try (Children python = Children.exec(PYTHON, "-c", HOLD, path.toString())) {
            python.expect("LOCKED");
            assertThat(Locket.lockFile(path).tryAcquire()).isEmpty();
            assertThatThrownBy(() -> Locket.lockFile(path, Duration.ZERO).acquire())
                    .isInstanceOf(LockTimeoutException.class);
            assertThatThrownBy(() -> Locket.lockFile(path, Duration.ofMillis(100)).acquire())
                    .isInstanceOf(LockTimeoutException.class);
            CompletableFuture<Lock> untimed = Locket.lockFile(path).acquireAsync();
            assertThat(untimed).isNotDone();
            python.send("release");
            python.expect("RELEASED");
            untimed.get(30, TimeUnit.SECONDS).close();
        }
    }

    @Test
    void javaHoldingMakesPythonLocketFailOrWait() throws Exception {
        requirePythonLocket();
        Path path = dir.resolve("a.lock");
        Lock lock = Locket.lockFile(path).acquire();
        try (Children probe = Children.exec(PYTHON, "-c", PROBE, path.toString())) {
            probe.expect("BUSY");
        }
        try (Children waiter = Children.exec(PYTHON, "-c", WAIT, path.toString())) {
            waiter.expect("WAITING");
            lock.close();
            waiter.expect("LOCKED");
            assertThat(waiter.waitFor()).isZero();
        }
        try (Children probe = Children.exec(PYTHON, "-c", PROBE, path.toString())) {
            probe.expect("FREE");
        }
    }

    @Test
    void aWaiterThatGivesUpWhileAFlockUserHoldsLeavesNothingHeld() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children flock = Children.exec("flock", path.toString(), "sh", "-c", "echo LOCKED; read line")) {
            flock.expect("LOCKED");
            // The fcntl half is free, so this waiter takes it, then waits in the kernel for the
            // flock half (on a library thread: the waiter is asynchronous).
            CompletableFuture<Lock> waiting = Locket.lockFile(path).acquireAsync();
            await("fcntl half held while waiting for flock").atMost(Duration.ofSeconds(30))
                    .until(() -> fcntlHalf(path).equals("BUSY"));
            waiting.cancel(false); // wakes the waiting thread, which gives the fcntl half back
            await("fcntl half let go").atMost(Duration.ofSeconds(30)).until(() -> fcntlHalf(path).equals("FREE"));
            assertThat(waiting).isCancelled();
            flock.send("go");
            assertThat(flock.waitFor()).isZero();
        }
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
        assertThat(run("flock", "-n", path.toString(), "true")).isZero();
    }

    private static String fcntlHalf(Path path) throws Exception {
        try (Children probe = Children.exec(PYTHON, "-c", FCNTL_PROBE, path.toString())) {
            return probe.expect("");
        }
    }

    private static int run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).inheritIO().start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }
}
