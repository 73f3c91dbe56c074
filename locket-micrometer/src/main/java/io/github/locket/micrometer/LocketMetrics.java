package io.github.locket.micrometer;

import io.github.locket.Lock;
import io.github.locket.LockTimeoutException;
import io.github.locket.NamedLock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.util.Objects;

/**
 * Micrometer metrics for a Locket lock: wrap any {@link NamedLock} (a {@link
 * io.github.locket.LockFile}, a PostgreSQL lock) and use the wrapper wherever you used the lock,
 * {@code ReactiveLocket} included. Nothing is measured unless you call {@link #instrument}.
 *
 * <pre>{@code
 * NamedLock nightly = LocketMetrics.instrument(Locket.lockFile(Path.of("/var/lock/nightly.lock")), registry);
 * try (Lock lock = nightly.acquire()) {
 *     runNightlyJob();
 * }
 * }</pre>
 *
 * <h2>Meters</h2>
 *
 * <table class="striped">
 *   <caption>Meters, all with the tags given to {@link #instrument(NamedLock, MeterRegistry, Iterable)}</caption>
 *   <tr><th>Name</th><th>Type</th><th>Tags</th><th>What it measures</th></tr>
 *   <tr><td>{@code locket.acquire}</td><td>timer</td><td>{@code outcome}</td>
 *       <td>each acquisition ({@code acquire}, {@code acquireAsync}, {@code tryAcquire}), from the
 *       call to its outcome</td></tr>
 *   <tr><td>{@code locket.held}</td><td>timer</td><td>&mdash;</td>
 *       <td>each grant, from the moment this wrapper saw it to the first {@link Lock#close()} of
 *       its handle (or its release by the garbage-collector backstop, if it was dropped)</td></tr>
 *   <tr><td>{@code locket.waiters}</td><td>gauge</td><td>&mdash;</td>
 *       <td>acquisitions in flight: started, without an outcome yet</td></tr>
 * </table>
 *
 * <p>All four {@code outcome}s are registered at once, so each has a series (of zero) before it
 * first happens. Percentiles and histograms are the registry's to configure, for example with a
 * {@link io.micrometer.core.instrument.config.MeterFilter} for {@code locket.acquire}.
 *
 * <h2>Outcomes</h2>
 *
 * <table class="striped">
 *   <caption>The {@code outcome} tag of {@code locket.acquire}</caption>
 *   <tr><th>{@code outcome}</th><th>When</th></tr>
 *   <tr><td>{@code acquired}</td><td>the acquisition returned, or its future completed with, a held
 *       {@link Lock}. A grant that races with a cancellation of {@code acquireAsync()}'s future and
 *       loses is released at once and counts as {@code cancelled}; one that a Reactor subscriber
 *       receives and releases at once because it was cancelled in that instant counts as {@code
 *       acquired}, with a hold of about zero.</td></tr>
 *   <tr><td>{@code timed_out}</td><td>the lock's own timeout expired ({@link LockTimeoutException}),
 *       including a {@link java.time.Duration#ZERO} timeout whose one attempt found the lock busy,
 *       a {@code ReactiveLocket} timeout (the lock's, timed on a Reactor scheduler), and {@link
 *       NamedLock#tryAcquire()} returning empty (one attempt, busy); or the caller completed
 *       {@code acquireAsync()}'s future with a {@link java.util.concurrent.TimeoutException}
 *       ({@code orTimeout}).</td></tr>
 *   <tr><td>{@code cancelled}</td><td>the caller gave up: cancelled {@code acquireAsync()}'s
 *       future, or completed it from outside in any other way ({@code complete}, {@code
 *       completeExceptionally}); cancelled a {@code ReactiveLocket} subscription before the grant
 *       ({@code dispose()}, {@code timeout(...)} or {@code take} downstream); or interrupted a
 *       blocking {@code acquire()} ({@link InterruptedException}).</td></tr>
 *   <tr><td>{@code failed}</td><td>the lock could not be taken at all: any other exception, such
 *       as an {@link java.io.IOException} for a path that cannot be a lock file.</td></tr>
 * </table>
 *
 * <h2>Tags and cardinality</h2>
 *
 * By default the meters have no tag naming the lock: a service that makes one lock file per job,
 * user or request would otherwise make a time series per file. Every instrumented lock of one
 * registry and tag set shares the same meters, so instrumenting a lock made per request is fine
 * and adds no series. To tell locks apart, opt in with tags of your choosing, for example by name
 * for a few well-known locks:
 *
 * <pre>{@code
 * LocketMetrics.instrument(lockFile, registry, Tags.of("lock", lockFile.name()))
 * }</pre>
 *
 * <h2>The wrapper</h2>
 *
 * <ul>
 *   <li>It keeps every semantic of {@link NamedLock} (see there): it only times the delegate's
 *       acquisitions. Cancelling or completing {@code acquireAsync()}'s future from outside cancels
 *       the delegate's future, which abandons its wait; a grant that races with that is released,
 *       never leaked.
 *   <li>Its {@link NamedLock#withTimeout withTimeout} and {@link NamedLock#withoutTimeout
 *       withoutTimeout} return instrumented copies that share the same meters (and tags): the
 *       metrics of one lock cover all its timeouts. ({@code ReactiveLocket} calls {@code
 *       withoutTimeout} to time a lock's timeout on a Reactor scheduler; that is why those
 *       timeouts count too.)
 *   <li>The {@link Lock} handles it returns are its own, made by {@link
 *       io.github.locket.spi.Locks#newLock}: closing one closes the delegate's handle and ends the
 *       hold's timing, once, from any thread; closing twice is harmless. {@link Lock#name()} is
 *       the delegate's name, but {@link Lock#path()} throws {@link UnsupportedOperationException},
 *       even for a lock file. {@link Lock#isHeld()} turns false when the handle is closed; it does
 *       not see a lock that the delegate's handle lost. A handle dropped while held is released by
 *       the garbage-collector backstop, with its warning, as the delegate's would be.
 * </ul>
 *
 * <h2>Thread safety</h2>
 *
 * This class and the wrappers are thread-safe, and the wrappers immutable. The wrapper adds no
 * ordering of its own: closing a handle closes the delegate's handle on the same thread, so a
 * release still <i>happens-before</i> the acquisition that next obtains the lock, as the delegate
 * promises. Meters are updated as each acquisition ends and each handle is closed, on that
 * thread.
 */
