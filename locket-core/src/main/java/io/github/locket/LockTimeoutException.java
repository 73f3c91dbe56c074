package io.github.locket;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The lock was not granted within the {@link LockFile}'s timeout. Nothing is held when this is
 * thrown.
 *
 * <p>For a lock file, the message names the processes that held the lock ({@link #holders()}):
 * {@code "lock on /var/lock/nightly.lock not acquired within 30s; held by pid 4242 (python3
 * nightly.py), exclusive, [FLOCK]"}. They are looked up once, when first asked for (by {@link
 * #getMessage()} or {@link #holders()}), normally right after the timeout, when it is logged: not
 * when it is thrown, since the lookup reads {@code /proc} (milliseconds, on a busy machine) and would
 * delay every timeout by that much, on whatever thread it expires.
 *
 * <p>An {@link IOException}, as {@link java.net.SocketTimeoutException} is: the wait was for
 * another program to let go of a file. {@link LockFile#acquireAsync()} completes exceptionally with
 * it, so {@code join()} throws it wrapped in a {@link java.util.concurrent.CompletionException}.
 */
public final class LockTimeoutException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient @Nullable Path path;
    private final String name;
    private final Duration timeout;
    private volatile @Nullable List<LockHolder> holders; // looked up once, when first asked

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

    private LockTimeoutException(@Nullable Path path, String name, Duration timeout) {
        super("lock on " + name + " not acquired within " + Durations.format(timeout));
        this.path = path;
        this.name = name;
        this.timeout = timeout;
    }

    /**
     * Returns the processes that held the lock when it was looked up (see the class
     * documentation): process id, mode, protocols and command line. Empty where the platform
     * cannot tell (Windows), for a lock that is not a lock file, or after deserialisation.
     *
     * @return an unmodifiable list, possibly empty
     */
    public List<LockHolder> holders() {
        List<LockHolder> h = holders;
        if (h == null) {
            List<LockHolder> found;
            try {
                // Not this JVM's own half-taken lock: a waiter of ours in the kernel holds the fcntl
                // half while it waits for the flock half.
                found = path == null ? List.of() : Holders.of(path, false).stream()
                        .filter(holder -> !holder.isThisProcess() || holder.protocols().containsAll(Locket.protocols()))
                        .toList();
            } catch (IOException | RuntimeException cannotTell) {
                found = List.of();
            }
            holders = h = found;
        }
        return h;
    }

    /** Whether the holders were looked up yet (tests: a timeout must not wait for the lookup). */
    boolean holdersLookedUp() {
        return holders != null;
    }

    /** The timeout's message and, for a lock file, who held it. */
    @Override
    public @Nullable String getMessage() {
        List<LockHolder> h = holders();
        String base = super.getMessage();
        return h.isEmpty() ? base
                : base + "; held by " + h.stream().map(LockHolder::toString).collect(Collectors.joining("; "));
    }

    /**
     * Returns the lock file's path as the {@link LockFile} named it.
     *
     * @return the path; null for a lock that is not a lock file, and after deserialisation
     */
    public @Nullable Path path() {
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
