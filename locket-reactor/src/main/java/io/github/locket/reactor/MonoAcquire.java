package io.github.locket.reactor;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.NamedLock;
import io.github.locket.LockTimeoutException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.Scannable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * {@code Mono<Lock>} over {@link NamedLock#acquireAsync()}. Each subscription is one acquisition.
 *
 * <p>{@code Mono.create} and {@code Mono.fromFuture} can lose a value that races with a cancel
 * (see the project's notes on Reactor), so this operator makes one atomic decision per grant:
 * emit it to a subscriber that has requested and not cancelled, keep it until the request, or
 * release it. Once {@code onNext} is called the subscriber owns the lock.
 */
final class MonoAcquire extends Mono<Lock> implements Scannable {
    private final NamedLock lock;
    private final NamedLock untimed; // waits forever; the timeout runs on a Reactor scheduler
    private final long timeoutNanos; // -1: none (lock has none, or waits on the OS for one try)

    static Mono<Lock> create(NamedLock lock) {
        return onAssembly(new MonoAcquire(lock));
    }

    private MonoAcquire(NamedLock lock) {
        this.lock = lock;
        Duration timeout = lock.timeout().orElse(null);
        long nanos = -1;
        if (timeout != null && !timeout.isZero()) {
            try {
                nanos = timeout.toNanos();
            } catch (ArithmeticException tooLong) {
                nanos = -1; // about 292 years: as good as forever
            }
        }
        this.timeoutNanos = nanos;
        this.untimed = nanos > 0 ? lock.withoutTimeout() : lock; // shares the resolved file
    }

    @Override
    public void subscribe(CoreSubscriber<? super Lock> actual) {
        AcquireSubscription s = new AcquireSubscription(actual, this);
        actual.onSubscribe(s);
        s.start();
    }

    @Override
    @SuppressWarnings("rawtypes") // Scannable's own signature
    public @Nullable Object scanUnsafe(Attr key) {
        if (key == Attr.RUN_STYLE) {
            return Attr.RunStyle.ASYNC;
        }
        return null;
    }

    LockTimeoutException timeoutException() {
        Duration timeout = lock.timeout().orElseThrow();
        return lock instanceof LockFile f
                ? new LockTimeoutException(f.path(), timeout)
                : new LockTimeoutException(lock.name(), timeout);
    }

    @Override
    public String toString() {
        return "ReactiveLocket.acquire(" + lock + ")";
    }

    static final class AcquireSubscription implements Subscription, Scannable, BiConsumer<Lock, Throwable> {
        private static final int REQUESTED = 1;
        private static final int GRANTED = 2; // a lock is stored in `lock`, not yet emitted
        private static final int CANCELLED = 4;
        private static final int TERMINATED = 8; // onNext/onError sent, or about to be

        private static final AtomicIntegerFieldUpdater<AcquireSubscription> STATE =
                AtomicIntegerFieldUpdater.newUpdater(AcquireSubscription.class, "state");

        private final CoreSubscriber<? super Lock> actual;
        private final MonoAcquire parent;
        private volatile int state;
        private volatile @Nullable CompletableFuture<Lock> future;
        private volatile @Nullable Disposable timeoutTask;
        private volatile @Nullable LockTimeoutException timedOut; // what timeout() completed the future with
        private @Nullable Lock lock; // published by the CAS that sets GRANTED

        AcquireSubscription(CoreSubscriber<? super Lock> actual, MonoAcquire parent) {
            this.actual = actual;
            this.parent = parent;
        }

        void start() {
            if ((state & CANCELLED) != 0) {
                return;
            }
            CompletableFuture<Lock> f = parent.untimed.acquireAsync();
            future = f;
            if (!f.isDone() && parent.timeoutNanos > 0) {
                try {
                    Disposable t = Schedulers.parallel().schedule(this::timeout, parent.timeoutNanos, TimeUnit.NANOSECONDS);
                    timeoutTask = t;
                    if ((state & (CANCELLED | TERMINATED)) != 0) {
                        t.dispose();
                    }
                } catch (RejectedExecutionException e) {
                    f.cancel(false);
                    fail(e);
                    return;
                }
            }
            // handle, not whenComplete, which would wrap a failure in a CompletionException for its
            // own future: that reads a LockTimeoutException's message, which looks up the holders.
            CompletableFuture<@Nullable Void> unused = f.handle((granted, failure) -> {
                accept(granted, failure);
                return null;
            });
            if ((state & CANCELLED) != 0) {
                f.cancel(false); // cancelled while we were starting
            }
        }

        /** The acquisition completed: with a lock, or with a failure. */
        @Override
        public void accept(Lock granted, Throwable failure) {
            if (failure != null) {
                fail(failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure);
            } else if ((state & (CANCELLED | TERMINATED)) != 0) {
                granted.close(); // nobody is listening any more: no need to hop first
            } else if (isLibraryThread()) {
                // Never run the subscriber's code on Locket's own threads.
                Scheduler scheduler = Schedulers.parallel();
                try {
                    scheduler.schedule(() -> offer(granted));
                } catch (RejectedExecutionException e) {
                    granted.close();
                    fail(e);
                }
            } else {
                offer(granted);
            }
        }

        private static boolean isLibraryThread() {
            return Thread.currentThread().getName().startsWith("locket-");
        }

        private void offer(Lock granted) {
            lock = granted;
            for (;;) {
                int s = state;
                if ((s & (CANCELLED | TERMINATED)) != 0) {
                    lock = null;
                    granted.close(); // nobody will take it: cancelled, or timed out first
                    return;
                }
                if ((s & REQUESTED) != 0) {
                    if (STATE.compareAndSet(this, s, s | TERMINATED)) {
                        emit(granted);
                        return;
                    }
                } else if (STATE.compareAndSet(this, s, s | GRANTED)) {
                    return; // request() emits it
                }
            }
        }

        @Override
        public void request(long n) {
            if (!Operators.validate(n)) {
                return;
            }
            for (;;) {
                int s = state;
                if ((s & (REQUESTED | CANCELLED | TERMINATED)) != 0) {
                    return;
                }
                if ((s & GRANTED) != 0) {
                    Lock granted = lock; // set before GRANTED
                    if (granted != null && STATE.compareAndSet(this, s, s | REQUESTED | TERMINATED)) {
                        emit(granted);
                        return;
                    }
                } else if (STATE.compareAndSet(this, s, s | REQUESTED)) {
                    return;
                }
            }
        }

        @Override
        public void cancel() {
            for (;;) {
                int s = state;
                if ((s & (CANCELLED | TERMINATED)) != 0) {
                    return;
                }
                if (STATE.compareAndSet(this, s, s | CANCELLED)) {
                    disposeTimeout();
                    if ((s & GRANTED) != 0) {
                        Lock held = lock;
                        lock = null;
                        if (held != null) {
                            held.close(); // granted but never emitted
                        }
                    }
                    CompletableFuture<Lock> f = future;
                    if (f != null) {
                        f.cancel(false); // leave the queue; a grant racing in is released by Locket
                    }
                    return;
                }
            }
        }

        private void timeout() {
            for (;;) {
                int s = state;
                if ((s & (GRANTED | CANCELLED | TERMINATED)) != 0) {
                    return; // the grant won, or nobody is listening
                }
                if (STATE.compareAndSet(this, s, s | TERMINATED)) {
                    // Completing the future from outside abandons the wait as cancel does, and tells
                    // a NamedLock that watches its futures (LocketMetrics) that this was a timeout.
                    // A grant racing in now finds TERMINATED and is released.
                    LockTimeoutException timeout = parent.timeoutException();
                    timedOut = timeout;
                    CompletableFuture<Lock> f = future; // set before this timer was scheduled
                    if (f != null) {
                        f.completeExceptionally(timeout);
                    }
                    actual.onError(timeout);
                    return;
                }
            }
        }

        private void fail(Throwable failure) {
            for (;;) {
                int s = state;
                if ((s & (CANCELLED | TERMINATED)) != 0) {
                    if (!(failure instanceof CancellationException) && failure != timedOut) {
                        Operators.onErrorDropped(failure, actual.currentContext());
                    }
                    return;
                }
                if (STATE.compareAndSet(this, s, s | TERMINATED)) {
                    disposeTimeout();
                    actual.onError(failure);
                    return;
                }
            }
        }

        private void emit(Lock granted) {
            lock = null;
            disposeTimeout();
            actual.onNext(granted);
            actual.onComplete();
        }

        private void disposeTimeout() {
            Disposable t = timeoutTask;
            if (t != null) {
                t.dispose();
            }
        }

        @Override
        @SuppressWarnings("rawtypes") // Scannable's own signature
        public @Nullable Object scanUnsafe(Attr key) {
            if (key == Attr.CANCELLED) {
                return (state & CANCELLED) != 0;
            } else if (key == Attr.TERMINATED) {
                return (state & TERMINATED) != 0;
            } else if (key == Attr.ACTUAL) {
                return actual;
            } else if (key == Attr.RUN_STYLE) {
                return Attr.RunStyle.ASYNC;
            }
            return null;
        }
    }
}
