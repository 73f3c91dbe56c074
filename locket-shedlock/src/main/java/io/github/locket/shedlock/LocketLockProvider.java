package io.github.locket.shedlock;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import net.javacrumbs.shedlock.core.AbstractSimpleLock;
import net.javacrumbs.shedlock.core.ClockProvider;
import net.javacrumbs.shedlock.core.ExtensibleLockProvider;
import net.javacrumbs.shedlock.core.LockConfiguration;
import net.javacrumbs.shedlock.core.SimpleLock;
import net.javacrumbs.shedlock.support.LockException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A ShedLock {@link net.javacrumbs.shedlock.core.LockProvider} whose locks are Locket file locks:
 * one lock file, {@code <name>.lock}, per lock name in one directory. Every JVM and thread that
 * uses the same directory excludes every other one, with no database.
 *
 * <pre>{@code
 * @Bean
 * LockProvider lockProvider() {
 *     return LocketLockProvider.create(Path.of("/var/lib/myapp/shedlock"));
 * }
 * }</pre>
 *
 * <h2>Semantics</h2>
 *
 * <ul>
 *   <li>{@link #lock(LockConfiguration)} never waits: it returns empty at once when another
 *       thread or process holds the lock, as every ShedLock provider does.
 *   <li><b>lockAtMostFor.</b> The lock file stays locked while the task runs and is released by
 *       {@link SimpleLock#unlock()}. If the process dies, the operating system frees the lock at
 *       once: unlike a database provider, nobody waits for {@code lockAtMostFor} after a crash. It
 *       remains a safety bound for a live process, as ShedLock documents it: a task still running
 *       at {@code lockedAt + lockAtMostFor} loses the lock (it is released on a timer thread), and
 *       another node may start the task; its later {@code unlock()} releases nothing.
 *   <li><b>lockAtLeastFor.</b> If {@code unlock()} comes before {@code lockedAt +
 *       lockAtLeastFor}, the lock counts as held until then: the unlocking process writes that
 *       instant to a record file, {@code <name>.until}, before it releases the file lock, and
 *       {@code lock} refuses while the record names a time still to come. The record survives
 *       the process, so a short-lived process that runs the task and exits still blocks other
 *       runs until {@code lockAtLeastFor} has passed, as with ShedLock's JDBC provider. Times come
 *       from ShedLock's {@link ClockProvider} (wall clock): nodes sharing the directory should
 *       have synchronised clocks, as ShedLock assumes anyway.
 *   <li><b>extend.</b> {@link SimpleLock#extend(Duration, Duration)} moves the lockAtMostFor
 *       deadline to {@code now + lockAtMostFor} and the lockAtLeastFor one to {@code now +
 *       lockAtLeastFor}, if the lock has not expired; otherwise it returns empty. So ShedLock's
 *       {@code LockExtender} and {@code KeepAliveLockProvider} work.
 *   <li>Lock names must be plain file names (no path separator, not {@code .} or {@code ..}, at
 *       most 240 bytes in UTF-8): anything else fails with {@link IllegalArgumentException}
 *       naming it. I/O failures are thrown as ShedLock's {@link LockException}.
 *   <li>The lock and record files are created when first needed and never deleted. Do not open
 *       {@code <name>.lock} yourself (see Locket's caveat about POSIX locks); the record files are
 *       safe to read.
 * </ul>
 */
public final class LocketLockProvider implements ExtensibleLockProvider {
    private static final Logger log = LoggerFactory.getLogger(LocketLockProvider.class);

    /** Room for the longest suffix, {@code .until.tmp}, in a 255-byte file name. */
    static final int MAX_NAME_BYTES = 240;

    /** Releases locks that outlive their lockAtMostFor; a daemon thread that exists while one is due. */
    private static final ScheduledThreadPoolExecutor EXPIRY = expiryExecutor();

    private final Path directory;

    private LocketLockProvider(Path directory) {
        this.directory = directory;
    }

    /**
     * Returns a provider that keeps its lock files in {@code directory}, creating the directory
     * (and its parents) if it is missing.
     *
     * @param directory where {@code <name>.lock} and {@code <name>.until} files live
     * @return the provider
     * @throws NullPointerException if {@code directory} is null
     * @throws UncheckedIOException if the directory is missing and cannot be created
     */
    public static LocketLockProvider create(Path directory) {
        Objects.requireNonNull(directory, "directory");
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the ShedLock directory " + directory, e);
        }
        return new LocketLockProvider(directory);
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
     * Returns the lock file of a lock name: {@code <directory>/<name>.lock}.
     *
     * @param name a lock name
     * @return the lock file's path
     * @throws IllegalArgumentException if {@code name} is not a plain file name
     */
    public Path lockFile(String name) {
        return resolve(name, ".lock");
    }

    /**
     * Tries to take the lock, without waiting.
     *
     * @param lockConfiguration the lock's name and times
     * @return the held lock, or empty if another thread or process holds it, or if it is held
     *     until a {@code lockAtLeastFor} of an earlier run has passed
     * @throws IllegalArgumentException if the name is not a plain file name
     * @throws LockException if the lock file or its record cannot be read or written
     */
    @Override
    public Optional<SimpleLock> lock(LockConfiguration lockConfiguration) {
        String name = lockConfiguration.getName();
        Path path = lockFile(name);
        Path record = resolve(name, ".until");
        Optional<Lock> acquired;
        try {
            acquired = Locket.lockFile(path).tryAcquire();
        } catch (IOException e) {
            throw new LockException("cannot lock " + path + " for ShedLock lock '" + name + "'", e);
        }
        if (acquired.isEmpty()) {
            return Optional.empty();
        }
        Lock lock = acquired.get();
        try {
            Instant until = readUntil(record);
            if (until != null && until.isAfter(ClockProvider.now())) {
                lock.close(); // an earlier run's lockAtLeastFor is not over
                return Optional.empty();
            }
        } catch (IOException | RuntimeException e) {
            lock.close();
            throw new LockException("cannot read " + record + " for ShedLock lock '" + name + "'", e);
        }
        Held held = new Held(lock, record);
        held.schedule(lockConfiguration);
        return Optional.of(new LocketLock(lockConfiguration, held));
    }

    private Path resolve(String name, String suffix) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0
                || name.indexOf('\\') >= 0 || name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("ShedLock lock name '" + name
                    + "' is not a plain file name (no path separators, not . or ..); it names a file in " + directory);
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
            throw new IllegalArgumentException("ShedLock lock name '" + name + "' is longer than " + MAX_NAME_BYTES
                    + " bytes, too long for a file name");
        }
        Path file;
        try {
            file = directory.resolve(name + suffix);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("ShedLock lock name '" + name + "' is not a valid file name: "
                    + e.getMessage(), e);
        }
        if (!Objects.equals(file.getParent(), directory) && !(directory.toString().isEmpty() && file.getParent() == null)) {
            throw new IllegalArgumentException("ShedLock lock name '" + name + "' is not a plain file name");
        }
        return file;
    }

    /** The record's instant, or null if there is none (never written, empty, or not ours). */
    private static @Nullable Instant readUntil(Path record) throws IOException {
        String text;
        try {
            text = Files.readString(record, StandardCharsets.UTF_8).trim();
        } catch (NoSuchFileException e) {
            return null;
        }
        if (text.isEmpty()) {
            return null;
        }
        try {
            return Instant.parse(text);
        } catch (DateTimeParseException e) {
            log.warn("ignoring {}: not an instant: {}", record, text);
            return null;
        }
    }

    /** Writes the record atomically (under the file lock, so no other writer). */
    private static void writeUntil(Path record, Instant until) throws IOException {
        Path tmp = record.resolveSibling(record.getFileName() + ".tmp");
        Files.writeString(tmp, until.toString() + "\n", StandardCharsets.UTF_8);
        Files.move(tmp, record, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private static ScheduledThreadPoolExecutor expiryExecutor() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "locket-shedlock-expiry");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setKeepAliveTime(10, TimeUnit.SECONDS);
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /** One acquisition of a lock file, shared by a {@link LocketLock} and the locks extended from it. */
    private static final class Held {
        private final Lock lock;
        private final Path record;
        private @Nullable ScheduledFuture<?> expiry; // guarded by this
        private boolean expired; // guarded by this

        Held(Lock lock, Path record) {
            this.lock = lock;
            this.record = record;
        }

        /** Schedules the release at the configuration's lockAtMostUntil, replacing an earlier one. */
        synchronized void schedule(LockConfiguration configuration) {
            if (expiry != null) {
                expiry.cancel(false);
            }
            long delay = Math.max(0, Duration.between(ClockProvider.now(), configuration.getLockAtMostUntil()).toMillis());
            expiry = EXPIRY.schedule(() -> expire(configuration), delay, TimeUnit.MILLISECONDS);
        }

        private synchronized void expire(LockConfiguration configuration) {
            if (!expired && lock.isHeld()) {
                expired = true;
                log.warn("ShedLock lock '{}' is still held after lockAtMostFor {}: releasing {}",
                        configuration.getName(), configuration.getLockAtMostFor(), lock.path());
                lock.close();
            }
        }

        synchronized Optional<SimpleLock> extend(LockConfiguration newConfiguration) {
            if (expired || !lock.isHeld()) {
                return Optional.empty();
            }
            schedule(newConfiguration);
            return Optional.of(new LocketLock(newConfiguration, this));
        }

        synchronized void unlock(LockConfiguration configuration) {
            if (expired || !lock.isHeld()) {
                return; // lockAtMostFor passed: the lock is someone else's business now
            }
            expired = true;
            if (expiry != null) {
                expiry.cancel(false);
            }
            try {
                Instant atLeastUntil = configuration.getLockAtLeastUntil();
                if (atLeastUntil.isAfter(ClockProvider.now())) {
                    writeUntil(record, atLeastUntil);
                }
            } catch (IOException e) {
                throw new LockException("cannot write " + record + " for ShedLock lock '" + configuration.getName()
                        + "'; released the lock without its lockAtLeastFor", e);
            } finally {
                lock.close();
            }
        }
    }

    private static final class LocketLock extends AbstractSimpleLock {
        private final Held held;

        LocketLock(LockConfiguration configuration, Held held) {
            super(configuration);
            this.held = held;
        }

        @Override
        protected void doUnlock() {
            held.unlock(lockConfiguration);
        }

        @Override
        protected Optional<SimpleLock> doExtend(LockConfiguration newConfiguration) {
            return held.extend(newConfiguration);
        }

        @Override
        public String toString() {
            return "LocketLock[" + lockConfiguration + ", " + held.lock + "]";
        }
    }

    /** Returns {@code LocketLockProvider[<directory>]}. */
    @Override
    public String toString() {
        return "LocketLockProvider[" + directory + "]";
    }
}
