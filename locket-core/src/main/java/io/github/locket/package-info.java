/**
 * A lock named by a file path, shared by every thread and process that uses the same file: a Java
 * port of Python's {@code locket}.
 *
 * <p>{@link io.github.locket.Locket#lockFile(java.nio.file.Path)} names a lock; {@link
 * io.github.locket.LockFile#acquire()}, {@link io.github.locket.LockFile#acquireAsync()} and {@link
 * io.github.locket.LockFile#tryAcquire()} take it; {@link io.github.locket.Lock#close()} gives it
 * back.
 */
package io.github.locket;
