package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.github.locket.testing.Children;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Shared (read) locks against the real other programs, each in its own process: Locket in another
 * JVM, Python's {@code fcntl.flock(fd, LOCK_SH / LOCK_EX)}, util-linux {@code flock -s / -x}, and
 * Java's {@code FileChannel.lock(0, 1, shared)} (a classic {@code fcntl} record lock). Readers of
 * either program hold the lock together; a reader excludes the other's writer and a writer the
 * other's reader, both ways round; a waiter of either gets the lock when the other lets go; and
 * {@link LockFile#holders()} names each of them with its pid, mode, protocols and command line.
 * Python's locket, which has no shared mode, is checked against Locket's readers; so is Locket
 * without its {@code flock(2)} half.
 *
 * <p>Every wait is for a line a process prints or for the kernel to list a waiter, never for time.
 * Linux only (as CI): it runs the programs and reads {@code /proc/locks}.
 */
final class SharedInteropTest {
    private static final String PYTHON = "/usr/bin/python3";

    /**
     * {@code python3 -c PEER MODE KIND PATH}: MODE {@code hold} (one attempt; if busy print {@code
     * WAITING} and block; print {@code LOCKED}; release on a stdin line; print {@code RELEASED}) or
     * {@code probe} ({@code FREE} or {@code BUSY}); KIND {@code sh} or {@code ex} ({@code
     * fcntl.flock}), or {@code locket} (Python's locket, exclusive).
     */
    private static final String PYTHON_PEER = "import fcntl, os, sys\n"
            + "mode, kind, path = sys.argv[1:4]\n"
            + "if kind == 'locket':\n"
            + "    import locket\n"
            + "    def take(block):\n"
            + "        l = locket.lock_file(path, timeout=None if block else 0)\n"
            + "        try:\n"
            + "            l.acquire()\n"
            + "        except locket.LockError:\n"
            + "            return None\n"
            + "        return l.release\n"
            + "else:\n"
            + "    op = fcntl.LOCK_SH if kind == 'sh' else fcntl.LOCK_EX\n"
            + "    fd = os.open(path, os.O_RDWR | os.O_CREAT)\n"
            + "    def take(block):\n"
            + "        try:\n"
            + "            fcntl.flock(fd, op if block else op | fcntl.LOCK_NB)\n"
            + "        except BlockingIOError:\n"
            + "            return None\n"
            + "        return lambda: fcntl.flock(fd, fcntl.LOCK_UN)\n"
            + "release = take(False)\n"
            + "if mode == 'probe':\n"
            + "    print('FREE' if release else 'BUSY', flush=True)\n"
            + "    if release:\n"
            + "        release()\n"
            + "    sys.exit(0)\n"
            + "if release is None:\n"
            + "    print('WAITING', flush=True)\n"
            + "    release = take(True)\n"
            + "print('LOCKED', flush=True)\n"
            + "sys.stdin.readline()\n"
            + "release()\n"
            + "print('RELEASED', flush=True)\n";

    /**
     * {@code sh -c FLOCK_PEER sh PATH -s|-x}: flock(1) in that mode, as {@code hold} above. The
     * {@code exec} makes flock the started process, so the lock's pid is the process's.
     */
    private static final String FLOCK_PEER = "flock -n $2 \"$1\" true || echo WAITING\n"
            + "exec flock $2 \"$1\" sh -c 'echo LOCKED; read line; echo RELEASED'\n";

    /** The other programs, each able to hold the lock in either mode and to probe it once. */
    enum Peer {
        /** Locket in another JVM ({@code Child hold-as}). */
        LOCKET_JVM("io.github.locket.testing.Child hold-as") {
            @Override
            Children hold(Path path, boolean shared) throws Exception {
                return Children.start("hold-as", path.toString(), mode(shared));
            }

            @Override
            boolean free(Path path, boolean shared) throws Exception {
                try (Children probe = Children.start("probe-as", path.toString(), mode(shared))) {
                    return answer(probe);
                }
            }

            @Override
            Set<LockProtocol> protocols() {
                return Locket.protocols(); // the child runs the same Locket on the same Java
            }
        },
        /** Python's {@code fcntl.flock(fd, LOCK_SH)} and {@code LOCK_EX}. */
        PYTHON_FLOCK(PYTHON + " -c import fcntl") {
            @Override
            Children hold(Path path, boolean shared) throws Exception {
                return Children.exec(PYTHON, "-c", PYTHON_PEER, "hold", shared ? "sh" : "ex", path.toString());
            }

            @Override
            boolean free(Path path, boolean shared) throws Exception {
                try (Children probe = Children.exec(PYTHON, "-c", PYTHON_PEER, "probe", shared ? "sh" : "ex",
                        path.toString())) {
                    return answer(probe);
                }
            }

            @Override
            Set<LockProtocol> protocols() {
                return EnumSet.of(LockProtocol.FLOCK);
            }
        },
        /** util-linux {@code flock -s} and {@code flock -x}. */
        FLOCK_COMMAND("flock -") {
            @Override
            Children hold(Path path, boolean shared) throws Exception {
                return Children.exec("sh", "-c", FLOCK_PEER, "sh", path.toString(), shared ? "-s" : "-x");
            }

            @Override
            boolean free(Path path, boolean shared) throws Exception {
                Process p = new ProcessBuilder("flock", "-n", shared ? "-s" : "-x", path.toString(), "true")
                        .inheritIO().start();
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("flock -n exited").isTrue();
                assertThat(p.exitValue()).as("flock -n: 0 free, 1 busy").isBetween(0, 1);
                return p.exitValue() == 0;
            }

            @Override
            Set<LockProtocol> protocols() {
                return EnumSet.of(LockProtocol.FLOCK);
            }
        },
        /** Java's {@code FileChannel.lock(0, 1, shared)} in another JVM: a classic fcntl lock. */
        FILE_CHANNEL("io.github.locket.testing.Child channel-hold") {
            @Override
            Children hold(Path path, boolean shared) throws Exception {
                return Children.start("channel-hold", path.toString(), mode(shared));
            }

            @Override
            boolean free(Path path, boolean shared) throws Exception {
                try (Children probe = Children.start("channel-probe", path.toString(), mode(shared))) {
                    return answer(probe);
                }
            }

            @Override
            Set<LockProtocol> protocols() {
                return EnumSet.of(LockProtocol.FCNTL);
            }
        };

        /** What {@link LockHolder#command()} contains for this program's holder. */
        final String command;

        Peer(String command) {
            this.command = command;
        }

        /**
         * Starts the program holding the lock in that mode: it prints {@code WAITING} first if it
         * has to wait, then {@code LOCKED}; see {@link #release}.
         */
        abstract Children hold(Path path, boolean shared) throws Exception;

        /** One non-blocking attempt by the program, in a process of its own: true if it got the lock. */
        abstract boolean free(Path path, boolean shared) throws Exception;

        /** The protocols through which the program holds the lock. */
        abstract Set<LockProtocol> protocols();

        private static String mode(boolean shared) {
            return shared ? "shared" : "exclusive";
        }

        private static boolean answer(Children probe) throws InterruptedException {
            String line = probe.expect("");
            assertThat(line).as("probe's answer").isIn("FREE", "BUSY");
            return line.equals("FREE");
        }
    }

    @TempDir
    Path dir;

    @BeforeAll
    static void onLinuxWithBothHalves() throws Exception {
        assertThat(Locket.protocols()).as("JNA or FFM binding (" + Platform.binding() + ")")
                .containsExactlyInAnyOrder(LockProtocol.FCNTL, LockProtocol.FLOCK);
        boolean pythonLocket = new ProcessBuilder(PYTHON, "-c", "import locket").start().waitFor() == 0;
        if (System.getenv("CI") != null) {
            assertThat(pythonLocket).as("python3-locket is installed (apt-get install -y python3-locket)").isTrue();
        }
    }

    private LockFile lockFile() {
        return Locket.lockFile(dir.resolve("a.lock"));
    }

    private Path path() {
        return dir.resolve("a.lock");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Peer.class)
    void aLocketReaderAndTheOthersReaderHoldTheLockTogetherWhoeverComesFirst(Peer peer) throws Exception {
        try (Children other = peer.hold(path(), true)) {
            other.expect("LOCKED");
            try (Lock reader = lockFile().shared().tryAcquire().orElseThrow(() -> new AssertionError(
                    "a Locket reader could not join " + peer + "'s reader"))) {
                List<LockHolder> holders = lockFile().holders();
                assertNamed(holders, other, peer, true);
                assertThat(holders).as("this JVM, shared, and the other").anySatisfy(h -> {
                    assertThat(h.pid()).isEqualTo(ProcessHandle.current().pid());
                    assertThat(h.isShared()).isTrue();
                }).hasSize(2);
            }
            release(other);
        }
        try (Lock reader = lockFile().shared().acquire(); Children other = peer.hold(path(), true)) {
            assertThat(other.expect("")).as(peer + "'s reader joins a Locket reader at once").isEqualTo("LOCKED");
            release(other);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Peer.class)
    void aReaderExcludesTheOthersWriterBothWays(Peer peer) throws Exception {
        try (Children other = peer.hold(path(), true)) {
            other.expect("LOCKED");
            assertThat(lockFile().tryAcquire()).as("a Locket writer while " + peer + " reads").isEmpty();
            assertThatThrownBy(() -> lockFile().withTimeout(Duration.ofMillis(100)).acquire())
                    .isInstanceOfSatisfying(LockTimeoutException.class, e -> {
                        assertNamed(e.holders(), other, peer, true);
                        assertThat(e.getMessage()).contains("held by pid " + other.process().pid());
                    });
            release(other);
        }
        try (Lock reader = lockFile().shared().acquire()) {
            assertThat(peer.free(path(), false)).as(peer + "'s writer while Locket reads").isFalse();
            assertThat(peer.free(path(), true)).as(peer + "'s reader while Locket reads").isTrue();
        }
        assertThat(peer.free(path(), false)).as(peer + "'s writer once Locket let go").isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Peer.class)
    void aWriterExcludesTheOthersReaderBothWays(Peer peer) throws Exception {
        try (Children other = peer.hold(path(), false)) {
            other.expect("LOCKED");
            assertThat(lockFile().shared().tryAcquire()).as("a Locket reader while " + peer + " writes").isEmpty();
            assertNamed(lockFile().shared().holders(), other, peer, false);
            release(other);
        }
        try (Lock writer = lockFile().acquire()) {
            assertThat(peer.free(path(), true)).as(peer + "'s reader while Locket writes").isFalse();
        }
        assertThat(peer.free(path(), true)).as(peer + "'s reader once Locket let go").isTrue();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Peer.class)
    void aLocketWriterWaitsWhileTheOtherReadsAndGetsTheLockWhenItLetsGo(Peer peer) throws Exception {
        locketWaitsForTheOther(peer, false);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Peer.class)
    void aLocketReaderWaitsWhileTheOtherWritesAndGetsTheLockWhenItLetsGo(Peer peer) throws Exception {
        locketWaitsForTheOther(peer, true);
    }

    /** The other holds the lock in the mode that excludes {@code locketShared}; Locket waits for it. */
    private void locketWaitsForTheOther(Peer peer, boolean locketShared) throws Exception {
        LockFile mine = locketShared ? lockFile().shared() : lockFile();
        try (Children other = peer.hold(path(), !locketShared)) {
            other.expect("LOCKED");
            CompletableFuture<Lock> waiting = acquireOnAThread(mine.withTimeout(Duration.ofSeconds(60)));
            awaitKernelWaiter(ProcessHandle.current().pid());
            assertThat(waiting).as("Locket waits while " + peer + " holds").isNotDone();
            release(other);
            try (Lock lock = waiting.get(60, TimeUnit.SECONDS)) {
                assertThat(lockFile().holders()).singleElement().satisfies(h -> {
                    assertThat(h.pid()).isEqualTo(ProcessHandle.current().pid());
                    assertThat(h.isShared()).isEqualTo(locketShared);
                });
                assertThat(peer.free(path(), !locketShared)).as(peer + " excluded once Locket has it").isFalse();
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Peer.class)
    void theOthersWriterWaitsWhileLocketReadsAndGetsTheLockWhenLocketLetsGo(Peer peer) throws Exception {
        otherWaitsForLocket(peer, true);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Peer.class)
    void theOthersReaderWaitsWhileLocketWritesAndGetsTheLockWhenLocketLetsGo(Peer peer) throws Exception {
        otherWaitsForLocket(peer, false);
    }

    /** Locket holds the lock in the mode that excludes the other's; the other waits for it. */
    private void otherWaitsForLocket(Peer peer, boolean locketShared) throws Exception {
        LockFile mine = locketShared ? lockFile().shared() : lockFile();
        Lock held = mine.acquire();
        try (Children other = peer.hold(path(), !locketShared)) {
            other.expect("WAITING");
            awaitKernelWaiter(other.process().pid());
            held.close();
            other.expect("LOCKED");
            assertNamed(lockFile().holders(), other, peer, !locketShared);
            assertThat(mine.tryAcquire()).as("Locket excluded once " + peer + " has it").isEmpty();
            release(other);
        } finally {
            held.close();
        }
        mine.tryAcquire().orElseThrow(() -> new AssertionError("not free after " + peer + " let go")).close();
    }

    /**
     * Every program at once holds the lock shared: Locket here and in another JVM, Python, flock(1)
     * and a {@code FileChannel}; {@link LockFile#holders()} names all five, and no writer of any
     * of them gets in.
     */
    @Test
    void readersOfEveryProgramHoldTogetherAndHoldersNamesEachOfThem() throws Exception {
        List<Children> others = new ArrayList<>();
        try (Lock reader = lockFile().shared().acquire()) {
            for (Peer peer : Peer.values()) {
                Children other = peer.hold(path(), true);
                others.add(other);
                assertThat(other.expect("")).as(peer + " joins the readers").isEqualTo("LOCKED");
            }
            List<LockHolder> holders = lockFile().holders();
            assertThat(holders).as("%s", holders).hasSize(1 + Peer.values().length)
                    .allSatisfy(h -> assertThat(h.isShared()).isTrue());
            for (Peer peer : Peer.values()) {
                assertNamed(holders, others.get(peer.ordinal()), peer, true);
                assertThat(peer.free(path(), false)).as(peer + "'s writer among all these readers").isFalse();
            }
            assertThat(lockFile().tryAcquire()).as("a Locket writer among them").isEmpty();
            for (Children other : others) {
                release(other);
            }
        } finally {
            others.forEach(Children::close);
        }
        assertThat(lockFile().holders()).isEmpty();
    }

    /** Python's locket has no shared mode: its exclusive lock and Locket's readers exclude each other. */
    @Test
    void pythonLocketAndLocketReadersExcludeEachOtherAndWaitForEachOther() throws Exception {
        assumeTrue(new ProcessBuilder(PYTHON, "-c", "import locket").start().waitFor() == 0,
                "python3-locket is not installed (apt-get install -y python3-locket)");
        try (Children python = Children.exec(PYTHON, "-c", PYTHON_PEER, "hold", "locket", path().toString())) {
            python.expect("LOCKED");
            assertThat(lockFile().holders()).singleElement().satisfies(h -> {
                assertThat(h.pid()).isEqualTo(python.process().pid());
                assertThat(h.isShared()).isFalse();
                assertThat(h.protocols()).containsExactly(LockProtocol.FLOCK);
            });
            CompletableFuture<Lock> reader = acquireOnAThread(lockFile().shared());
            awaitKernelWaiter(ProcessHandle.current().pid());
            assertThat(reader).isNotDone();
            release(python);
            reader.get(60, TimeUnit.SECONDS).close();
        }
        Lock reader = lockFile().shared().acquire();
        try (Children python = Children.exec(PYTHON, "-c", PYTHON_PEER, "hold", "locket", path().toString())) {
            python.expect("WAITING");
            awaitKernelWaiter(python.process().pid());
            reader.close();
            python.expect("LOCKED");
            assertThat(lockFile().shared().tryAcquire()).isEmpty();
            release(python);
        } finally {
            reader.close();
        }
    }

    /**
     * Locket without its {@code flock(2)} half, in another JVM: with no native binding at all (the
     * JDK's channel, classic locks) or with {@code -Dio.github.locket.flock=false} (an
     * open-file-description lock alone). Its readers still hold together with Locket's here, and
     * exclude and are excluded by writers, both ways; only {@code flock(2)} users no longer see it.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"no native binding", "-Dio.github.locket.flock=false"})
    void locketWithoutFlockStillSharesWithLocketReadersAndExcludesWriters(String how) throws Exception {
        boolean noBinding = how.equals("no native binding");
        assumeTrue(!noBinding || Children.canStartWithoutNativeBinding(),
                "Java 22-23: FFM cannot be denied to a child");
        try (Children other = fcntlOnly(noBinding, "protocols", path().toString())) {
            assertThat(other.expect("PROTOCOLS")).isEqualTo("PROTOCOLS FCNTL");
            other.expect("LOCKED"); // exclusive
            assertThat(lockFile().shared().tryAcquire()).as("a reader while it writes").isEmpty();
            release(other);
        }
        try (Children other = fcntlOnly(noBinding, "hold-as", path().toString(), "shared")) {
            other.expect("LOCKED");
            try (Lock reader = lockFile().shared().tryAcquire()
                    .orElseThrow(() -> new AssertionError("a Locket reader could not join its reader"))) {
                assertThat(lockFile().tryAcquire()).as("a writer while both read").isEmpty();
                assertThat(lockFile().holders()).anySatisfy(h -> {
                    assertThat(h.pid()).isEqualTo(other.process().pid());
                    assertThat(h.isShared()).isTrue();
                    assertThat(h.protocols()).containsExactly(LockProtocol.FCNTL);
                });
            }
            assertThat(Peer.FLOCK_COMMAND.free(path(), false)).as("flock -x: it has no flock(2) half").isTrue();
            release(other);
        }
        try (Lock reader = lockFile().shared().acquire();
                Children writer = fcntlOnly(noBinding, "probe-as", path().toString(), "exclusive");
                Children another = fcntlOnly(noBinding, "probe-as", path().toString(), "shared")) {
            assertThat(writer.expect("")).as("its writer while Locket reads").isEqualTo("BUSY");
            assertThat(another.expect("")).as("its reader while Locket reads").isEqualTo("FREE");
        }
    }

    private static Children fcntlOnly(boolean noBinding, String... args) throws Exception {
        return noBinding ? Children.startWithoutNativeBinding(args)
                : Children.startWithOptions(List.of("-Dio.github.locket.flock=false"), args);
    }

    /** Checks that {@code holders} names {@code other}: its pid, mode, protocols and command line. */
    private static void assertNamed(List<LockHolder> holders, Children other, Peer peer, boolean shared) {
        long pid = other.process().pid();
        assertThat(holders).as("holders %s name %s (pid %d)", holders, peer, pid).anySatisfy(h -> {
            assertThat(h.pid()).isEqualTo(pid);
            assertThat(h.isShared()).as("shared").isEqualTo(shared);
            assertThat(h.protocols()).isEqualTo(peer.protocols());
            assertThat(h.command()).hasValueSatisfying(c -> assertThat(c).contains(peer.command));
        });
    }

    /**
     * Waits until the kernel lists a waiter for the file from process {@code pid}, or one it cannot
     * name (an open-file-description lock's waiter, pid -1).
     */
    private void awaitKernelWaiter(long pid) {
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                .until(() -> lockFile().waiters().stream().anyMatch(w -> w.pid() == pid || w.pid() == -1));
    }

    /** Sends {@code release} and waits for the program to say so and exit (so its lock is gone). */
    private static void release(Children other) throws Exception {
        other.send("release");
        other.expect("RELEASED");
        assertThat(other.waitFor()).isZero();
    }

    /** A blocking acquisition on a thread of its own, as an application thread makes it. */
    private static CompletableFuture<Lock> acquireOnAThread(LockFile lockFile) {
        CompletableFuture<Lock> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                Lock lock = lockFile.acquire();
                if (!result.complete(lock)) {
                    lock.close();
                }
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "acquirer");
        t.setDaemon(true);
        t.start();
        return result;
    }
}
