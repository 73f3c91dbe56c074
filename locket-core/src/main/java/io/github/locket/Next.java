package io.github.locket;

import java.io.IOException;

/**
 * What a {@link FileEntry} transition leaves to do outside the entry's monitor: deliver grants,
 * start a wait on a library thread, close descriptors, fail or restart waiters.
 */
@FunctionalInterface
interface Next {
    Next NONE = () -> {};

    void run();

    /** This, then {@code after}. */
    default Next then(Next after) {
        if (this == NONE) {
            return after;
        }
        return after == NONE ? this : () -> {
            run();
            after.run();
        };
    }

    /** Hands {@code lock} to {@code w}'s acquisition ({@link Delivery}). */
    static Next deliver(Env env, Waiter w, Lock lock) {
        return () -> Delivery.deliver(env, w, lock);
    }

    /**
     * The operating system refused to release the lock: the entry closed (which releases it) and
     * its waiters start over; {@link Lock#close()} throws {@link #failure}.
     */
    final class ReleaseFailed implements Next {
        final IOException failure;
        private final Next cleanUp;

        ReleaseFailed(IOException failure, Next cleanUp) {
            this.failure = failure;
            this.cleanUp = cleanUp;
        }

        @Override
        public void run() {
            cleanUp.run();
        }
    }
}
