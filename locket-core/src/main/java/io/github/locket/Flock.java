package io.github.locket;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The {@code flock(2)} half of a lock on Linux, on a descriptor of the lock file that Locket opens
 * for it alone. Python's locket, filelock, portalocker and util-linux {@code flock(1)} take these
 * locks, which never conflict with the {@code fcntl} record locks of {@code FileChannel} on local
 * filesystems; Locket takes both, always {@code fcntl} first.
 *
 * <p>Calls are made under the {@link FileEntry}'s monitor. The descriptor is closed only when this
 * JVM holds no {@code fcntl} lock on the file: closing any descriptor drops those.
 */
interface Flock {
    /**
     * One {@code flock(LOCK_EX | LOCK_NB)}.
     *
     * @return true if held now, false if another open file description holds it
     */
    boolean tryLock() throws IOException;

    /** {@code flock(LOCK_UN)}. */
    void unlock() throws IOException;

    /** Closes the descriptor. */
    void close();

    /**
     * The descriptor's number, so that the channel can be opened on the same file through {@code
     * /proc/self/fd}; -1 when there is none.
     */
    int fd();

    /**
     * This descriptor without its locking: for NFS, where Linux emulates {@code flock(2)} with an
     * {@code fcntl} lock (which would conflict with our own {@code fcntl} half). It still names the
     * file and is closed with the entry.
     */
    default Flock identityOnly() {
        Flock self = this;
        return new Flock() {
            @Override
            public boolean tryLock() {
                return true;
            }

            @Override
            public void unlock() {}

            @Override
            public void close() {
                self.close();
            }

            @Override
            public int fd() {
                return self.fd();
            }
        };
    }

    /** Opens descriptors: one native binding of {@code open}, {@code flock} and {@code close}. */
    interface Opener {
        /**
         * Opens {@code path} for writing, creating it (mode 0666 less the umask) if missing, and
         * without blocking on a FIFO ({@code O_NONBLOCK}: a FIFO without a reader fails at once).
         */
        Flock open(Path path) throws IOException;
    }

    /** Where {@code flock(2)} is not used: Windows, macOS, or no native binding available. */
    Flock NONE = new Flock() {
        @Override
        public boolean tryLock() {
            return true;
        }

        @Override
        public void unlock() {}

        @Override
        public void close() {}

        @Override
        public int fd() {
            return -1;
        }
    };

    /** Linux flock(2) and errno values, the same on every architecture Java runs on. */
    int LOCK_EX = 2;
    int LOCK_NB = 4;
    int LOCK_UN = 8;
    /**
     * The flock(2) descriptor is opened for writing, as the channel is: the same permission, so it
     * cannot fail where the channel succeeded (read access is not needed), and NFS, which emulates
     * flock(2) with fcntl locks, refuses an exclusive lock on a read-only descriptor (EBADF).
     */
    int O_WRONLY = 1;
    int O_CREAT = 0100;
    int O_NONBLOCK = 04000;
    int O_CLOEXEC = 0x80000;
    int OPEN_FLAGS = O_WRONLY | O_CREAT | O_NONBLOCK | O_CLOEXEC;
    int MODE_0666 = 0666;
    int EINTR = 4;
    int EWOULDBLOCK = 11;
    int ENFILE = 23;
    int EMFILE = 24;

    /** A failed {@code open}, as the JDK would have reported it (so that messages agree). */
    static IOException openFailure(Path path, int errno) {
        String file = path.toString();
        switch (errno) {
            case 2: // ENOENT: the directory is missing
                return new java.nio.file.NoSuchFileException(file);
            case 1: // EPERM
            case 13: // EACCES
            case 30: // EROFS
                return new java.nio.file.AccessDeniedException(file);
            case 21: // EISDIR
                return new java.nio.file.FileSystemException(file, null, "is a directory; a lock file must be a regular file");
            case 6: // ENXIO: a FIFO without a reader, or a socket
                return new java.nio.file.FileSystemException(file, null,
                        "is not a regular file (a device, FIFO or socket); a lock file must be a regular file");
            default:
                return new java.nio.file.FileSystemException(file, null, describe("open", errno));
        }
    }

    /** errno as a message: the JDK's own words where Locket reacts to it. */
    static String describe(String call, int errno) {
        String what = errno == EMFILE || errno == ENFILE ? " (Too many open files)" : "";
        return call + " failed: errno " + errno + what;
    }
}
