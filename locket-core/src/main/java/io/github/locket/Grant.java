package io.github.locket;

import java.io.UncheckedIOException;
import java.lang.ref.PhantomReference;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * One grant of a lock, as the library sees it: what holds the lock while a {@link Lock} handle is
 * out. It is a phantom reference to that handle, which nothing of the library's references, so a
 * handle dropped while held is found by the garbage collector ({@link Leaks}).
 */
abstract class Grant extends PhantomReference<Lock> {
    final Leaks leaks;
    /** Where it was acquired, when traced ({@link Leaks#site()}); else null. */
    final @Nullable Throwable site;
    /** Set once, when released (a file grant: under its entry's monitor); read anywhere. */
    volatile boolean released;

    Grant(Lock lock, Leaks leaks) {
        super(lock, leaks.queue);
        this.leaks = leaks;
        this.site = leaks.site();
    }

    /** The lock's name, for messages. */
    abstract String name();

    /** The lock file's path, as its {@link LockFile} named it. */
    abstract Path path();

    /** Whether it is held in shared mode. */
    boolean shared() {
        return false;
    }

    /**
     * Releases the lock, once.
     *
     * @return true if this call released it, false if it was released before
     * @throws UncheckedIOException if releasing failed; it counts as released all the same
     */
    abstract boolean release();

    /** Its handle is unreachable: release, and say so if it was still held. */
    final void leaked() {
        boolean wasHeld;
        try {
            wasHeld = release();
        } catch (UncheckedIOException | IllegalStateException failure) {
            wasHeld = true; // released all the same
        }
        if (wasHeld) {
            Leaks.report(this);
        }
    }

    /** A grant of a lock file, held by its {@link FileEntry}. */
    static final class OfFile extends Grant {
        final FileEntry entry;
        final boolean shared;
        private final Path path;

        OfFile(Lock lock, FileEntry entry, Path path, boolean shared) {
            super(lock, entry.env.leaks);
            this.entry = entry;
            this.path = path;
            this.shared = shared;
        }

        @Override
        String name() {
            return path.toString();
        }

        @Override
        Path path() {
            return path;
        }

        @Override
        boolean shared() {
            return shared;
        }

        @Override
        boolean release() {
            return entry.release(this);
        }
    }

    /**
     * A grant made by a lock outside this module ({@link io.github.locket.spi.Locks}). The leak
     * backstop keeps it reachable until it is released, since no registry of ours holds it.
     */
    static final class External extends Grant {
        private final String name;
        private final Runnable release;

        External(Lock lock, String name, Runnable release, Leaks leaks) {
            super(lock, leaks);
            this.name = name;
            this.release = release;
            leaks.granted(this);
        }

        @Override
        String name() {
            return name;
        }

        @Override
        Path path() {
            throw new UnsupportedOperationException("the lock " + name + " is not a lock file");
        }

        @Override
        boolean release() {
            if (!markReleased()) {
                return false;
            }
            release.run();
            return true;
        }

        /** Counts as released without running the release: its owner lost it. */
        boolean markReleased() {
            synchronized (this) {
                if (released) {
                    return false;
                }
                released = true;
            }
            clear();
            leaks.released(this);
            return true;
        }
    }
}
