package io.github.locket;

/**
 * The native binding of {@code flock(2)} on Java 22 and later (the multi-release JAR's version of
 * this class): the Foreign Function and Memory API when this module may use it, else JNA when it
 * is on the class path.
 */
final class NativeFlocks {
    private NativeFlocks() {}

    /**
     * @return an opener, or null if no binding works in this JVM
     */
    static Flock.Opener load() {
        Flock.Opener ffm = FfmFlock.loadOrNull();
        if (ffm != null) {
            return ffm;
        }
        try {
            return JnaFlock.loadOrNull();
        } catch (LinkageError noJna) {
            return null;
        }
    }

    /** The binding's name, for {@link Locket#protocols()} diagnostics. */
    static String describe(Flock.Opener opener) {
        // Test FFM first: testing for JnaFlock.Binding would load JNA's classes, which may be absent.
        return opener instanceof FfmFlock.Binding ? "FFM" : opener != null ? "JNA" : "none";
    }
}
