package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native bindings' record locks, called directly: each binding this JVM has (JNA; and FFM on
 * Java 22+, where this class runs again from the packaged JAR). Open-file-description locks of two
 * descriptors conflict even within one process, so two descriptors of one file stand for two
 * processes. JNA passes Locket's byte [0, 1) in structs filled once, one per lock type, and any
 * other range in a struct filled per call: a struct of the wrong type, or a range read wrong, fails
 * here.
 */
class SysTest {
    @TempDir
    Path dir;

    private final List<Runnable> cleanup = new ArrayList<>();

    @AfterEach
    void closeDescriptors() {
        cleanup.forEach(Runnable::run);
    }

    private static List<Sys> bindings() {
        List<Sys> all = new ArrayList<>();
        try {
            Sys jna = JnaSys.loadOrNull();
            if (jna != null) {
                all.add(jna);
            }
        } catch (LinkageError noJna) {
            // JNA is not on this run's class path (the Java 22+ pass runs without it)
        }
        Sys preferred = NativeSys.load();
        if (preferred != null && !preferred.name().equals("JNA")) {
            all.add(preferred);
        }
        assumeTrue(!all.isEmpty() && Platform.sys() != null, "a native binding on Linux");
        return all;
    }

    /** {@code n} descriptors of one new file, each its own open file description; closed after the test. */
    private int[] descriptors(Sys sys, String name, int n) {
        Path file = dir.resolve(name + "-" + sys.name() + ".lock");
        int[] fds = new int[n];
        for (int i = 0; i < n; i++) {
            int fd = sys.open(file, Sys.O_RDWR | Sys.O_CREAT | Sys.O_CLOEXEC, Sys.MODE_0666);
            assertThat(fd).as("open %s through %s", file, sys.name()).isNotNegative();
            cleanup.add(() -> sys.close(fd));
            fds[i] = fd;
        }
        return fds;
    }

    @Test
    void anExclusiveLockOfLocketsByteExcludesAnotherDescriptorUntilItIsUnlocked() {
        for (Sys sys : bindings()) {
            int[] fd = descriptors(sys, "exclusive", 2);
            int a = fd[0];
            int b = fd[1];

            assertThat(sys.fcntlLock(a, Sys.F_OFD_SETLK, Sys.F_WRLCK, 0, 1)).as(sys.name()).isZero();
            assertThat(sys.fcntlLock(b, Sys.F_OFD_SETLK, Sys.F_RDLCK, 0, 1)).as(sys.name()).isIn(Sys.EAGAIN, Sys.EACCES);
            long[] conflict = sys.fcntlGetLock(b, Sys.F_OFD_GETLK, Sys.F_RDLCK, 0, 1);
            assertThat(conflict).as(sys.name()).hasSize(4);
            assertThat(conflict[0]).as("the conflicting lock's type, through %s", sys.name()).isEqualTo(Sys.F_WRLCK);
            assertThat(conflict[2]).as("its start").isZero();
            assertThat(conflict[3]).as("its length").isEqualTo(1);

            assertThat(sys.fcntlLock(a, Sys.F_OFD_SETLK, Sys.F_UNLCK, 0, 1)).as(sys.name()).isZero();
            assertThat(sys.fcntlLock(b, Sys.F_OFD_SETLK, Sys.F_WRLCK, 0, 1)).as(sys.name()).isZero();
            assertThat(sys.fcntlGetLock(a, Sys.F_OFD_GETLK, Sys.F_WRLCK, 0, 1)[0]).as(sys.name()).isEqualTo(Sys.F_WRLCK);
        }
    }

    @Test
    void sharedLocksOfLocketsByteCoexistAndExcludeAnExclusiveOne() {
        for (Sys sys : bindings()) {
            int[] fd = descriptors(sys, "shared", 3);
            int a = fd[0];
            int b = fd[1];
            int c = fd[2];

            assertThat(sys.fcntlLock(a, Sys.F_OFD_SETLK, Sys.F_RDLCK, 0, 1)).as(sys.name()).isZero();
            assertThat(sys.fcntlLock(b, Sys.F_OFD_SETLK, Sys.F_RDLCK, 0, 1)).as(sys.name()).isZero();
            assertThat(sys.fcntlLock(c, Sys.F_OFD_SETLK, Sys.F_WRLCK, 0, 1)).as(sys.name()).isIn(Sys.EAGAIN, Sys.EACCES);
            assertThat(sys.fcntlGetLock(c, Sys.F_OFD_GETLK, Sys.F_WRLCK, 0, 1)[0]).as(sys.name()).isEqualTo(Sys.F_RDLCK);
        }
    }

    @Test
    void aRangeOtherThanLocketsByteIsLockedAsAskedAndLeavesTheByteFree() {
        for (Sys sys : bindings()) {
            int[] fd = descriptors(sys, "range", 2);
            int a = fd[0];
            int b = fd[1];

            assertThat(sys.fcntlLock(a, Sys.F_OFD_SETLK, Sys.F_WRLCK, 5, 10)).as(sys.name()).isZero();
            long[] conflict = sys.fcntlGetLock(b, Sys.F_OFD_GETLK, Sys.F_WRLCK, 0, 100);
            assertThat(conflict[0]).as(sys.name()).isEqualTo(Sys.F_WRLCK);
            assertThat(conflict[2]).as("its start, through %s", sys.name()).isEqualTo(5);
            assertThat(conflict[3]).as("its length, through %s", sys.name()).isEqualTo(10);
            assertThat(sys.fcntlLock(b, Sys.F_OFD_SETLK, Sys.F_WRLCK, 0, 1)).as("byte 0 is free").isZero();
            assertThat(sys.fcntlLock(b, Sys.F_OFD_SETLK, Sys.F_WRLCK, 14, 1)).as(sys.name()).isIn(Sys.EAGAIN, Sys.EACCES);
        }
    }
}
