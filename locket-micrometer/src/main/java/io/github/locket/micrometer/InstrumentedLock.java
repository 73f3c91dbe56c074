package io.github.locket.micrometer;

import io.github.locket.Lock;
import io.github.locket.NamedLock;
import io.github.locket.spi.Locks;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/** {@link LocketMetrics#instrument}: a {@link NamedLock} that times its delegate's acquisitions. */
final class InstrumentedLock implements NamedLock {
    private final NamedLock delegate;
    private final Meters meters;

    InstrumentedLock(NamedLock delegate, Meters meters) {
        this.delegate = delegate;
        this.meters = meters;
    }

    @Override
    public String name() {
        return delegate.name();
    }

    @Override
    public Optional<Duration> timeout() {
        return delegate.timeout();
    }

    @Override
    public NamedLock withTimeout(Duration timeout) {
        return new InstrumentedLock(delegate.withTimeout(timeout), meters);
    }

    @Override
    public NamedLock withoutTimeout() {
        NamedLock untimed = delegate.withoutTimeout();
        return untimed == delegate ? this : new InstrumentedLock(untimed, meters);
    }

    @Override
    public Lock acquire() throws IOException, InterruptedException {
        Timer.Sample wait = meters.startWait();
        Lock lock;
        try {
            lock = delegate.acquire();
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            meters.endWait(wait, Outcome.ofFailure(e));
            throw e;
        }
        Lock held = hold(lock);
        meters.endWait(wait, Outcome.ACQUIRED);
        return held;
    }

    @Override
    public Optional<Lock> tryAcquire() throws IOException {
        Timer.Sample wait = meters.startWait();
        Optional<Lock> lock;
        try {
            lock = delegate.tryAcquire();
        } catch (IOException | RuntimeException | Error e) {
            meters.endWait(wait, Outcome.ofFailure(e));
            throw e;
        }
        // Busy: one attempt that failed, as a Duration.ZERO timeout does with LockTimeoutException.
        Optional<Lock> held = lock.map(this::hold);
        meters.endWait(wait, held.isPresent() ? Outcome.ACQUIRED : Outcome.TIMED_OUT);
        return held;
    }

    @Override
    public CompletableFuture<Lock> acquireAsync() {
        Timer.Sample wait = meters.startWait();
        CompletableFuture<Lock> source;
        try {
            source = delegate.acquireAsync();
        } catch (RuntimeException | Error e) {
            meters.endWait(wait, Outcome.FAILED);
            throw e;
        }
        return new Pending(source, wait).result;
    }

    /**
     * The handle the caller gets for the delegate's {@code lock}: closing it (or the garbage
     * collector's backstop, if it is dropped) closes {@code lock} and ends the hold's timing.
     */
    private Lock hold(Lock lock) {
        Timer.Sample hold = meters.startHold();
        return Locks.newLock(lock.name(), () -> {
            try {
                lock.close();
            } finally {
                meters.endHold(hold);
            }
        });
    }

    /**
     * One {@link #acquireAsync()}: the caller's future, completed from the delegate's, and the one
     * place that records the outcome, whichever of the two completes first.
     */
    private final class Pending implements BiConsumer<Lock, Throwable> {
        final CompletableFuture<Lock> result = new CompletableFuture<>();
        private final CompletableFuture<Lock> source;
        private final Timer.Sample wait;
        /** What the delegate's future gave {@code result}: our handle, or its failure. */
        private volatile @Nullable Object delivered;

        Pending(CompletableFuture<Lock> source, Timer.Sample wait) {
            this.source = source;
            this.wait = wait;
            // Callbacks, not stages to use: handle rather than whenComplete, which would wrap a failure
            // in a CompletionException and so read a LockTimeoutException's message (a holders lookup).
            CompletableFuture<@Nullable Void> unused = result.handle((lock, failure) -> {
                ended(lock, failure);
                return null;
            });
            unused = source.handle((lock, failure) -> {
                accept(lock, failure);
                return null;
            });
        }

        /** The delegate's future completed. */
        @Override
        public void accept(Lock lock, Throwable failure) {
            if (failure != null) {
                delivered = failure;
                result.completeExceptionally(failure);
                return;
            }
            Lock held = hold(lock);
            delivered = held;
            if (!result.complete(held)) {
                // The caller completed its future first: nobody will ever see this grant.
                Locks.lost(held); // not a hold: no hold time, no leak report
                lock.close();
            }
        }

        /** The caller's future completed, by the delegate's or from outside. */
        private void ended(Lock lock, Throwable failure) {
            Object value = failure != null ? failure : lock;
            if (value != null && value == delivered) {
                meters.endWait(wait, failure == null ? Outcome.ACQUIRED : Outcome.ofFailure(failure));
            } else {
                // Completed from outside (cancel, orTimeout, a Reactor timeout or cancel): abandon the
                // delegate's wait, as its contract says; a grant racing in is released by accept.
                meters.endWait(wait, Outcome.ofAbandonment(failure));
                source.cancel(false);
            }
        }
    }

    /** Returns {@code LocketMetrics.instrument(<delegate>)}, with the extra tags if there are any. */
    @Override
    public String toString() {
        return "LocketMetrics.instrument(" + delegate + (meters.tags().stream().findAny().isPresent() ? ", " + meters.tags() : "")
                + ")";
    }
}
