package io.github.locket;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Chooses, once per JVM, whether locks also take {@code flock(2)}: on Linux, when a native
 * binding works. Elsewhere, or when it does not, says so once in the log ({@code
 * io.github.locket}) and in {@link Locket#protocols()}.
 *
 * <p>The system property {@code io.github.locket.flock=false} turns the {@code flock(2)} half off
 * (for measurements, or where only Java processes share the files).
 */
final class Flocks {
    private Flocks() {}

    private static final boolean WINDOWS =
            System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");
    private static final Flock.Opener OPENER = choose();

    private static Flock.Opener choose() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return null; // Windows: LockFileEx already excludes locket; macOS: see README
        }
        System.Logger log = System.getLogger("io.github.locket");
        if (!Boolean.parseBoolean(System.getProperty("io.github.locket.flock", "true"))) {
            log.log(Level.INFO, "Locket: flock(2) turned off by -Dio.github.locket.flock=false;"
                    + " locks exclude fcntl users (Java, lockf) only");
            return null;
        }
        Flock.Opener opener;
        try {
            opener = NativeFlocks.load();
        } catch (LinkageError unavailable) {
            opener = null;
        }
        if (opener == null) {
            String fix = Runtime.version().feature() >= 22
                    ? "allow native access: --enable-native-access=ALL-UNNAMED (or =io.github.locket on the module path)"
                    : "add net.java.dev.jna:jna to the class path";
            log.log(Level.WARNING, "Locket: no native binding for flock(2) on Java " + Runtime.version().feature()
                    + " (" + fix + "); locks will not exclude Python's locket, filelock or flock(1)");
        }
        return opener;
    }

    /** The native binding of this JVM, or null: none works, flock is turned off, or not Linux. */
    static Flock.Opener opener() {
        return OPENER;
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
        return Collections.unmodifiableSet(OPENER == null
                ? EnumSet.of(LockProtocol.FCNTL)
                : EnumSet.of(LockProtocol.FCNTL, LockProtocol.FLOCK));
    }

    static String binding() {
        return OPENER == null ? "none" : NativeFlocks.describe(OPENER);
    }
}
