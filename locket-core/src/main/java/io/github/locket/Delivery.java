package io.github.locket;

import java.util.ArrayDeque;

/**
 * Completes waiters' futures without recursion. Completing a future runs its dependent actions,
 * which may close the lock at once and so grant the next waiter: on a thread already delivering,
 * that next grant is queued and delivered by the outermost loop. A queue of any length is drained
 * in constant stack depth.
 */
final class Delivery {
    private static final ThreadLocal<Delivery> CURRENT = ThreadLocal.withInitial(Delivery::new);

    private final ArrayDeque<Waiter> pending = new ArrayDeque<>();
    private boolean active;

    private Delivery() {}

    static void deliver(Waiter first) {
        Delivery d = CURRENT.get();
        if (d.active) {
            d.pending.add(first);
            return;
        }
        d.active = true;
        Throwable failure = null;
        try {
            for (Waiter w = first; w != null; w = d.pending.poll()) {
                try {
                    w.deliver();
                } catch (Throwable t) { // an Error from a user callback: deliver the rest regardless
                    if (failure == null) {
                        failure = t;
                    } else {
                        failure.addSuppressed(t);
                    }
                }
            }
        } finally {
            d.active = false;
        }
        if (failure instanceof RuntimeException) {
            throw (RuntimeException) failure;
        } else if (failure != null) {
            throw (Error) failure;
        }
    }
}
