package io.github.locket;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * A lock you can acquire, named for messages: Locket's semantics, whatever holds the lock. {@link
 * LockFile} is one (a file, for the processes of one host); {@code locket-postgres} offers another
 * (a PostgreSQL advisory lock, for several hosts). Code written against {@code NamedLock} &mdash;
 * and {@code ReactiveLocket}, which accepts any &mdash; switches between them unchanged.
 *
 * <p>Every implementation keeps these semantics:
 *
 * <ul>
 *   <li>One lock per name. Each successful acquisition returns a new {@link Lock}, held until that
 *       handle is {@linkplain Lock#close() closed}, by any thread; closing twice is harmless.
 *   <li>Not reentrant: acquiring a lock this thread already holds waits, or times out, like any
 *       other acquisition.
 *   <li>The {@linkplain #timeout() timeout}: none waits as long as it takes; {@link Duration#ZERO}
 *       makes one attempt; a positive one fails with {@link LockTimeoutException} when it expires.
 *       {@link #tryAcquire()} always makes one attempt.
 *   <li>Cancelling or completing {@link #acquireAsync()}'s future from outside abandons the wait;
 *       a grant that races with that is released, never leaked.
 * </ul>
 *
 * <p>Implementations are immutable and thread-safe.
 */
public interface NamedLock {
    /**
     * Returns the lock's name, as messages show it: a {@link LockFile}'s path, a PostgreSQL lock's
     * name.
     *
     * @return the name
     */
    String name();

    /**
     * Acquires the lock, waiting until it is free or the timeout expires.
     *
     * <p>An interrupt, before or during the wait, ends it with {@link InterruptedException} and
     * leaves nothing held, even if the lock was granted in the same instant.
     *
     * @return the held lock; close it to release
     * @throws LockTimeoutException if the timeout expired first
     * @throws InterruptedException if this thread was interrupted
     * @throws IOException if the lock cannot be taken at all; the message names the lock
     */
    Lock acquire() throws IOException, InterruptedException;

    /**
     * Starts an acquisition and returns at once with its future, which completes with the held
     * {@link Lock}, or exceptionally with {@link LockTimeoutException} when the timeout expires, or
     * with an {@link IOException} naming the lock. Completing the future from outside ({@code
     * cancel}, {@code orTimeout}, {@code completeExceptionally}) abandons the wait; nothing is ever
     * held for a future that did not complete with the lock.
     *
     * @return a future of the held lock
     */
    CompletableFuture<Lock> acquireAsync();

    /**
     * Makes one non-blocking attempt, whatever the timeout.
     *
     * @return the held lock, or empty if it is not free
     * @throws IOException if the lock cannot be taken at all; the message names the lock
     */
    Optional<Lock> tryAcquire() throws IOException;

    /**
     * Returns the timeout of {@link #acquire()} and {@link #acquireAsync()}.
     *
     * @return the timeout, or empty if they wait as long as it takes
     */
    Optional<Duration> timeout();

    /**
     * Returns the same lock with another timeout.
     *
     * @param timeout the copy's timeout; {@link Duration#ZERO} for a single attempt
     * @return the same lock, timed differently
     * @throws NullPointerException if {@code timeout} is null
     * @throws IllegalArgumentException if {@code timeout} is negative
     */
    NamedLock withTimeout(Duration timeout);

    /**
     * Returns the same lock, waiting as long as it takes.
     *
     * @return the same lock with no timeout
     */
    NamedLock withoutTimeout();
}
