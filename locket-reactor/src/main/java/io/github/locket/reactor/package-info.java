/**
 * Reactor adapter: {@link io.github.locket.reactor.ReactiveLocket}.
 */
package io.github.locket.reactor;
