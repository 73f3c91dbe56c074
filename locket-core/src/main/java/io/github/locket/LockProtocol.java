package io.github.locket;

/**
 * An operating-system locking protocol that a Locket lock takes part in: programs that lock the
 * same file with a protocol in {@link Locket#protocols()} exclude Locket and are excluded by it.
 */
public enum LockProtocol {
    /**
     * POSIX record locks ({@code fcntl(F_SETLK)}), byte range [0,1): Java's {@code FileChannel.lock},
     * {@code lockf}, Python's fasteners. Always on Linux and other Unix systems.
     */
    FCNTL,
    /**
     * BSD {@code flock(2)}: Python's locket, filelock and portalocker, util-linux {@code flock(1)}.
     * On Linux when a native binding is available: the Foreign Function and Memory API on Java 22+,
     * or JNA on the class path.
     */
    FLOCK,
    /** Windows {@code LockFileEx} on byte [0,1), as Python's locket and filelock lock byte 0. */
    LOCK_FILE_EX
}
