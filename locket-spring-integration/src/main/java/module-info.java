/**
 * A Spring Integration {@code LockRegistry} backed by Locket: locks that exclude each other across
 * threads and processes.
 *
 * <p>Start at {@link io.github.locket.spring.integration.LocketLockRegistry}.
 */
module io.github.locket.spring.integration {
    requires transitive io.github.locket;
    requires transitive spring.integration.core;

    exports io.github.locket.spring.integration;
}
