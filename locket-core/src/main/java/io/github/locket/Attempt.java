package io.github.locket;

import java.util.concurrent.CompletableFuture;

/** What one call of {@link FileEntry#acquire} came to. */
sealed interface Attempt {
    /** Held now, by the caller. */
    record Granted(Lock lock) implements Attempt {}

    /** Queued: the caller's {@link Acquisition} hears of the outcome. */
    record Queued(Waiter waiter) implements Attempt {}

    /** The entry is closed: resolve the path again once {@code after} completes. */
    record Retry(CompletableFuture<Void> after) implements Attempt {}

    /** Busy, and the caller did not want to wait. */
    enum Busy implements Attempt {
        /** Held or waited for in this JVM. */
        BUSY,
        /** Free here, and the operating system refused it: another process (or descriptor) holds it. */
        OS_BUSY
    }

    /**
     * The entry is closing: the caller's {@link Acquisition} is restarted, in arrival order with
     * the others deferred, once its descriptors are closed.
     */
    enum Deferred implements Attempt {
        DEFERRED
    }
}