public final class LocketMetrics {
    private LocketMetrics() {}

    /**
     * Returns {@code lock} with metrics, and no tag naming it (see the class documentation).
     *
     * @param lock the lock to measure: a {@link io.github.locket.LockFile}, or any {@link
     *     NamedLock}
     * @param registry where the meters are registered
     * @return the same lock, measured
     * @throws NullPointerException if an argument is null
     */
    public static NamedLock instrument(NamedLock lock, MeterRegistry registry) {
        return instrument(lock, registry, Tags.empty());
    }

    /**
     * Returns {@code lock} with metrics tagged with {@code tags}, such as {@code Tags.of("lock",
     * lock.name())} to tell a few locks apart. Mind the cardinality: each distinct tag set is a
     * time series per meter.
     *
     * @param lock the lock to measure: a {@link io.github.locket.LockFile}, or any {@link
     *     NamedLock}
     * @param registry where the meters are registered
     * @param tags tags added to every meter; not {@code outcome}, which is this library's
     * @return the same lock, measured
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code tags} has a tag {@code outcome}
     */
    public static NamedLock instrument(NamedLock lock, MeterRegistry registry, Iterable<Tag> tags) {
        Objects.requireNonNull(lock, "lock");
        Objects.requireNonNull(registry, "registry");
        Tags extra = Tags.of(Objects.requireNonNull(tags, "tags"));
        if (extra.stream().anyMatch(t -> t.getKey().equals(Meters.OUTCOME))) {
            throw new IllegalArgumentException("tag key " + Meters.OUTCOME + " is taken by " + Meters.ACQUIRE
                    + ": " + extra);
        }
        return new InstrumentedLock(lock, new Meters(registry, extra));
    }
}
