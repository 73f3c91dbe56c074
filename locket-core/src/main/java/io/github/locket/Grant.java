package io.github.locket;

import java.lang.ref.PhantomReference;
import java.nio.file.Path;

/**
 * One grant of a lock, as the registry sees it: what a {@link FileEntry} holds while the lock is
 * held. It is a phantom reference to the user's {@link Lock} handle, which the entry never
 * references, so a handle dropped while held is found by the garbage collector ({@link Leaks}).
 */
final class Grant extends PhantomReference<Lock> {
    final FileEntry entry;
    final Path path;
    /** Where it was acquired, when traced ({@link Leaks#site()}); else null. */
    final Throwable site;
    /** Written under the entry's monitor; read anywhere. */
    volatile boolean released;

    Grant(Lock lock, FileEntry entry, Path path) {
        super(lock, entry.env.leaks.queue);
        this.entry = entry;
        this.path = path;
        this.site = entry.env.leaks.site();
    }

    /** Its handle is unreachable: release, and say so if it was still held. */
    void leaked() {
        boolean wasHeld;
        try {
            wasHeld = entry.release(this);
        } catch (java.io.UncheckedIOException failure) {
            wasHeld = true; // released all the same: the entry closed its descriptors
        }
        if (wasHeld) {
            Leaks.report(this);
        }
    }
}
