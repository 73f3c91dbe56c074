package io.github.locket;

import java.nio.file.Path;

/**
 * The system calls Locket makes itself on Linux, through a native binding (the Foreign Function
 * and Memory API on Java 22+, else JNA when present): {@code open}, {@code close}, {@code flock},
 * {@code fcntl} record locks on open file descriptions, and what it takes to wake a thread blocked
 * in one of them. Every method returns 0 (or a descriptor) on success and the {@code errno} value,
 * negated for {@link #open}, on failure: no exception on the paths where a busy lock is routine.
 *
 * <p>Implementations are thread-safe; each call uses per-thread scratch memory.
 */
interface Sys {
    /** {@code open(path, flags, mode)}: the descriptor, or {@code -errno}. */
    int open(Path path, int flags, int mode);

    /** {@code close(fd)}: 0 or errno. */
    int close(int fd);

    /** {@code flock(fd, operation)}: 0 or errno. */
    int flock(int fd, int operation);

    /**
     * {@code fcntl(fd, cmd, &flock)} with {@code l_whence = SEEK_SET} and {@code l_pid = 0}: 0 or
     * errno.
     */
    int fcntlLock(int fd, int cmd, int type, long start, long length);

    /**
     * {@code fcntl(fd, F_OFD_GETLK or F_GETLK, ...)} for bytes [start, start+length) in {@code
     * type}: the conflicting lock as {@code {type, pid, start, length}} ({@code type == F_UNLCK}
     * if none; {@code pid == -1} for an open file description lock), or {@code {-errno}}.
     */
    long[] fcntlGetLock(int fd, int cmd, int type, long start, long length);

    /** {@code pthread_self()}. */
    long pthreadSelf();

    /** {@code pthread_kill(thread, signal)}: 0 or an error number. */
    int pthreadKill(long thread, int signal);

    /**
     * Whether {@code signal} has a handler that interrupts system calls: installed (not {@code
     * SIG_DFL} or {@code SIG_IGN}) and without {@code SA_RESTART}.
     */
    boolean interrupts(int signal);

    /** A short name for diagnostics: "FFM" or "JNA". */
    String name();

    // Linux values, the same on x86_64 and aarch64.
    int O_WRONLY = 1;
    int O_RDWR = 2;
    int O_CREAT = 0100;
    int O_NONBLOCK = 04000;
    int O_CLOEXEC = 02000000;
    int MODE_0666 = 0666;

    int LOCK_SH = 1;
    int LOCK_EX = 2;
    int LOCK_NB = 4;
    int LOCK_UN = 8;

    int F_GETLK = 5;
    int F_OFD_GETLK = 36;
    int F_OFD_SETLK = 37;
    int F_OFD_SETLKW = 38;
    int F_RDLCK = 0;
    int F_WRLCK = 1;
    int F_UNLCK = 2;

    int EPERM = 1;
    int ENOENT = 2;
    int EINTR = 4;
    int ENXIO = 6;
    int EAGAIN = 11; // also EWOULDBLOCK
    int EACCES = 13;
    int EISDIR = 21;
    int EINVAL = 22;
    int ENFILE = 23;
    int EMFILE = 24;
    int EROFS = 30;
    int EDEADLK = 35;

    /**
     * The signal the JDK's own NIO uses to wake a thread blocked in a system call when its channel
     * is closed ({@code SIGRTMAX - 2}): its handler does nothing and is installed without {@code
     * SA_RESTART}, so the call fails with {@code EINTR}. Locket checks that it is so before relying
     * on it ({@link #interrupts}).
     */
    int WAKE_SIGNAL = 64 - 2;

    /** {@code struct flock} on 64-bit Linux: l_type, l_whence, l_start, l_len, l_pid. */
    int FLOCK_SIZE = 32;
    int FLOCK_TYPE = 0;
    int FLOCK_WHENCE = 2;
    int FLOCK_START = 8;
    int FLOCK_LEN = 16;
    int FLOCK_PID = 24;
    /** {@code struct sigaction} (glibc, 64-bit): sa_handler at 0, sa_flags at 136. */
    int SIGACTION_SIZE = 256;
    int SIGACTION_FLAGS = 136;
    int SA_RESTART = 0x10000000;

    /** errno as a message, with the JDK's words for the values Locket reacts to. */
    static String describe(String call, int errno) {
        String what = errno == EMFILE || errno == ENFILE ? " (Too many open files)" : "";
        return call + " failed: errno " + errno + what;
    }
}
