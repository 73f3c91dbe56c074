package io.github.locket;

import java.nio.file.Path;

/** One queued acquisition, a node of its {@link FileEntry}'s FIFO. */
final class Waiter {
    final FileEntry entry;
    final Acquisition owner;
    final Path path;

    // Guarded by the entry's monitor.
    Waiter prev;
    Waiter next;
    boolean linked;

    Waiter(FileEntry entry, Acquisition owner, Path path) {
        this.entry = entry;
        this.owner = owner;
        this.path = path;
    }

    /** Its acquisition completed (cancelled, timed out): a grant must skip it. */
    boolean isAbandoned() {
        return owner.result.isDone();
    }
}
