package io.github.locket;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JVM-wide map from file identity to {@link FileEntry}.
 *
 * <p>Closing any descriptor of a file drops every POSIX lock this process holds on it, so this JVM
 * must never have two descriptors on one lock file. Files are therefore keyed by identity (device
 * and inode, or on Windows the case-folded real path) and every open and every close of a lock
 * file's channel happens under {@link #LOCK}: a channel is closed only when nothing is held or
 * queued through it, and a new channel for the same file is opened only after the old one is
 * closed.
 *
 * <p>Idle entries stay open so that the next acquisition costs one system call. Every {@link
 * #MIN_SWEEP} registrations beyond those that survived the previous sweep, a sweep closes the
 * entries unused since then (a second-chance clock), so descriptors stay bounded by the files in
 * use plus a small cache of recently used ones.
 */
final class Registry {
    private Registry() {}

    static final int MIN_SWEEP = 64;
    private static final Set<OpenOption> OPEN_OPTIONS = Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE);
    private static final ConcurrentHashMap<Object, FileEntry> MAP = new ConcurrentHashMap<>();
    private static final Object LOCK = new Object();
    private static int sweepAt = MIN_SWEEP; // guarded by LOCK

    /** Returns the open entry for the file at {@code path}, opening (and creating) it if needed. */
    static FileEntry resolve(Path path) throws IOException {
        BasicFileAttributes attrs = statOrNull(path);
        if (attrs != null) {
            FileEntry e = MAP.get(key(path, attrs));
            if (e != null && !e.isClosed()) {
                return e;
            }
        }
        synchronized (LOCK) {
            return open(path);
        }
    }

    private static FileEntry open(Path path) throws IOException {
        BasicFileAttributes before = statOrNull(path);
        if (before != null) {
            FileEntry e = MAP.get(key(path, before));
            if (e != null) {
                return e; // entries are removed from the map under LOCK when closed: this one is open
            }
        }
        AsynchronousFileChannel ch;
        try {
            ch = AsynchronousFileChannel.open(path, OPEN_OPTIONS, Threads.io());
        } catch (IOException e) {
            throw named(path, e);
        }
        Object key;
        try {
            key = key(path, stat(path));
        } catch (IOException e) {
            ch.close(); // the file vanished at once; nothing can be held through this descriptor yet
            throw e;
        }
        FileEntry existing = MAP.get(key);
        if (existing != null) {
            // Another program linked an already-registered file to this path between our stat and
            // our open. Closing this descriptor could drop a lock held through the other one, so it
            // lives as long as the other.
            existing.adoptStray(ch);
            return existing;
        }
        Flock flock;
        try {
            flock = Flocks.open(path);
        } catch (IOException e) {
            ch.close(); // nothing is held through it yet
            throw e;
        }
        FileEntry e = new FileEntry(key, path, ch, flock);
        MAP.put(key, e);
        if (MAP.size() >= sweepAt) {
            sweep();
        }
        return e;
    }

    private static void sweep() {
        for (FileEntry e : MAP.values()) {
            if (e.markClosedIfIdle()) {
                remove(e);
            }
        }
        sweepAt = MAP.size() + MIN_SWEEP; // at least MIN_SWEEP registrations until the next sweep
    }

    /** Closes {@code e} if nothing is held or queued through it (it stops a pending OS wait). */
    static void evictIfUnused(FileEntry e) {
        synchronized (LOCK) {
            if (e.markClosedIfUnused()) {
                remove(e);
            }
        }
    }

    /** The OS refused to release a lock: close the descriptor (which does) and fail the waiters. */
    static void evictBroken(FileEntry e, IOException failure) {
        List<Waiter> waiters;
        synchronized (LOCK) {
            waiters = e.markClosedBroken();
            remove(e);
        }
        IOException named = named(e.path, failure);
        for (Waiter w : waiters) {
            w.future().completeExceptionally(named);
        }
    }

    private static void remove(FileEntry e) {
        MAP.remove(e.key, e);
        e.closeChannels();
    }

    /** Number of open entries: for tests and diagnostics. */
    static int size() {
        return MAP.size();
    }

    private static BasicFileAttributes statOrNull(Path path) throws IOException {
        try {
            return stat(path);
        } catch (NoSuchFileException e) {
            return null; // created by open(); a missing parent fails there, naming the path
        }
    }

    private static BasicFileAttributes stat(Path path) throws IOException {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(path, BasicFileAttributes.class);
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

    private static Object key(Path path, BasicFileAttributes attrs) throws IOException {
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

    /** An exception that names the lock file, keeping the JDK's type where it says more. */
    static IOException named(Path path, Throwable e) {
        String file = path.toString();
        if (e instanceof NoSuchFileException) {
            return initCause(new NoSuchFileException(file, null,
                    "cannot create the lock file: its directory does not exist"), e);
        } else if (e instanceof AccessDeniedException) {
            return initCause(new AccessDeniedException(file, null,
                    "cannot open the lock file for writing: permission denied"), e);
        } else if (e instanceof FileSystemException && file.equals(((FileSystemException) e).getFile())) {
            return (IOException) e;
        }
        return initCause(new FileSystemException(file, null, String.valueOf(e.getMessage())), e);
    }

    private static IOException initCause(IOException e, Throwable cause) {
        e.initCause(cause);
        return e;
    }
}
