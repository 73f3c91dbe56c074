package io.github.locket.spring.integration;

import io.github.locket.LockFile;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;
import org.springframework.integration.support.locks.ExpirableLockRegistry;

/**
 * A Spring Integration {@link org.springframework.integration.support.locks.LockRegistry} whose
 * locks are Locket file locks: the lock for a key is the file {@code <directory>/<key>.lock}, and
 * its holders exclude each other in this JVM and in every process that uses the same directory.
 *
 * <pre>{@code
 * @Bean
 * LockRegistry<Lock> lockRegistry() {
 *     return LocketLockRegistry.create(Path.of("/var/lib/myapp/locks"));
 * }
 * }</pre>
 *
 * <h2>Keys</h2>
 *
 * A key is turned into a file name with {@link String#valueOf(Object)}; it must be a plain file
 * name (no path separator, not {@code .} or {@code ..}, at most 240 bytes in UTF-8), else {@link
 * #obtain(Object)} throws {@link IllegalArgumentException} naming it. {@code obtain} returns the
 * same {@link Lock} object for equal keys until {@link #expireUnusedOlderThan(long)} drops it.
 *
 * <h2>The {@link Lock} contract</h2>
 *
 * The locks follow {@link ReentrantLock}'s contract, as Spring's other registries do (JDBC,
 * Redis), which differs from Locket's own in two ways:
 *
 * <ul>
 *   <li><b>Owned by a thread, and reentrant.</b> The thread that locks is the owner; it may lock
 *       again (for example nested {@code executeLocked} calls on one key) and must unlock as many
 *       times. The file lock is taken on the first hold and released on the last unlock. (A
 *       Locket {@link io.github.locket.Lock} is not reentrant: taking it twice would wait for
 *       ever.)
 *   <li><b>Only the owner unlocks.</b> {@code unlock()} from any other thread throws {@link
 *       IllegalMonitorStateException} and releases nothing. (A Locket {@code Lock} may be closed
 *       from any thread; use Locket directly if you need to hand a held lock to another thread.)
 * </ul>
 *
 * Threads of one JVM sharing a {@code Lock} object queue on it first (fairly, in arrival order), so
 * only one of them at a time waits for the file lock. Two registries over the same directory, or
 * lock objects for the same key from before and after {@link #expireUnusedOlderThan(long)}, still
 * exclude each other: the file lock does, in one JVM as across processes (but they are then not
 * reentrant with each other: a thread holding one and locking the other waits for itself).
 *
 * <ul>
 *   <li>{@link Lock#lock()} is not interruptible: an interrupt during the wait is remembered and
 *       re-asserted once the lock is held. {@link Lock#lockInterruptibly()} and {@link
 *       Lock#tryLock(long, TimeUnit)} throw {@link InterruptedException} and hold nothing.
 *   <li>{@link Lock#tryLock()} makes one non-blocking attempt, on the file too.
 *   <li>{@link Lock#newCondition()} throws {@link UnsupportedOperationException}: no condition can
 *       span processes.
 *   <li>If the file cannot be locked (a missing or unwritable directory), the lock methods throw
 *       {@link UncheckedIOException} naming the path, and hold nothing.
 *   <li>When the holding process dies the operating system frees the lock: there is no time to
 *       live, and nothing to renew.
 * </ul>
 */
public final class LocketLockRegistry implements ExpirableLockRegistry<Lock> {
    /** Room for the {@code .lock} suffix in a 255-byte file name, with some to spare. */
    static final int MAX_NAME_BYTES = 240;

    private final Path directory;
    private final ConcurrentMap<String, FileLock> locks = new ConcurrentHashMap<>();

    private LocketLockRegistry(Path directory) {
        this.directory = directory;
    }

