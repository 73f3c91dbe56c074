/**
 * Locket: a lock named by a file path, shared by the threads and processes that use it.
 *
 * <p>Start at {@link io.github.locket.Locket}.
 */
module io.github.locket {
    // flock(2) on Java 17-21; absent at run time, Locket takes fcntl locks only.
    requires static com.sun.jna;
    // @Nullable, for NullAway at build time; nothing at run time.
    requires static transitive org.jspecify;

    exports io.github.locket;
    // For NamedLock implementations outside this module (locket-postgres, locket-micrometer).
    exports io.github.locket.spi;
}
