package io.github.locket;

import io.github.locket.testing.Children;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input fails at once with an exception that names the path or value, and holds nothing. */
final class BadInputTest {
    @TempDir
    Path dir;

    @Test
    void nullArgumentsAreRejectedNamingTheParameter() {
        assertThatThrownBy(() -> Locket.lockFile(null)).isInstanceOf(NullPointerException.class).hasMessage("path");
        assertThatThrownBy(() -> Locket.lockFile(null, Duration.ZERO))
                .isInstanceOf(NullPointerException.class).hasMessage("path");
        assertThatThrownBy(() -> Locket.lockFile(dir.resolve("a.lock"), null))
                .isInstanceOf(NullPointerException.class).hasMessage("timeout");
    }

    @Test
    void aNegativeTimeoutIsRejectedNamingTheValue() {
        assertThatThrownBy(() -> Locket.lockFile(dir.resolve("a.lock"), Duration.ofMillis(-5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("timeout < 0: PT-0.005S");
    }

    @Test
    void aDirectoryIsNotALockFile() {
        assertFailsEveryWay(dir, e -> assertThat(e).isInstanceOf(FileSystemException.class)
                .hasMessageContaining(dir.toString())
                .hasMessageContaining("is a directory"));
    }

    @Test
    void aMissingParentDirectoryIsNamed() {
        Path path = dir.resolve("missing").resolve("a.lock");
        assertFailsEveryWay(path, e -> assertThat(e).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining(path.toString())
                .hasMessageContaining("directory does not exist"));
        assertThat(path.getParent()).doesNotExist();
    }

    @Test
    void aDeviceIsNotALockFile() {
        Path devNull = Path.of("/dev/null");
        assertFailsEveryWay(devNull, e -> assertThat(e).isInstanceOf(FileSystemException.class)
                .hasMessageContaining("/dev/null")
                .hasMessageContaining("not a regular file"));
    }

    @Test
    void aFifoFailsAtOnceInsteadOfHanging() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor()).isZero();
        assertFailsEveryWay(fifo, e -> assertThat(e).isInstanceOf(FileSystemException.class)
                .hasMessageContaining(fifo.toString())
                .hasMessageContaining("not a regular file"));
    }

    @Test
    void aUnixSocketIsNotALockFile() throws Exception {
        Path socket = dir.resolve("socket");
        try (java.nio.channels.ServerSocketChannel server =
                java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            server.bind(java.net.UnixDomainSocketAddress.of(socket));
            assertFailsEveryWay(socket, e -> assertThat(e).isInstanceOf(FileSystemException.class)
                    .hasMessageContaining(socket.toString())
                    .hasMessageContaining("not a regular file"));
        }
    }

    @Test
    void theEmptyPathIsTheWorkingDirectoryAndSoNotALockFile() {
        assertFailsEveryWay(Path.of(""), e -> assertThat(e).isInstanceOf(FileSystemException.class)
                .hasMessageContaining("is a directory"));
    }

    /**
     * {@code /proc/version} is a regular, read-only file to {@code stat}: root may open it for
     * writing (nothing is ever written) and lock it, so for root it works as a lock between
     * processes; an ordinary user is refused, naming the path. (Beware {@code /proc/self/...}:
     * it names a different file in every process, so it excludes nobody.)
     */
    @Test
    void aFileOnProcWorksForRootAndIsRefusedToAnOrdinaryUser() throws Exception {
        Path proc = Path.of("/proc/version");
        if (Children.isRoot()) {
            try (Lock lock = Locket.lockFile(proc).acquire()) {
                assertThat(Children.freeAsSeenFromAnotherProcess(proc)).isFalse();
            }
            assertThat(Children.freeAsSeenFromAnotherProcess(proc)).isTrue();
            try (Children child = Children.startAsNobody("probe", proc.toString())) {
                child.expect("ERROR java.nio.file.AccessDeniedException: " + proc
                        + ": cannot open the lock file for writing: permission denied");
            }
        } else {
            assertFailsEveryWay(proc, e -> assertThat(e).isInstanceOf(java.nio.file.AccessDeniedException.class)
                    .hasMessageContaining(proc.toString()));
        }
    }

    @Test
    void aSymbolicLinkLoopIsNamed() throws Exception {
        Path a = dir.resolve("a.lock");
        Path b = dir.resolve("b.lock");
        Files.createSymbolicLink(a, b);
        Files.createSymbolicLink(b, a);
        assertFailsEveryWay(a, e -> assertThat(e).isInstanceOf(FileSystemException.class)
                .hasMessageContaining(a.toString()));
    }

    @Test
    void aPathTooLongIsNamed() {
        Path path = dir.resolve("x".repeat(300));
        assertFailsEveryWay(path, e -> assertThat(e).isInstanceOf(FileSystemException.class)
                .hasMessageContaining(path.toString()));
    }

    @Test
    void aDanglingSymbolicLinkCreatesItsTargetLikeAnyMissingFile() throws Exception {
        Path target = dir.resolve("target.lock");
        Path link = Files.createSymbolicLink(dir.resolve("link.lock"), target);
        try (Lock lock = Locket.lockFile(link).acquire()) {
            assertThat(target).isRegularFile();
            assertThat(Locket.lockFile(target).tryAcquire()).isEmpty();
        }
    }

    @Test
    void aReadOnlyFileIsRefusedToAnOrdinaryUserNamingThePath() throws Exception {
        Path path = Files.createFile(dir.resolve("read-only.lock"));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("r--r--r--"));
        assertRefusedToNobody(path);
        if (Children.isRoot()) { // root may write any file, so for root the lock works
            Locket.lockFile(path).acquire().close();
        } else {
            assertFailsEveryWay(path, e -> assertThat(e).hasMessageContaining(path.toString()));
        }
    }

