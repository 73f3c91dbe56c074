package io.github.locket.postgres;

import java.io.IOException;
import org.jspecify.annotations.Nullable;

/**
 * A held PostgreSQL lock was lost: the connection that held it ended, so the server released it
 * and another process may hold it now. {@link PostgresLocket#lost(io.github.locket.Lock)} fails
 * with it.
 */
public final class LockLostException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String name;

    LockLostException(String name, @Nullable Throwable cause) {
        super("lost the lock on " + name + ": the connection that held it ended"
                + (cause == null ? "" : " (" + cause.getMessage() + ")"), cause);
        this.name = name;
    }

    /**
     * Returns the name of the lock that was lost.
     *
     * @return the name
     */
    public String name() {
        return name;
    }
}
