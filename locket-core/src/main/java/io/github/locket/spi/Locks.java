package io.github.locket.spi;

import io.github.locket.Lock;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Objects;

/**
 * How a {@link io.github.locket.NamedLock} outside {@code locket-core} hands out {@link Lock}s:
 * for lock implementations (such as {@code locket-postgres}) and decorators (such as metrics).
 * Applications do not need this package.
 *
 * <p>A {@code Lock} made here behaves like a lock file's: {@link Lock#close()} is idempotent and
 * runs the release once, on the closing thread; {@link Lock#isHeld()} is true until then (or until
 * the implementation reports the lock {@linkplain #lost lost}); and a {@code Lock} that becomes
 * unreachable while held is released by the garbage-collector backstop, with the same warning.
 */
public final class Locks {
    private Locks() {}

    /** Lock's package-private factories, reached within this module. */
    private static final MethodHandle NEW_LOCK;
    private static final MethodHandle LOST;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(Lock.class, MethodHandles.lookup());
            NEW_LOCK = lookup.findStatic(Lock.class, "external", MethodType.methodType(Lock.class, String.class,
                    Runnable.class));
            LOST = lookup.findVirtual(Lock.class, "lost", MethodType.methodType(boolean.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Returns a new held {@code Lock}.
     *
     * @param name the lock's name, as {@link Lock#name()} and messages show it
     * @param release gives the lock back; run at most once, by the first {@link Lock#close()} or
     *     by the garbage-collector backstop. If it throws, {@code close()} throws the same, and the
     *     lock counts as released.
     * @return a held lock; {@link Lock#path()} throws {@link UnsupportedOperationException}
     * @throws NullPointerException if an argument is null
     */
    public static Lock newLock(String name, Runnable release) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(release, "release");
        try {
            return (Lock) NEW_LOCK.invokeExact(name, release);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Tells a {@code Lock} made by {@link #newLock} that its implementation lost the lock (a
     * connection that held it died): {@link Lock#isHeld()} becomes false and closing it no longer
     * runs its release.
     *
     * @param lock a lock made by {@link #newLock}
     * @return true if it was held until now
     * @throws IllegalArgumentException if {@code lock} was not made by {@link #newLock}
     */
    public static boolean lost(Lock lock) {
        Objects.requireNonNull(lock, "lock");
        try {
            return (boolean) LOST.invokeExact(lock);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
