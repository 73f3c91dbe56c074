package io.github.locket;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;

/**
 * {@link Sys} through JNA's direct mapping: an optional dependency, for Java 17 to 21. errno is
 * read with {@link Native#getLastError()}, which JNA keeps per thread, rather than thrown: a busy
 * lock is routine, and an exception per refusal would cost more than the call.
 */
final class JnaSys implements Sys {
    private static final ThreadLocal<Memory> FLOCK = ThreadLocal.withInitial(() -> new Memory(FLOCK_SIZE));
    /**
     * The {@code struct flock} of byte [0, 1), Locket's byte, for each type ({@code F_RDLCK},
     * {@code F_WRLCK}, {@code F_UNLCK}), filled once: every lock and unlock uses one of them. The
     * set commands only read the struct, so all threads share them. Each {@code Memory} write is a
     * JNI call; filling the struct for every call cost five of them, as much as the system call.
     */
    private static final Memory ONE_BYTE = oneByte();
    private static final long ONE_BYTE_ADDRESS = Pointer.nativeValue(ONE_BYTE);

    private JnaSys() {}

    /** Registers the natives; null if JNA is missing or cannot load libc. */
    static @Nullable Sys loadOrNull() {
        try {
            Native.register(C.class, Platform.C_LIBRARY_NAME);
            return new JnaSys();
        } catch (LinkageError | RuntimeException unavailable) {
            return null;
        }
    }

    @Override
    public int open(Path path, int flags, int mode) {
        for (;;) {
            int fd = C.open(path.toString(), flags, mode);
            if (fd >= 0) {
                return fd;
            }
            int errno = Native.getLastError();
            if (errno != EINTR) {
                return -errno;
            }
        }
    }

    @Override
    public int close(int fd) {
        return C.close(fd) == 0 ? 0 : Native.getLastError();
    }

    @Override
    public int flock(int fd, int operation) {
        return C.flock(fd, operation) == 0 ? 0 : Native.getLastError();
    }

    @Override
    public int fcntlLock(int fd, int cmd, int type, long start, long length) {
        boolean oneByte = start == 0 && length == 1 && type >= F_RDLCK && type <= F_UNLCK // 0, 1, 2
                && cmd != F_GETLK && cmd != F_OFD_GETLK; // the get commands write to the struct
        long fl = oneByte ? ONE_BYTE_ADDRESS + (long) type * FLOCK_SIZE : Pointer.nativeValue(fill(type, start, length));
        return C.fcntl(fd, cmd, fl) == 0 ? 0 : Native.getLastError();
    }

    @Override
    public long[] fcntlGetLock(int fd, int cmd, int type, long start, long length) {
        Memory fl = fill(type, start, length);
        if (C.fcntl(fd, cmd, Pointer.nativeValue(fl)) != 0) {
            return new long[] {-Native.getLastError()};
        }
        return new long[] {fl.getShort(FLOCK_TYPE), fl.getInt(FLOCK_PID), fl.getLong(FLOCK_START), fl.getLong(FLOCK_LEN)};
    }

    /** The three structs of {@link #ONE_BYTE}, one after the other, indexed by type. */
    private static Memory oneByte() {
        Memory all = new Memory(3L * FLOCK_SIZE);
        for (int type : new int[] {F_RDLCK, F_WRLCK, F_UNLCK}) {
            fill(all.share((long) type * FLOCK_SIZE, FLOCK_SIZE), type, 0, 1);
        }
        return all;
    }

    private static Memory fill(int type, long start, long length) {
        Memory fl = FLOCK.get();
        fill(fl, type, start, length);
        return fl;
    }

    private static void fill(Pointer fl, int type, long start, long length) {
        fl.clear(FLOCK_SIZE);
        fl.setShort(FLOCK_TYPE, (short) type);
        fl.setShort(FLOCK_WHENCE, (short) 0);
        fl.setLong(FLOCK_START, start);
        fl.setLong(FLOCK_LEN, length);
    }

    @Override
    public long pthreadSelf() {
        return C.pthread_self();
    }

    @Override
    public int pthreadKill(long thread, int signal) {
        return C.pthread_kill(thread, signal);
    }

    @Override
    public boolean interrupts(int signal) {
        try (Memory old = new Memory(SIGACTION_SIZE)) {
            old.clear();
            if (C.sigaction(signal, null, old) != 0) {
                return false;
            }
            long handler = Pointer.nativeValue(old.getPointer(0));
            return handler != 0 && handler != 1 && (old.getInt(SIGACTION_FLAGS) & SA_RESTART) == 0;
        }
    }

    @Override
    public String name() {
        return "JNA";
    }

    /** libc, directly mapped. */
    private static final class C {
        static native int open(String path, int flags, int mode);

        static native int close(int fd);

        static native int flock(int fd, int operation);

        static native int fcntl(int fd, int cmd, long flock); // the struct's address

        static native long pthread_self();

        static native int pthread_kill(long thread, int signal);

        static native int sigaction(int signal, @Nullable Pointer action, Pointer old);
    }
}
