package io.github.locket.reactor;

import io.github.locket.Lock;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

/**
 * A subscriber that owns what it receives: it closes every lock, even one that arrives as it is
 * disposed. ({@code subscribe(Consumer)} would drop such a lock: Reactor's lambda subscriber
 * discards values that arrive after {@code dispose()} through {@code Hooks.onNextDropped}.)
 */
final class ClosingSubscriber extends BaseSubscriber<Lock> {
    final AtomicInteger received = new AtomicInteger();

    @Override
    protected void hookOnSubscribe(Subscription subscription) {
        subscription.request(1);
    }

    @Override
    protected void hookOnNext(Lock lock) {
        received.incrementAndGet();
        lock.close();
    }
}
