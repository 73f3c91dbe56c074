package io.github.locket;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;

/** {@code flock(2)} through JNA's direct mapping: an optional dependency for Java 17 to 21. */
final class JnaFlock implements Flock {
    private final int fd;
    private final Path path;

    private JnaFlock(int fd, Path path) {
        this.fd = fd;
        this.path = path;
    }

    /** Registers the natives; null if JNA is missing or cannot load libc. */
    static Flock.Opener loadOrNull() {
        try {
            Native.register(JnaFlock.class, Platform.C_LIBRARY_NAME);
            return new Binding();
        } catch (LinkageError | RuntimeException unavailable) {
            return null;
        }
    }

    static final class Binding implements Flock.Opener {
        @Override
        public Flock open(Path path) throws IOException {
            for (;;) {
                try {
                    return new JnaFlock(JnaFlock.open(path.toString(), OPEN_FLAGS, MODE_0666), path);
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != EINTR) {
                        throw Flock.openFailure(path, e.getErrorCode());
                    }
                }
            }
        }
    }

    @Override
    public boolean tryLock() throws IOException {
        for (;;) {
            try {
                flock(fd, LOCK_EX | LOCK_NB);
                return true;
            } catch (LastErrorException e) {
                if (e.getErrorCode() == EWOULDBLOCK) {
                    return false;
                } else if (e.getErrorCode() != EINTR) {
                    throw failure(path, "flock(2)", e);
                }
            }
        }
    }

    @Override
    public void unlock() throws IOException {
        try {
            flock(fd, LOCK_UN);
        } catch (LastErrorException e) {
            throw failure(path, "flock(2) unlock", e);
        }
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public void close() {
        try {
            close(fd);
        } catch (LastErrorException ignored) {
            // the descriptor is gone either way
        }
    }

    private static IOException failure(Path path, String call, LastErrorException e) {
        FileSystemException f = new FileSystemException(path.toString(), null, Flock.describe(call, e.getErrorCode()));
        f.initCause(e);
        return f;
    }

    private static native int open(String path, int flags, int mode) throws LastErrorException;

    private static native int flock(int fd, int operation) throws LastErrorException;

    private static native int close(int fd) throws LastErrorException;
}
