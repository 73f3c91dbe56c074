package io.github.locket;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Set;
import java.util.concurrent.ExecutorService;

/**
 * Opens a lock file's descriptors. The seam between the registry and the file system: tests wrap
 * {@link #standard} to inject a rename, a failure or descriptor exhaustion at a chosen step.
 */
interface FileOpener {
    /**
     * Opens the lock file at {@code path}, creating it if missing: both descriptors are on one and
     * the same file, and {@link Handles#key()} is that file's identity.
     *
     * @throws IOException naming the path, if it cannot be a lock file
     */
    Handles open(Path path, ExecutorService io) throws IOException;

    /** One lock file's descriptors: the channel (fcntl half), the flock half, and their file. */
    record Handles(Object key, AsynchronousFileChannel channel, Flock flock) {
        /** Closes both; the flock descriptor first (see {@link FileEntry} on the order). */
        void close() {
            flock.close();
            try {
                channel.close();
            } catch (IOException ignored) {
                // the descriptor is gone either way
            }
        }
    }

    /** A step of {@link #standard}'s open where a test may act (rename the file, say). */
    interface Step {
        Step NONE = path -> {};

        void afterFirstOpen(Path path) throws IOException;
    }

    /** The library's opener, with {@code binding} (or null) for the flock half. */
    static FileOpener standard(Flock.Opener binding, Step step) {
        return binding == null ? new ByPath(step) : new ByDescriptor(binding, step);
    }

    /**
     * Linux with a native binding: the file is opened once by path (the flock descriptor), and its
     * identity and the channel are both taken from that descriptor, through {@code /proc/self/fd}.
     * A rename over the path at any moment cannot give the two descriptors different files, nor the
     * entry a key that names another file than they do.
     */
    final class ByDescriptor implements FileOpener {
        private final Flock.Opener binding;
        private final Step step;

        ByDescriptor(Flock.Opener binding, Step step) {
            this.binding = binding;
            this.step = step;
        }

        @Override
        public Handles open(Path path, ExecutorService io) throws IOException {
            Registry.statOrNull(path); // rejects a directory, FIFO or device before opening it
            Flock flock;
            try {
                flock = binding.open(path);
            } catch (IOException e) {
                throw Registry.named(path, e);
            }
            try {
                step.afterFirstOpen(path);
                Path self = Path.of("/proc/self/fd/" + flock.fd());
                BasicFileAttributes attrs = Registry.stat(self, path);
                AsynchronousFileChannel channel = AsynchronousFileChannel.open(self, Set.of(StandardOpenOption.WRITE), io);
                if (Flocks.onNfs(self)) {
                    flock = flock.identityOnly();
                }
                return new Handles(attrs.fileKey(), channel, flock);
            } catch (IOException e) {
                flock.close(); // nothing can be held through it yet, and no entry of ours is on this file
                throw Registry.named(path, e);
            } catch (RuntimeException e) {
                flock.close();
                throw e;
            }
        }
    }

    /**
     * No native binding (fcntl only, or Windows): the channel is opened by path, and its identity
     * is a {@code stat} of the path before and after the open, which must agree; if another file
     * was renamed over the path in between, the descriptor may be on either, so the open starts
     * over. (A file created by this open has no "before": a rename in the microseconds after its
     * creation goes unseen, which the identity check after every grant then catches.)
     */
    final class ByPath implements FileOpener {
        private static final Set<StandardOpenOption> OPTIONS = Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        private final Step step;

        ByPath(Step step) {
            this.step = step;
        }

        @Override
        public Handles open(Path path, ExecutorService io) throws IOException {
            for (;;) {
                BasicFileAttributes before = Registry.statOrNull(path);
                AsynchronousFileChannel channel;
                try {
                    channel = AsynchronousFileChannel.open(path, OPTIONS, io);
                } catch (IOException e) {
                    throw Registry.named(path, e);
                }
                try {
                    step.afterFirstOpen(path);
                    Object key = Registry.key(path, Registry.stat(path, path));
                    Object was = before == null ? key : Registry.key(path, before);
                    if (key.equals(was)) {
                        return new Handles(key, channel, Flock.NONE);
                    }
                } catch (IOException | RuntimeException e) {
                    channel.close();
                    throw e;
                }
                // Replaced meanwhile. On Windows closing a handle drops only its own locks; on Linux
                // without a binding this could drop a lock of ours if the file renamed away was one
                // we hold, a double race the fallback accepts (the native binding has no such gap).
                channel.close();
            }
        }
    }
}
