/**
 * Micrometer metrics for any Locket {@link io.github.locket.NamedLock}. Start at {@link
 * io.github.locket.micrometer.LocketMetrics}.
 */
package io.github.locket.micrometer;
