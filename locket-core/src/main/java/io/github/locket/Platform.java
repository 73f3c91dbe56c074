package io.github.locket;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * What this JVM can do, decided once: on Linux with a native binding ({@link Sys}) that can take
 * open-file-description locks and wake a thread out of a blocked system call, each lock file gets
 * an {@link OfdLock} (with the {@code flock(2)} half unless turned off); otherwise an {@link
 * ChannelLock} on the JDK's channel, saying so once in the log ({@code io.github.locket}) and in
 * {@link Locket#protocols()}.
 *
 * <p>The system property {@code io.github.locket.flock=false} turns the {@code flock(2)} half off
 * (for measurements, or where only Java processes share the files).
 */
final class Platform {
    private Platform() {}

    private static final String OS = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    private static final boolean WINDOWS = OS.startsWith("windows");
    private static final boolean LINUX = OS.startsWith("linux");
    private static final boolean FLOCK = Boolean.parseBoolean(System.getProperty("io.github.locket.flock", "true"));
    private static final @Nullable Sys SYS = choose();

    private static @Nullable Sys choose() {
        if (!LINUX) {
            return null; // Windows: LockFileEx already excludes locket; macOS: see README
        }
        System.Logger log = System.getLogger("io.github.locket");
        if (!FLOCK) {
            log.log(Level.INFO, "Locket: flock(2) turned off by -Dio.github.locket.flock=false;"
                    + " locks exclude fcntl users (Java, lockf) only");
        }
        Sys sys;
        try {
            sys = NativeSys.load();
        } catch (LinkageError unavailable) {
            sys = null;
        }
        if (sys == null) {
            if (FLOCK) {
                String fix = Runtime.version().feature() >= 22
                        ? "allow native access: --enable-native-access=ALL-UNNAMED (or =io.github.locket on the module path)"
                        : "add net.java.dev.jna:jna to the class path";
                log.log(Level.WARNING, "Locket: no native binding for flock(2) on Java " + Runtime.version().feature()
                        + " (" + fix + "); locks will not exclude Python's locket, filelock or flock(1)");
            }
            return null;
        }
        String missing = missing(sys);
        if (missing != null) {
            log.log(Level.WARNING, "Locket: " + missing + "; locks use the JDK's FileChannel"
                    + (FLOCK ? " and will not exclude Python's locket, filelock or flock(1)" : ""));
            return null;
        }
        return sys;
    }

    /** What the binding lacks to be used here, or null. */
    private static @Nullable String missing(Sys sys) {
        // The JDK's NIO installs its wake-up signal's handler when it first blocks a thread in
        // a channel call; make sure it has, then check that the handler is there.
        try (FileChannel any = FileChannel.open(Path.of("/proc/self/stat"), StandardOpenOption.READ)) {
            any.size();
        } catch (IOException | RuntimeException e) {
            return "cannot initialise the JDK's NIO (" + e + ")";
        }
        if (!sys.interrupts(Sys.WAKE_SIGNAL)) {
            return "no handler for the JDK's wake-up signal " + Sys.WAKE_SIGNAL + " to cancel a wait in the kernel";
        }
        int fd = sys.open(Path.of("/dev/null"), Sys.O_WRONLY | Sys.O_CLOEXEC, 0);
        if (fd < 0) {
            return "cannot open /dev/null (errno " + -fd + ")";
        }
        try {
            long[] probe = sys.fcntlGetLock(fd, Sys.F_OFD_GETLK, Sys.F_WRLCK, 0, 1);
            if (probe.length < 2) {
                return "the kernel has no open-file-description locks (F_OFD_GETLK: errno " + -probe[0] + "; Linux 3.15+)";
            }
        } finally {
            sys.close(fd);
        }
        return null;
    }

    /** The native binding of this JVM, or null: none works, or not Linux. */
    static @Nullable Sys sys() {
        return SYS;
    }

    /** Whether locks take the flock(2) half where they can. */
    static boolean flock() {
        return FLOCK;
    }

    static boolean windows() {
        return WINDOWS;
    }

    /**
     * On NFS, Linux emulates flock(2) with an fcntl lock on the whole file: the fcntl half alone
     * already excludes flock users there, and a flock half would conflict with our own fcntl half.
     */
    static boolean onNfs(Path path) {
        try {
            return Files.getFileStore(path).type().startsWith("nfs");
        } catch (IOException unknown) {
            return false;
        }
    }

    static Set<LockProtocol> protocols() {
        if (WINDOWS) {
            return Collections.unmodifiableSet(EnumSet.of(LockProtocol.LOCK_FILE_EX));
        }
        return Collections.unmodifiableSet(SYS == null || !FLOCK
                ? EnumSet.of(LockProtocol.FCNTL)
                : EnumSet.of(LockProtocol.FCNTL, LockProtocol.FLOCK));
    }

    /** "FFM", "JNA" or "none": for diagnostics and tests. */
    static String binding() {
        return SYS == null ? "none" : SYS.name();
    }
}
