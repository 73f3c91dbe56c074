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

    /** Opens descriptors: one native binding of {@code open}, {@code flock} and {@code close}. */
    interface Opener {
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
    int O_CLOEXEC = 0x80000;
    int EINTR = 4;
    int EWOULDBLOCK = 11;
}
