package io.github.locket.postgres;

import io.github.locket.Lock;
import io.github.locket.LockTimeoutException;
import io.github.locket.NamedLock;
import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jspecify.annotations.Nullable;

/** The {@link NamedLock} of {@link PostgresLocket}: immutable; one acquisition per call. */
final class PgLock implements NamedLock {
    final ConnectionFactory factory;
    final String name;
    final long key;
    final @Nullable Duration timeout; // null: wait forever
    final long timeoutNanos; // -1: forever, 0: one attempt
    final Seams seams;
    /** pg_advisory_lock_shared and friends: any number of shared holders, no exclusive one. */
    final boolean shared;

    PgLock(ConnectionFactory factory, String name, long key, @Nullable Duration timeout, Seams seams) {
        this(factory, name, key, timeout, seams, false);
    }

    PgLock(ConnectionFactory factory, String name, long key, @Nullable Duration timeout, Seams seams, boolean shared) {
        this.shared = shared;
        this.factory = factory;
        this.name = name;
        this.key = key;
        this.timeout = timeout;
        long nanos = -1;
        if (timeout != null) {
            try {
                nanos = timeout.toNanos();
            } catch (ArithmeticException tooLong) {
                nanos = -1; // about 292 years: as good as forever
            }
        }
        this.timeoutNanos = nanos;
        this.seams = seams;
    }

    static void checkTimeout(String name, Duration timeout) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout < 0: " + timeout + " (for PostgreSQL lock " + name + ")");
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeout);
    }

    @Override
    public PgLock withTimeout(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        checkTimeout(name, timeout);
        return new PgLock(factory, name, key, timeout, seams, shared);
    }

    @Override
    public PgLock withoutTimeout() {
        return timeout == null ? this : new PgLock(factory, name, key, null, seams, shared);
    }

    @Override
    public CompletableFuture<Lock> acquireAsync() {
        return new PgAcquisition(this, timeoutNanos == 0 ? PgAcquisition.Mode.ONCE : PgAcquisition.Mode.WAIT)
                .start(timeoutNanos);
    }

    @Override
    public Lock acquire() throws IOException, InterruptedException {
        if (Thread.interrupted()) {
            throw new InterruptedException("interrupted before acquiring PostgreSQL lock " + name);
        }
        CompletableFuture<Lock> result = acquireAsync();
        Lock lock;
        try {
            lock = result.get();
        } catch (InterruptedException e) {
            if (result.cancel(false)) { // abandons the wait; a racing grant is released
                throw new InterruptedException("interrupted while acquiring PostgreSQL lock " + name);
            }
            lock = finished(result, true); // granted or failed in the same instant
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
        if (Thread.interrupted()) { // interrupted as the grant arrived: the interrupt wins, as promised
            lock.close();
            throw new InterruptedException("interrupted while acquiring PostgreSQL lock " + name);
        }
        return lock;
    }

    /** The outcome of a completed future that an interrupt met; the interrupt wins over a grant. */
    private Lock finished(CompletableFuture<Lock> result, boolean interrupted) throws IOException, InterruptedException {
        try {
            Lock lock = result.join();
            lock.close();
            throw new InterruptedException("interrupted while acquiring PostgreSQL lock " + name);
        } catch (CompletionException e) {
            if (interrupted) {
                Thread.currentThread().interrupt(); // the failure is the answer; keep the interrupt
            }
            throw rethrow(e.getCause());
        }
    }

    @Override
    public Optional<Lock> tryAcquire() throws IOException {
        CompletableFuture<Lock> result = new PgAcquisition(this, PgAcquisition.Mode.TRY).start(-1);
        try {
            return Optional.ofNullable(result.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            if (!result.cancel(false) && !result.isCompletedExceptionally()) {
                Lock lock = result.join(); // done in the same instant: nothing may stay held
                if (lock != null) {
                    lock.close();
                }
            }
            throw new InterruptedIOException("interrupted while trying PostgreSQL lock " + name);
        } catch (ExecutionException e) {
            throw rethrow(e.getCause());
        }
    }

    LockTimeoutException timeoutException() {
        return new LockTimeoutException(name, timeout == null ? Duration.ZERO : timeout);
    }

    private static IOException rethrow(@Nullable Throwable cause) {
        if (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof IOException) {
            return (IOException) cause;
        } else if (cause instanceof CancellationException) {
            throw (CancellationException) cause;
        } else if (cause instanceof RuntimeException) {
            throw (RuntimeException) cause;
        } else if (cause instanceof Error) {
            throw (Error) cause;
        }
        return new IOException(cause);
    }

    /** The statement that waits for the lock. */
    String lockSql() {
        return shared ? "SELECT pg_advisory_lock_shared(" + key + ")" : seams.lockSql(key);
    }

    /** The statement that tries once: true if granted. */
    String tryLockSql() {
        return "SELECT pg_try_advisory_lock" + (shared ? "_shared(" : "(") + key + ")";
    }

    /** The statement that releases: true if the session held it in this mode. */
    String unlockSql() {
        return "SELECT pg_advisory_unlock" + (shared ? "_shared(" : "(") + key + ")";
    }

    /**
     * Returns {@code PostgresLock[<name>, key=<key>, timeout=<timeout or none>]}, with {@code ,
     * shared} after the name if shared.
     */
    @Override
    public String toString() {
        return "PostgresLock[" + name + (shared ? ", shared" : "") + ", key=" + key + ", timeout="
                + (timeout == null ? "none" : timeout) + "]";
    }
}
