package io.github.locket.reactor;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.NamedLock;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import java.util.Objects;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Project Reactor adapter for {@link LockFile} and any other {@link NamedLock}: take a cross-process
 * lock without blocking a thread, and give it up on timeout or cancellation without ever leaking it.
 *
 * <pre>{@code
 * LockFile lockFile = Locket.lockFile(Path.of("/var/lock/report.lock"), Duration.ofSeconds(5));
 *
 * Mono<Report> report = ReactiveLocket.withLock(lockFile, lock -> service.buildReport());
 * }</pre>
 *
 * <h2>Threads</h2>
 *
 * Nothing here blocks a thread. (The first acquisition in a JVM loads Locket's native {@code
 * flock(2)} binding on a {@link reactor.core.scheduler.Schedulers#boundedElastic() boundedElastic}
 * thread, and so continues there.) The {@link Lock} is emitted on the subscribing thread when it is
 * free at subscription; on the thread that released it when it is handed over from another holder
 * in this JVM; and on a {@link reactor.core.scheduler.Schedulers#parallel() parallel} worker when
 * it comes from the operating system (another process let go) &mdash; never on one of Locket's
 * own {@code locket-*} threads, so a body cannot stall them. A lock's timeout is timed
 * on {@code Schedulers.parallel()}, so {@code StepVerifier.withVirtualTime} drives it.
 *
 * <h2>Prefer {@link #withLock withLock}</h2>
 *
 * It releases the lock whatever happens. A bare {@link #acquire acquire} hands the lock to your
 * pipeline, which must close it on every path, and some Reactor operators drop a value that races
 * with cancellation without telling anyone ({@code Hooks.onNextDropped}): {@code
 * acquire(f).timeout(d)} loses a lock granted in the very instant the timeout fires, and so does
 * {@code acquire(f).subscribe(consumer)} disposed in the instant of the grant. Use the {@code
 * NamedLock}'s own timeout, or {@code withLock(...).timeout(d)}, which have no such race.
 *
 * <p>All methods are thread-safe and return cold publishers: nothing happens until subscription,
 * and every subscription is a new acquisition. The lock is not reentrant: a body that acquires the
 * same file again waits for itself (or times out).
 */
public final class ReactiveLocket {
    private ReactiveLocket() {}

    /**
     * Returns a {@code Mono} that acquires the lock on subscription and emits the held {@link Lock}.
     * The subscriber owns it and must {@linkplain Lock#close() close} it.
     *
     * <table class="striped">
     *   <caption>Outcomes</caption>
     *   <tr><th>What happens</th><th>The Mono</th><th>The lock</th></tr>
     *   <tr><td>granted</td><td>emits the {@code Lock}, completes</td><td>held by the subscriber</td></tr>
     *   <tr><td>the lock's timeout expires first</td>
     *       <td>fails with {@link LockTimeoutException}</td><td>not held; a grant racing in is released.
     *       The lock's {@code acquireAsync()} future is completed with the same exception, which
     *       abandons its wait (a {@code NamedLock} that watches its futures sees a timeout)</td></tr>
     *   <tr><td>{@code Duration.ZERO} timeout and busy</td><td>fails with {@link LockTimeoutException}</td>
     *       <td>not held</td></tr>
     *   <tr><td>cancelled before the grant (dispose, {@code timeout()}, {@code take}, ...)</td>
     *       <td>nothing more</td><td>the waiter leaves the queue and its OS wait stops</td></tr>
     *   <tr><td>cancelled while the grant races in, or granted before any request</td><td>nothing more</td>
     *       <td>released at once by this publisher</td></tr>
     *   <tr><td>the file cannot be locked (directory, missing parent, permissions)</td>
     *       <td>fails at once with an {@link java.io.IOException} naming the path</td><td>not held</td></tr>
     *   <tr><td>emitted, then discarded by an operator downstream</td><td>&mdash;</td>
     *       <td>released if the subscriber's context has {@code doOnDiscard(Lock.class, Lock::close)}
     *       (as {@link #withLock} arranges); otherwise the subscriber's to close</td></tr>
     * </table>
     *
     * @param lock the lock: a {@link LockFile}, or any {@link NamedLock}
     * @return a cold {@code Mono} of the held lock
     * @throws NullPointerException if {@code lock} is null
     */
    public static Mono<Lock> acquire(NamedLock lock) {
        Mono<Lock> acquire = MonoAcquire.create(Objects.requireNonNull(lock, "lock"));
        return nativeBindingLoaded ? acquire : LOAD_NATIVE_BINDING.then(acquire);
    }

    /*
     * The first lock in a JVM loads Locket's flock(2) binding; on Java 17-21 that is JNA, which
     * unpacks its native library from its JAR: blocking file I/O, once, on a thread made for it.
     */
    private static volatile boolean nativeBindingLoaded;
    private static final Mono<Void> LOAD_NATIVE_BINDING = Mono.<Void>fromRunnable(() -> {
                Locket.protocols();
                nativeBindingLoaded = true;
            })
            .subscribeOn(Schedulers.boundedElastic())
            .cache();

    /**
     * Runs {@code body} while holding the lock and releases it however the body ends: built on
     * {@link Mono#usingWhen(Publisher, Function, Function, java.util.function.BiFunction, Function)}.
     *
     * <table class="striped">
     *   <caption>Outcomes</caption>
     *   <tr><th>What happens</th><th>The Mono</th><th>The lock</th></tr>
     *   <tr><td>body completes (with or without a value)</td><td>emits the body's value, then completes</td>
     *       <td>released before completion is signalled</td></tr>
     *   <tr><td>body errors</td><td>fails with the body's error</td><td>released before the error is signalled</td></tr>
     *   <tr><td>cancelled while the body runs (dispose, {@code timeout()} downstream)</td>
     *       <td>nothing more</td><td>the body is cancelled, the lock released</td></tr>
     *   <tr><td>cancelled before the grant</td><td>nothing more</td>
     *       <td>the waiter leaves the queue and its OS wait stops; the body never runs</td></tr>
     *   <tr><td>cancelled while the grant races in</td><td>nothing more</td>
     *       <td>released at once; the body never runs</td></tr>
     *   <tr><td>the lock's timeout expires first</td><td>fails with {@link LockTimeoutException}</td>
     *       <td>never held; the body never runs</td></tr>
     *   <tr><td>releasing fails (the OS refuses; Locket then closes the descriptor, which releases)</td>
     *       <td>after a completing body: fails with that {@link java.io.UncheckedIOException};
     *       after an erroring body: fails with the body's error</td><td>released</td></tr>
     * </table>
     *
     * <p>The body runs on the thread that emitted the lock (see the class documentation); it must
     * not block if that is a non-blocking thread. It must not close the lock itself unless it no
     * longer needs it (closing twice is harmless).
     *
     * @param lock the lock: a {@link LockFile}, or any {@link NamedLock}
     * @param body what to do while holding it
     * @param <T> the body's value type
     * @return a cold {@code Mono} of the body's value
     * @throws NullPointerException if an argument is null
     */
    public static <T> Mono<T> withLock(NamedLock lock, Function<? super Lock, ? extends Mono<T>> body) {
        Objects.requireNonNull(body, "body");
        return Mono.usingWhen(acquire(lock), body, ReactiveLocket::release,
                (held, error) -> release(held), ReactiveLocket::release);
    }

    /**
     * Streams {@code body}'s values while holding the lock and releases it however the stream
     * ends: built on {@link Flux#usingWhen(Publisher, Function, Function, java.util.function.BiFunction,
     * Function)}. The outcomes are those of {@link #withLock}, for a stream.
     *
     * @param lock the lock: a {@link LockFile}, or any {@link NamedLock}
     * @param body the stream to run while holding it
     * @param <T> the element type
     * @return a cold {@code Flux} of the body's values
     * @throws NullPointerException if an argument is null
     */
    public static <T> Flux<T> withLockMany(NamedLock lock, Function<? super Lock, ? extends Publisher<T>> body) {
        Objects.requireNonNull(body, "body");
        return Flux.usingWhen(acquire(lock), body, ReactiveLocket::release,
                (held, error) -> release(held), ReactiveLocket::release);
    }

    private static Mono<Void> release(Lock lock) {
        return Mono.fromRunnable(lock::close);
    }
}
