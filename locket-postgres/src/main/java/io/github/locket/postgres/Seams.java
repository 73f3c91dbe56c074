package io.github.locket.postgres;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where tests step into an acquisition to force an interleaving instead of waiting for luck. The
 * production value, {@link #NONE}, changes nothing.
 */
class Seams {
    static final Seams NONE = new Seams();

    private static final CompletionStage<Void> NOW = CompletableFuture.completedFuture(null);

    /** The statement that waits for the lock. */
    String lockSql(long key) {
        return "SELECT pg_advisory_lock(" + key + ")";
    }

    /** Called when the server has granted the lock, before the acquisition decides who owns it. */
    CompletionStage<Void> granted() {
        return NOW;
    }
}
