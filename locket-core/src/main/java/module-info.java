/**
 * Locket: a lock named by a file path, shared by the threads and processes that use it.
 *
 * <p>Start at {@link io.github.locket.Locket}.
 */
module io.github.locket {
    exports io.github.locket;
}
