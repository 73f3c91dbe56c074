package io.github.locket;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The lock was not granted within the {@link LockFile}'s timeout. Nothing is held when this is
 * thrown.
 *
 * <p>An {@link IOException}, as {@link java.net.SocketTimeoutException} is: the wait was for
 * another program to let go of a file. {@link LockFile#acquireAsync()} completes exceptionally with
 * it, so {@code join()} throws it wrapped in a {@link java.util.concurrent.CompletionException}.
 */
public final class LockTimeoutException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path path;
    private final String name;
    private final Duration timeout;

    /**
     * Creates the exception for a wait on {@code path} that gave up after {@code timeout}.
     * Adapters that time acquisitions themselves (such as the Reactor adapter) throw it too.
     *
     * @param path the lock file
     * @param timeout the timeout that expired
     */
    public LockTimeoutException(Path path, Duration timeout) {
        this(path, String.valueOf(path), timeout);
    }

    /**
     * Creates the exception for a wait on the lock named {@code name} (a {@link NamedLock} that is
     * not a lock file) that gave up after {@code timeout}.
     *
     * @param name the lock's name
     * @param timeout the timeout that expired
     */
    public LockTimeoutException(String name, Duration timeout) {
        this(null, name, timeout);
    }

    private LockTimeoutException(Path path, String name, Duration timeout) {
        super("lock on " + name + " not acquired within " + Durations.format(timeout));
        this.path = path;
        this.name = name;
        this.timeout = timeout;
    }

    /**
     * Returns the lock file's path as the {@link LockFile} named it.
     *
     * @return the path; null for a lock that is not a lock file, and after deserialisation
     */
    public Path path() {
        return path;
    }

    /**
     * Returns the name of the lock that was not acquired ({@link NamedLock#name()}).
     *
     * @return the name
     */
    public String name() {
        return name;
    }

    /**
     * Returns the timeout that expired.
     *
     * @return the timeout
     */
    public Duration timeout() {
        return timeout;
    }
}
