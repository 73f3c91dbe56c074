package io.github.locket;

import java.lang.System.Logger.Level;
import java.lang.ref.Reference;
import java.lang.ref.ReferenceQueue;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The garbage-collector backstop: a {@link Lock} that becomes unreachable while held is released,
 * and a warning names its path (and, when enabled, where it was acquired), as Netty's {@code
 * ResourceLeakDetector} reports a buffer never released.
 *
 * <p>Each {@link Grant} is a phantom reference to its user's {@code Lock}; the registry holds the
 * grant, never the handle, so the handle's unreachability is visible. The queue is drained on each
 * acquisition, and once a second on the existing {@code locket-timer} thread (no thread of its
 * own) while any grant is held and for {@value #IDLE_TICKS} ticks after the last grant. Those
 * seconds keep a JVM that takes locks every second or few from starting the tick again with each
 * grant: scheduling on an idle timer wakes the timer thread, which on a small machine takes the
 * CPU from the very thread being granted the lock (see locket-benchmarks/analysis.md). They are
 * few so that the timer thread still retires soon after the JVM stops taking locks.
 *
 * <p>The system property {@code io.github.locket.leakTraces} chooses what the warning shows:
 * {@code none} (the default: the path only, no cost), {@code sample} (the acquisition's stack for
 * one acquisition in {@value #SAMPLE_EVERY}), {@code all} (every acquisition's stack: for
 * debugging; costs a stack walk per acquisition).
 */
final class Leaks {
    static final System.Logger LOG = System.getLogger("io.github.locket");
    static final int SAMPLE_EVERY = 64;
    private static final long TICK_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Ticks without a grant before the tick stops. */
    static final int IDLE_TICKS = 5;
    private static final int TRACES = traces(System.getProperty("io.github.locket.leakTraces", "none"));

    final ReferenceQueue<Lock> queue = new ReferenceQueue<>();
    private final Env env;
    private final LongAdder held = new LongAdder();
    private final Set<Grant.External> external = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean ticking = new AtomicBoolean();
    /** A grant since the last tick; set by grants (once per tick), cleared by the tick. */
    private volatile boolean granted;
    private int idleTicks; // the tick's own: one tick at a time, each scheduled by the one before
    private int counter; // racy on purpose: sampling needs no exact count

    Leaks(Env env) {
        this.env = env;
    }

    private static int traces(String value) {
        return switch (value.toLowerCase(Locale.ROOT)) {
            case "all" -> 1;
            case "sample" -> SAMPLE_EVERY;
            default -> 0;
        };
    }

    /** Where an acquisition happened, if this one is traced; else null. */
    @Nullable Throwable site() {
        if (TRACES == 0 || (TRACES > 1 && ++counter % TRACES != 0)) {
            return null;
        }
        return new Throwable("acquired here");
    }

    /** A grant was made: start the tick if it had stopped. */
    void granted() {
        held.increment();
        if (!granted) {
            granted = true; // read first: one write per tick, not one per grant
        }
        if (!ticking.get() && ticking.compareAndSet(false, true)) {
            scheduleTick();
        }
    }

    void released() {
        held.decrement();
    }

    /** An {@link Grant.External} was made: nothing else keeps it reachable until released. */
    void granted(Grant.External g) {
        external.add(g);
        granted();
    }

    void released(Grant.External g) {
        external.remove(g);
        released();
    }

    /** Releases the grants whose handles the garbage collector found unreachable. */
    void poll() {
        for (Reference<? extends Lock> r; (r = queue.poll()) != null; ) {
            ((Grant) r).leaked();
        }
    }

    private void tick() {
        try {
            poll();
        } finally {
            if (granted) {
                granted = false;
                idleTicks = 0;
            }
            if (held.sum() > 0 || ++idleTicks < IDLE_TICKS) {
                scheduleTick();
            } else {
                idleTicks = 0;
                ticking.set(false);
                if (held.sum() > 0 && ticking.compareAndSet(false, true)) { // granted meanwhile
                    scheduleTick();
                }
            }
        }
    }

    private void scheduleTick() {
        ScheduledFuture<?> unused = env.timer.schedule(this::tick, TICK_NANOS, TimeUnit.NANOSECONDS);
    }

    static void report(Grant g) {
        String message = "Locket: a Lock on " + g.name() + " became unreachable while held; released it now."
                + " Close every Lock (try-with-resources, or ReactiveLocket.withLock)."
                + (g.site == null ? " Set -Dio.github.locket.leakTraces=sample or =all to see where it was acquired." : "");
        if (g.site == null) {
            LOG.log(Level.WARNING, message);
        } else {
            LOG.log(Level.WARNING, message, g.site);
        }
    }
}
