/**
 * A ShedLock {@code LockProvider} backed by Locket: one lock file per lock name.
 *
 * <p>Start at {@link io.github.locket.shedlock.LocketLockProvider}.
 */
module io.github.locket.shedlock {
    requires transitive io.github.locket;
    requires transitive net.javacrumbs.shedlock.core;

    exports io.github.locket.shedlock;
}
