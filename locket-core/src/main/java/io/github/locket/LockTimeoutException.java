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
    private final Duration timeout;

    /**
     * Creates the exception for a wait on {@code path} that gave up after {@code timeout}.
     * Adapters that time acquisitions themselves (such as the Reactor adapter) throw it too.
     *
     * @param path the lock file
     * @param timeout the timeout that expired
     */
    public LockTimeoutException(Path path, Duration timeout) {
        super("lock on " + path + " not acquired within " + Durations.format(timeout));
        this.path = path;
        this.timeout = timeout;
    }

    /**
     * Returns the lock file's path as the {@link LockFile} named it.
     *
     * @return the path; null only after deserialisation
     */
    public Path path() {
        return path;
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
