package io.github.locket;

import java.util.concurrent.RejectedExecutionException;

/**
 * Hands a grant to its waiter, outside the entry's monitor. Completing the waiter's future runs
 * its dependent actions, which may close the lock at once and so grant the next waiter, and so
 * on: a chain as long as the queue. Up to {@link #MAX_DEPTH} nested grants are delivered right
 * here; a deeper one goes to a {@code locket-io} thread, where the chain goes on. So a hand-off
 * never waits for an unrelated callback to return (a callback that releases and then acquires
 * again is served), and the stack stays shallow however long the chain.
 */
final class Delivery {
    static final int MAX_DEPTH = 8;
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private Delivery() {}

    static void deliver(Env env, Waiter w, Lock lock) {
        int[] depth = DEPTH.get();
        if (depth[0] >= MAX_DEPTH) {
            try {
                env.io.execute(() -> deliver(env, w, lock));
            } catch (RejectedExecutionException e) {
                lock.close();
                w.owner.result.completeExceptionally(e);
            }
            return;
        }
        depth[0]++;
        try {
            w.owner.granted(lock);
        } finally {
            depth[0]--;
        }
    }
}
