package io.github.locket;

/**
 * The native binding of {@code flock(2)} for this Java version. Java 17 to 21 use JNA when it is on
 * the class path; the multi-release JAR replaces this class on Java 22 and later with one that
 * prefers the Foreign Function and Memory API.
 */
final class NativeFlocks {
    private NativeFlocks() {}

    /**
     * @return an opener, or null if no binding works in this JVM
     */
    static Flock.Opener load() {
        return JnaFlock.loadOrNull();
    }

    /** The binding's name, for {@link Locket#protocols()} diagnostics. */
    static String describe(Flock.Opener opener) {
        return opener instanceof JnaFlock.Binding ? "JNA" : "none";
    }
}