    @Test
    void aReadOnlyDirectoryIsRefusedToAnOrdinaryUserNamingThePath() throws Exception {
        Path readOnly = Files.createDirectory(dir.resolve("read-only"));
        Path path = readOnly.resolve("a.lock");
        Files.setPosixFilePermissions(readOnly, PosixFilePermissions.fromString("r-xr-xr-x"));
        assertRefusedToNobody(path);
        assertThat(path).doesNotExist();
    }

    @Test
    void aWriteOnlyFileLocks() throws Exception {
        // Opening the file for writing is all a lock needs, flock(2) half included.
        Path path = Files.createFile(dir.resolve("write-only.lock"));
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("-w--w--w-"));
        if (!Children.isRoot()) {
            Locket.lockFile(path).acquire().close();
            return;
        }
        // Root may read any file: ask an ordinary user.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (Children child = Children.startAsNobody("protocols", path.toString())) {
            String protocols = child.expect("PROTOCOLS");
            child.expect("LOCKED");
            child.send("release");
            child.expect("RELEASED");
            assertThat(protocols).as("the child binds flock(2) as this JVM does")
                    .isEqualTo(Locket.protocols().contains(LockProtocol.FLOCK) ? "PROTOCOLS FCNTL,FLOCK" : "PROTOCOLS FCNTL");
        }
    }

    /** Runs a child JVM as {@code nobody} (when we are root) and checks it was refused clearly. */
    private void assertRefusedToNobody(Path path) throws Exception {
        if (!Children.isRoot()) {
            return; // the caller checks this JVM directly
        }
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (Children child = Children.startAsNobody("probe", path.toString())) {
            child.expect("ERROR java.nio.file.AccessDeniedException: " + path
                    + ": cannot open the lock file for writing: permission denied");
        }
    }

    @Test
    void theDescriptorCheckOfTheseTestsSeesTheDescriptorOfAHeldLock() throws Exception {
        Path path = dir.resolve("held.lock");
        try (Lock lock = Locket.lockFile(path).acquire()) {
            assertThat(descriptorsOn(path)).as("descriptors open on %s", path).isPositive();
        }
    }

    /** All three ways to acquire fail with the checked exception, leaving no entry or descriptor. */
    private static void assertFailsEveryWay(Path path, Consumer<Throwable> check) {
        int entries = Env.standard().registry.size();
        long descriptors = descriptorsOn(path);
        LockFile lockFile = Locket.lockFile(path, Duration.ofSeconds(30));
        for (ThrowingCallable attempt : new ThrowingCallable[] {
                lockFile::acquire, lockFile::tryAcquire, () -> lockFile.acquireAsync().join()}) {
            Throwable thrown = catchThrowable(attempt);
            check.accept(thrown instanceof CompletionException ? thrown.getCause() : thrown);
        }
        assertThat(Env.standard().registry.size()).as("registry entries").isEqualTo(entries);
        assertThat(descriptorsOn(path)).as("descriptors open on %s", path).isLessThanOrEqualTo(descriptors);
    }

    private static long descriptorsOn(Path path) {
        try {
            return Resources.descriptorsOn(path);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static Throwable catchThrowable(ThrowingCallable attempt) {
        try {
            attempt.call();
        } catch (Throwable t) {
            return t;
        }
        throw new AssertionError("no exception");
    }
}
