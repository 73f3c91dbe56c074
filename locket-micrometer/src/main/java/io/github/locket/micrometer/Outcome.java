package io.github.locket.micrometer;

import io.github.locket.LockTimeoutException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/** How an acquisition ended: the {@code outcome} tag of {@code locket.acquire}. */
enum Outcome {
    ACQUIRED("acquired"),
    TIMED_OUT("timed_out"),
    CANCELLED("cancelled"),
    FAILED("failed");

    final String tag;

    Outcome(String tag) {
        this.tag = tag;
    }

    /** The outcome of an acquisition that the lock itself ended with {@code failure}. */
    static Outcome ofFailure(Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof LockTimeoutException || cause instanceof TimeoutException) {
            return TIMED_OUT;
        } else if (cause instanceof CancellationException || cause instanceof InterruptedException) {
            return CANCELLED;
        }
        return FAILED;
    }

    /**
     * The outcome of an acquisition whose future the caller completed first ({@code failure} null
     * for {@code complete(value)}): the caller gave up, so never {@link #FAILED}.
     */
    static Outcome ofAbandonment(Throwable failure) {
        return failure != null && ofFailure(failure) == TIMED_OUT ? TIMED_OUT : CANCELLED;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
