package io.github.locket;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/**
 * The map from file identity to {@link FileEntry}, one per {@link Env}.
 *
 * <p>Closing any descriptor of a file drops every POSIX lock this process holds on it, so this JVM
 * must never close a descriptor of a lock file while a lock is held through another. Files are
 * keyed by identity (device and inode, taken from the descriptor itself; or on Windows the
 * case-folded real path), and there is at most one entry per key: a first open that races with
 * another hands its descriptors to the winner ({@link FileEntry#adopt}), and an entry that closes
 * stays in the map as a tombstone until its descriptors are closed, so that no new entry on the
 * same file can take a lock that this close would drop. No monitor is held across an open or a
 * close: a slow file system stalls only the first opens of its own files.
 *
 * <p>Idle entries stay open so that the next acquisition costs one system call. Every {@link
 * #MIN_SWEEP} registrations beyond those that survived the previous sweep, a sweep closes the
 * entries unused since then (a second-chance clock), so descriptors stay bounded by the files in
 * use plus a small cache of recently used ones. When the process runs out of descriptors, every
 * idle entry is closed at once and the open tried again.
 */
final class Registry {
    static final int MIN_SWEEP = 64;

    private final Env env;
    private final ConcurrentHashMap<Object, FileEntry> map = new ConcurrentHashMap<>();
    private final AtomicBoolean sweeping = new AtomicBoolean();
    private volatile int sweepAt = MIN_SWEEP;

    Registry(Env env) {
        this.env = env;
    }

    /**
     * Returns the entry for the file at {@code path}, opening (and creating) it if needed. The
     * entry may be closed (a tombstone): its {@link FileEntry#acquire} then says when to retry.
     */
    FileEntry resolve(Path path) throws IOException {
        Object known = env.identity.keyOf(path);
        if (known != null) {
            FileEntry e = map.get(known);
            if (e != null) {
                return e;
            }
        }
        OsLock os;
        try {
            os = env.opener.open(path, env);
        } catch (IOException e) {
            if (!isTooManyOpenFiles(e)) {
                throw e;
            }
            sweep(true); // out of descriptors: give back every idle one, then try once more
            os = env.opener.open(path, env);
        }
        FileEntry fresh = new FileEntry(env, os, path);
        FileEntry e = map.putIfAbsent(os.key(), fresh);
        if (e == null) {
            if (map.size() >= sweepAt && sweeping.compareAndSet(false, true)) {
                try {
                    sweep(false);
                } finally {
                    sweeping.set(false);
                }
            }
            return fresh;
        }
        e.adopt(os); // lost the race to another first open of this file (or found its tombstone)
        return e;
    }

    private void sweep(boolean now) {
        for (FileEntry e : map.values()) {
            e.closeIfIdle(now);
        }
        sweepAt = map.size() + MIN_SWEEP; // at least MIN_SWEEP registrations until the next sweep
    }

    /** {@code e} closed its descriptors: the tombstone goes. */
    void removed(FileEntry e) {
        map.remove(e.key, e);
    }

    /** Number of entries, tombstones included: for tests and diagnostics. */
    int size() {
        return map.size();
    }

    /**
     * How the registry tells files apart: the file system's identity of a path. A seam: the model
     * checker, which allows no file operation, gives every path one identity.
     */
    interface Identity {
        /** The file's key, as {@link OsLock#key()} gives it, or null if nothing is at the path. */
        @Nullable Object keyOf(Path path) throws IOException;

        /** Whether {@code path} names {@code e}'s file now (see {@link Registry#names}). */
        boolean names(Path path, FileEntry e) throws IOException;

        Identity STAT = new Identity() {
            @Override
            public @Nullable Object keyOf(Path path) throws IOException {
                BasicFileAttributes attrs = statOrNull(path);
                return attrs == null ? null : key(path, attrs);
            }

            @Override
            public boolean names(Path path, FileEntry e) throws IOException {
                return Registry.names(path, e);
            }
        };
    }

    /**
     * Whether {@code path} names {@code e}'s file now, by identity: false if the file was deleted
     * or another renamed over it. Always true on Windows, which has no cheap file identity (the
     * key there is the real path, which a replacement keeps).
     */
    static boolean names(Path path, FileEntry e) throws IOException {
        BasicFileAttributes attrs = statOrNull(path);
        if (attrs == null) {
            return false;
        }
        Object key = attrs.fileKey();
        return key == null || key.equals(e.key);
    }

    /** The attributes of {@code path}, or null if it does not exist; rejects non-regular files. */
    static @Nullable BasicFileAttributes statOrNull(Path path) throws IOException {
        try {
            return stat(path, path);
        } catch (NoSuchFileException e) {
            return null; // created by the open; a missing parent fails there, naming the path
        }
    }

    /** The attributes of {@code target} (the path, or its descriptor); messages name {@code path}. */
    static BasicFileAttributes stat(Path target, Path path) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(target, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            throw named(path, e);
        }
        if (!attrs.isRegularFile()) {
            throw new FileSystemException(path.toString(), null, attrs.isDirectory()
                    ? "is a directory; a lock file must be a regular file"
                    : "is not a regular file (a device, FIFO or socket); a lock file must be a regular file");
        }
        return attrs;
    }

    static Object key(Path path, BasicFileAttributes attrs) throws IOException {
        Object key = attrs.fileKey(); // (device, inode) on Unix
        if (key != null) {
            return key;
        }
        try { // Windows: no file key; the real path, case-folded, names the file
            return path.toRealPath().toString().toLowerCase(Locale.ROOT);
        } catch (IOException e) {
            throw named(path, e);
        }
    }

    static boolean isTooManyOpenFiles(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && m.contains("Too many open files")) {
                return true;
            }
        }
        return false;
    }

    /** An exception that names the lock file, keeping the JDK's type where it says more. */
    static IOException named(Path path, Throwable e) {
        String file = path.toString();
        if (e instanceof NoSuchFileException) {
            return initCause(new NoSuchFileException(file, null,
                    "cannot create the lock file: its directory does not exist"), e);
        } else if (e instanceof AccessDeniedException) {
            return initCause(new AccessDeniedException(file, null,
                    "cannot open the lock file for writing: permission denied"), e);
        } else if (e instanceof FileSystemException fse && file.equals(fse.getFile())) {
            return fse;
        }
        return initCause(new FileSystemException(file, null, String.valueOf(e.getMessage())), e);
    }

    private static IOException initCause(IOException e, Throwable cause) {
        e.initCause(cause);
        return e;
    }
}
