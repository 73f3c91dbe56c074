/**
 * Micrometer metrics for Locket: how long acquisitions wait and how they end, how long locks are
 * held, and how many acquisitions are in flight, for any {@link io.github.locket.NamedLock}.
 *
 * <p>Start at {@link io.github.locket.micrometer.LocketMetrics}.
 */
module io.github.locket.micrometer {
    requires transitive io.github.locket;
    requires transitive micrometer.core;

    exports io.github.locket.micrometer;
}
