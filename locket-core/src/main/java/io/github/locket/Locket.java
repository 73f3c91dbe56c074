package io.github.locket;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * Entry point: names a lock by its file.
 *
 * <pre>{@code
 * LockFile lockFile = Locket.lockFile(Path.of("/var/lock/nightly.lock"), Duration.ofSeconds(30));
 * try (Lock lock = lockFile.acquire()) {
 *     runNightlyJob();
 * }
 * }</pre>
 *
 * <p>A {@link LockFile} is cheap and touches no file until it is used. Every {@code LockFile} that
 * names the same file (by any path, relative path, symbolic or hard link) is the same lock, in this
 * JVM and in every other process that locks the file the same way.
 */
public final class Locket {
    private Locket() {}

    /**
     * Returns a lock on {@code path} whose acquisitions wait as long as it takes.
     *
     * @param path the lock file; created, empty, on first use if missing, and never deleted
     * @throws NullPointerException if {@code path} is null
     */
    public static LockFile lockFile(Path path) {
        return new LockFile(Objects.requireNonNull(path, "path"), null, Env.standard());
    }

    /**
     * Returns a lock on {@code path} whose acquisitions give up after {@code timeout}.
     *
     * <p>{@link Duration#ZERO} means a single non-blocking attempt. A timeout too large to count in
     * nanoseconds (about 292 years) waits forever.
     *
     * @param path the lock file; created, empty, on first use if missing, and never deleted
     * @param timeout how long {@link LockFile#acquire()} and {@link LockFile#acquireAsync()} wait
     *     before failing with {@link LockTimeoutException}
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    public static LockFile lockFile(Path path, Duration timeout) {
        return lockFile(path).withTimeout(timeout);
    }

    /**
     * Returns the operating-system locking protocols that locks take part in, in this JVM.
     *
     * <p>On Linux: {@link LockProtocol#FCNTL}, and {@link LockProtocol#FLOCK} when a native binding
     * for {@code flock(2)} works (Java 22+ with native access allowed, or JNA on the class path);
     * without it Locket logs a warning once, and does not exclude Python's locket, filelock or
     * {@code flock(1)}. On Windows: {@link LockProtocol#LOCK_FILE_EX}.
     *
     * @return an unmodifiable set, the same for the life of the JVM
     */
    public static Set<LockProtocol> protocols() {
        return Platform.protocols();
    }
}