    /**
     * Returns a registry whose lock files live in {@code directory}, creating the directory (and
     * its parents) if it is missing.
     *
     * @param directory where the {@code <key>.lock} files live
     * @return the registry
     * @throws NullPointerException if {@code directory} is null
     * @throws UncheckedIOException if the directory is missing and cannot be created
     */
    public static LocketLockRegistry create(Path directory) {
        Objects.requireNonNull(directory, "directory");
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the lock directory " + directory, e);
        }
        return new LocketLockRegistry(directory);
    }

    /**
     * Returns the directory of the lock files.
     *
     * @return the directory given to {@link #create(Path)}
     */
    public Path directory() {
        return directory;
    }

    /**
     * Returns the lock for {@code lockKey}: the same object for equal keys (until expired).
     *
     * @param lockKey the key; its {@link String#valueOf(Object) string form} names the file
     * @return the lock; see the class documentation for its contract
     * @throws IllegalArgumentException if the key is not a plain file name
     * @throws NullPointerException if {@code lockKey} is null
     */
    @Override
    public Lock obtain(Object lockKey) {
        Objects.requireNonNull(lockKey, "lockKey");
        String key = lockKey.toString();
        FileLock lock = locks.get(key);
        if (lock == null) {
            lock = locks.computeIfAbsent(key, k -> new FileLock(Locket.lockFile(resolve(k))));
        }
        lock.touch();
        return lock;
    }

    /**
     * Forgets the lock objects that nobody holds, nor waits for, and that were last obtained or
     * unlocked at least {@code age} milliseconds ago; {@link #obtain(Object)} makes new ones. The
     * lock files stay.
     *
     * @param age in milliseconds
     */
    @Override
    public void expireUnusedOlderThan(long age) {
        long now = System.currentTimeMillis();
        locks.values().removeIf(lock -> lock.unusedSince(now - age));
    }

    private Path resolve(String key) {
        if (key.isEmpty() || key.equals(".") || key.equals("..") || key.indexOf('/') >= 0 || key.indexOf('\\') >= 0
                || key.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("lock key '" + key
                    + "' is not a plain file name (no path separators, not empty, . or ..); it names a file in "
                    + directory);
        }
        if (key.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("lock key '" + key + "' is longer than " + MAX_NAME_BYTES
                    + " bytes, too long for a file name");
        }
        Path file;
        try {
            file = directory.resolve(key + ".lock");
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("lock key '" + key + "' is not a valid file name: " + e.getMessage(), e);
        }
        if (!Objects.equals(file.getParent(), directory) && !(directory.toString().isEmpty() && file.getParent() == null)) {
            throw new IllegalArgumentException("lock key '" + key + "' is not a plain file name");
        }
        return file;
    }

    /** Returns {@code LocketLockRegistry[<directory>]}. */
    @Override
    public String toString() {
        return "LocketLockRegistry[" + directory + "]";
    }

    /**
     * A key's lock: a fair {@link ReentrantLock} for the threads of this JVM, and the file lock,
     * taken by the owner on its first hold and released on its last unlock.
     */
    private static final class FileLock implements Lock {
        private final ReentrantLock local = new ReentrantLock(true);
        private final LockFile lockFile;
        private io.github.locket.@Nullable Lock held; // guarded by local
        private volatile long lastUsed = System.currentTimeMillis();

        FileLock(LockFile lockFile) {
            this.lockFile = lockFile;
        }

        void touch() {
            lastUsed = System.currentTimeMillis();
        }

        boolean unusedSince(long time) {
            return lastUsed <= time && !local.isLocked() && !local.hasQueuedThreads();
        }

        @Override
        public void lock() {
            local.lock();
            if (local.getHoldCount() > 1) {
                return;
            }
            boolean interrupted = false;
            try {
                for (;;) {
                    try {
                        held = lockFile.acquire();
                        return;
                    } catch (InterruptedException e) {
                        interrupted = true; // lock() is not interruptible: wait on
                    }
                }
            } catch (IOException | RuntimeException e) {
                local.unlock();
                throw failure(e);
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void lockInterruptibly() throws InterruptedException {
            local.lockInterruptibly();
            if (local.getHoldCount() > 1) {
                return;
            }
            try {
                held = lockFile.acquire();
            } catch (InterruptedException e) {
                local.unlock();
                throw e;
            } catch (IOException | RuntimeException e) {
                local.unlock();
                throw failure(e);
            }
        }

        @Override
        public boolean tryLock() {
            if (!local.tryLock()) {
                return false;
            }
            if (local.getHoldCount() > 1) {
                return true;
            }
            try {
                Optional<io.github.locket.Lock> lock = lockFile.tryAcquire();
                if (lock.isPresent()) {
                    held = lock.get();
                    return true;
                }
                local.unlock();
                return false;
            } catch (IOException | RuntimeException e) {
                local.unlock();
                throw failure(e);
            }
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
            long start = System.nanoTime();
            long timeout = Math.max(0, unit.toNanos(time));
            if (!local.tryLock(timeout, TimeUnit.NANOSECONDS)) {
                return false;
            }
            if (local.getHoldCount() > 1) {
                return true;
            }
            long remaining = Math.max(0, timeout - (System.nanoTime() - start));
            try {
                held = lockFile.withTimeout(Duration.ofNanos(remaining)).acquire();
                return true;
            } catch (LockTimeoutException e) {
                local.unlock();
                return false;
            } catch (InterruptedException e) {
                local.unlock();
                throw e;
            } catch (IOException | RuntimeException e) {
                local.unlock();
                throw failure(e);
            }
        }

        /**
         * Releases one hold; the last one releases the file lock.
         *
         * @throws IllegalMonitorStateException if this thread does not hold the lock
         */
        @Override
        public void unlock() {
            if (!local.isHeldByCurrentThread()) {
                throw new IllegalMonitorStateException("lock on " + lockFile.path() + " is not held by "
                        + Thread.currentThread().getName() + "; only the thread that locked it may unlock it");
            }
            try {
                if (local.getHoldCount() == 1) {
                    io.github.locket.Lock lock = held;
                    held = null;
                    if (lock != null) { // held by the owner since its first lock()
                        lock.close();
                    }
                }
            } finally {
                touch();
                local.unlock();
            }
        }

        /**
         * Not supported.
         *
         * @throws UnsupportedOperationException always: a condition cannot span processes
         */
        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("Locket locks have no conditions (" + lockFile.path() + ")");
        }

        private UncheckedIOException failure(Exception e) {
            if (e instanceof IOException io) {
                return new UncheckedIOException(io.getMessage(), io);
            }
            throw (RuntimeException) e;
        }

        /** Returns {@code LocketLock[<path>, locked by <thread>]} or {@code LocketLock[<path>, unlocked]}. */
        @Override
        public String toString() {
            return "LocketLock[" + lockFile.path() + (local.isLocked() ? ", locked]" : ", unlocked]");
        }
    }
}
