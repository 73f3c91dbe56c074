package io.github.locket.micrometer;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The meters of one registry and tag set, shared by an instrumented lock and the copies made by
 * its {@code withTimeout} and {@code withoutTimeout}.
 */
final class Meters {
    static final String ACQUIRE = "locket.acquire";
    static final String HELD = "locket.held";
    static final String WAITERS = "locket.waiters";
    static final String OUTCOME = "outcome";

    /**
     * The waiter count behind each {@code locket.waiters} gauge, per registry and tag set. A gauge
     * reads one object, the one it was first registered with; and {@code instrument} may well be
     * called once per request, for a lock made per request. So every instrumented lock of one
     * registry and tag set must count in the same object. The registry is held weakly: the counts
     * do not reference it, so a registry that is dropped is dropped with its entry. (Guarded by
     * itself.)
     */
    private static final Map<MeterRegistry, Map<Tags, AtomicInteger>> WAITER_COUNTS = new WeakHashMap<>();

    private final MeterRegistry registry;
    private final Tags tags;
    private final Map<Outcome, Timer> acquire = new EnumMap<>(Outcome.class);
    private final Timer held;
    private final AtomicInteger waiters;

    Meters(MeterRegistry registry, Tags tags) {
        this.registry = registry;
        this.tags = tags;
        for (Outcome outcome : Outcome.values()) {
            // Registered up front, so that a dashboard sees a rate of zero rather than no series.
            acquire.put(outcome, Timer.builder(ACQUIRE)
                    .description("Time from the start of an acquisition of a Locket lock to its outcome")
                    .tags(tags)
                    .tag(OUTCOME, outcome.tag)
                    .register(registry));
        }
        held = Timer.builder(HELD)
                .description("Time a Locket lock was held: from the grant to the close of its Lock")
                .tags(tags)
                .register(registry);
        synchronized (WAITER_COUNTS) {
            waiters = WAITER_COUNTS.computeIfAbsent(registry, r -> new HashMap<>())
                    .computeIfAbsent(tags, t -> new AtomicInteger());
        }
        Gauge.builder(WAITERS, waiters, AtomicInteger::get)
                .description("Acquisitions of Locket locks in flight: started, without an outcome yet")
                .tags(tags)
                .strongReference(true)
                .register(registry);
    }

    /** An acquisition starts: one more waiter, and its wait is timed from now. */
    Timer.Sample startWait() {
        waiters.incrementAndGet();
        return Timer.start(registry.config().clock());
    }

    /** The acquisition timed by {@code wait} ended with {@code outcome}. */
    void endWait(Timer.Sample wait, Outcome outcome) {
        try {
            wait.stop(java.util.Objects.requireNonNull(acquire.get(outcome), "a timer per outcome"));
        } finally {
            waiters.decrementAndGet();
        }
    }

    /** A lock was granted: its hold is timed from now. */
    Timer.Sample startHold() {
        return Timer.start(registry.config().clock());
    }

    void endHold(Timer.Sample hold) {
        hold.stop(held);
    }

    Tags tags() {
        return tags;
    }
}
