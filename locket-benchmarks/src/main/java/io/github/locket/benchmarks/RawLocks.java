package io.github.locket.benchmarks;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The system calls Locket makes, by hand, through JNA's direct mapping (what Locket's own binding
 * uses on Java 17-21): the floor that an acquisition plus a release cannot go below. One
 * descriptor, an open-file-description record lock on byte [0,1) ({@code F_OFD_SETLK}) and {@code
 * flock(2)}, as Locket takes them; the two {@code struct flock} are filled once.
 *
 * <p>Not thread-safe: one instance per thread, or a lock of the caller's around it.
 */
final class RawLocks implements AutoCloseable {
    static {
        Native.register(C.class, Platform.C_LIBRARY_NAME);
    }

    private static final int O_RDWR = 2;
    private static final int O_CREAT = 0100;
    private static final int O_CLOEXEC = 02000000;
    private static final int F_OFD_SETLK = 37;
    private static final int F_OFD_SETLKW = 38;
    private static final int F_RDLCK = 0;
    private static final int F_WRLCK = 1;
    private static final int F_UNLCK = 2;
    private static final int LOCK_SH = 1;
    private static final int LOCK_EX = 2;
    private static final int LOCK_NB = 4;
    private static final int LOCK_UN = 8;

    private final int fd;
    private final boolean flock;
    private final Memory write = flockStruct(F_WRLCK);
    private final Memory read = flockStruct(F_RDLCK);
    private final Memory unlock = flockStruct(F_UNLCK);

    /** Opens {@code path}; {@code flock}: take the flock(2) half too, as Locket does when it can. */
    RawLocks(Path path, boolean flock) throws IOException {
        this.fd = C.open(path.toString(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) {
            throw new IOException("open " + path + ": errno " + Native.getLastError());
        }
        this.flock = flock;
    }

    private static Memory flockStruct(int type) {
        Memory m = new Memory(32);
        m.clear();
        m.setShort(0, (short) type);
        m.setLong(8, 0);
        m.setLong(16, 1);
        return m;
    }

    /** Locket's uncontended attempt: F_OFD_SETLK, then flock(LOCK_NB). */
    boolean tryLock(boolean shared) {
        if (C.fcntl(fd, F_OFD_SETLK, shared ? read : write) != 0) {
            return false;
        }
        if (flock && C.flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
            C.fcntl(fd, F_OFD_SETLK, unlock);
            return false;
        }
        return true;
    }

    /** Blocking: F_OFD_SETLKW, then a blocking flock. */
    void lock(boolean shared) throws IOException {
        if (C.fcntl(fd, F_OFD_SETLKW, shared ? read : write) != 0) {
            throw new IOException("fcntl: errno " + Native.getLastError());
        }
        if (flock && C.flock(fd, shared ? LOCK_SH : LOCK_EX) != 0) {
            throw new IOException("flock: errno " + Native.getLastError());
        }
    }

    /** flock(LOCK_UN), then F_UNLCK. */
    void unlock() {
        if (flock) {
            C.flock(fd, LOCK_UN);
        }
        C.fcntl(fd, F_OFD_SETLK, unlock);
    }

    /** The flock(2) half alone, blocking (for a baseline that pairs it with FileChannel's fcntl). */
    void flockOnly(boolean lock) {
        C.flock(fd, lock ? LOCK_EX : LOCK_UN);
    }

    @Override
    public void close() {
        C.close(fd);
    }

    /** libc, directly mapped. */
    private static final class C {
        static native int open(String path, int flags, int mode);

        static native int close(int fd);

        static native int flock(int fd, int operation);

        static native int fcntl(int fd, int cmd, Pointer flock);
    }
}
