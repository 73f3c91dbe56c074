package io.github.locket;

/**
 * The native binding on Java 22 and later (the multi-release JAR's version of this class): the
 * Foreign Function and Memory API when this module may use it, else JNA when it is on the class
 * path.
 */
final class NativeSys {
    private NativeSys() {}

    /** Returns a binding, or null if none works in this JVM. */
    static Sys load() {
        Sys ffm = FfmSys.loadOrNull();
        if (ffm != null) {
            return ffm;
        }
        try {
            return JnaSys.loadOrNull();
        } catch (LinkageError noJna) {
            return null;
        }
    }
}
