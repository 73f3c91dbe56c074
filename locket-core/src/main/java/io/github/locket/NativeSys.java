package io.github.locket;

import org.jspecify.annotations.Nullable;

/**
 * The native binding for this Java version. Java 17 to 21 use JNA when it is on the class path;
 * the multi-release JAR replaces this class on Java 22 and later with one that prefers the Foreign
 * Function and Memory API.
 */
final class NativeSys {
    private NativeSys() {}

    /** Returns a binding, or null if none works in this JVM. */
    static @Nullable Sys load() {
        try {
            return JnaSys.loadOrNull();
        } catch (LinkageError noJna) {
            return null;
        }
    }
}
