package io.github.locket;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Opens a lock file: the seam between the registry and the file system. Tests wrap {@link
 * #standard} to inject a rename, a failure or descriptor exhaustion at a chosen step.
 */
interface FileOpener {
    /**
     * Opens the lock file at {@code path}, creating it if missing; {@link OsLock#key()} is the
     * identity of the very file its descriptors are on.
     *
     * @throws IOException naming the path, if it cannot be a lock file
     */
    OsLock open(Path path, Env env) throws IOException;

    /** A step of {@link #standard}'s open where a test may act (rename the file, say). */
    interface Step {
        Step NONE = path -> {};

        void afterFirstOpen(Path path) throws IOException;
    }

    /** The library's opener: {@code sys} (or null for the JDK's channel), with {@code flock(2)} or not. */
    static FileOpener standard(@Nullable Sys sys, boolean flock, Step step) {
        return sys == null ? new ByPath(step) : new ByDescriptor(sys, flock, step);
    }

    /**
     * Linux with a native binding: the file is opened once, by path, and its identity is taken
     * from that descriptor (through {@code /proc/self/fd}): a rename over the path at any moment
     * cannot give the entry a key that names another file than its descriptor is on.
     */
    final class ByDescriptor implements FileOpener {
        private static final int FLAGS = Sys.O_CREAT | Sys.O_NONBLOCK | Sys.O_CLOEXEC; // a FIFO fails at once
        private final Sys sys;
        private final boolean flock;
        private final Step step;

        ByDescriptor(Sys sys, boolean flock, Step step) {
            this.sys = sys;
            this.flock = flock;
            this.step = step;
        }

        @Override
        public OsLock open(Path path, Env env) throws IOException {
            Registry.statOrNull(path); // rejects a directory, FIFO or device before opening it
            // Read and write: a shared lock needs a readable descriptor. A file we may write but
            // not read still takes exclusive locks.
            int fd = sys.open(path, Sys.O_RDWR | FLAGS, Sys.MODE_0666);
            if (fd == -Sys.EACCES) {
                fd = sys.open(path, Sys.O_WRONLY | FLAGS, Sys.MODE_0666);
            }
            if (fd < 0) {
                throw Registry.named(path, openFailure(path, -fd));
            }
            try {
                step.afterFirstOpen(path);
                Path self = Path.of("/proc/self/fd/" + fd);
                Object key = Registry.stat(self, path).fileKey();
                if (Platform.onNfs(self)) {
                    // NFS: the JDK's channel (classic locks, which NFS supports), no flock half.
                    int rawFd = fd;
                    AsynchronousFileChannel channel = AsynchronousFileChannel.open(self,
                            Set.of(StandardOpenOption.WRITE), env.io);
                    return new ChannelLock(channel, key, path, true, () -> sys.close(rawFd));
                }
                return new OfdLock(sys, fd, key, path, flock, env);
            } catch (IOException e) {
                sys.close(fd); // nothing can be held through it yet
                throw Registry.named(path, e);
            } catch (RuntimeException e) {
                sys.close(fd);
                throw e;
            }
        }
    }

    /**
     * No native binding (Linux without one, Windows): the JDK's channel, opened by path, and its
     * identity is a {@code stat} of the path before and after the open, which must agree; if
     * another file was renamed over the path in between, the descriptor may be on either, so the
     * open starts over. (A file created by this open has no "before": a rename in the microseconds
     * after its creation goes unseen, which the identity check after every grant then catches.)
     */
    final class ByPath implements FileOpener {
        private static final Set<StandardOpenOption> OPTIONS = Set.of(StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        private static final Set<StandardOpenOption> WRITE_ONLY = Set.of(StandardOpenOption.WRITE,
                StandardOpenOption.CREATE);
        private final Step step;

        ByPath(Step step) {
            this.step = step;
        }

        @Override
        public OsLock open(Path path, Env env) throws IOException {
            for (;;) {
                BasicFileAttributes before = Registry.statOrNull(path);
                AsynchronousFileChannel channel;
                try {
                    channel = openChannel(path, env);
                } catch (IOException e) {
                    throw Registry.named(path, e);
                }
                try {
                    step.afterFirstOpen(path);
                    Object key = Registry.key(path, Registry.stat(path, path));
                    Object was = before == null ? key : Registry.key(path, before);
                    if (key.equals(was)) {
                        return new ChannelLock(channel, key, path, env.posixClose, null);
                    }
                } catch (IOException | RuntimeException e) {
                    channel.close();
                    throw e;
                }
                // Replaced meanwhile. On Windows closing a handle drops only its own locks; on Linux
                // without a binding this could drop a lock of ours if the file renamed away was one
                // we hold, a double race the fallback accepts (the native binding has no such gap).
                channel.close();
            }
        }

        private static AsynchronousFileChannel openChannel(Path path, Env env) throws IOException {
            try {
                return AsynchronousFileChannel.open(path, OPTIONS, env.io);
            } catch (AccessDeniedException writeOnly) {
                return AsynchronousFileChannel.open(path, WRITE_ONLY, env.io);
            }
        }
    }

    /** A failed {@code open}, as the JDK would have reported it (so that messages agree). */
    static IOException openFailure(Path path, int errno) {
        String file = path.toString();
        return switch (errno) {
            case Sys.ENOENT -> new NoSuchFileException(file); // the directory is missing
            case Sys.EPERM, Sys.EACCES, Sys.EROFS -> new AccessDeniedException(file);
            case Sys.EISDIR -> new FileSystemException(file, null, "is a directory; a lock file must be a regular file");
            case Sys.ENXIO -> new FileSystemException(file, null, // a FIFO without a reader, or a socket
                    "is not a regular file (a device, FIFO or socket); a lock file must be a regular file");
            default -> new FileSystemException(file, null, Sys.describe("open", errno));
        };
    }
}
