/**
 * Project Reactor adapter for Locket: {@code Mono<Lock>} with cancellation-aware timeouts.
 *
 * <p>Start at {@link io.github.locket.reactor.ReactiveLocket}.
 */
module io.github.locket.reactor {
    requires transitive io.github.locket;
    requires transitive reactor.core;
    requires transitive org.reactivestreams;

    exports io.github.locket.reactor;
}
