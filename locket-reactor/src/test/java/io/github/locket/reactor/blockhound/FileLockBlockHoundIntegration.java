package io.github.locket.reactor.blockhound;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * BlockHound's default list does not know file locks. Mark the JDK's lock native as blocking so
 * that a {@code FileChannel.lock} (an {@code F_SETLKW} that can wait forever) on a non-blocking
 * thread fails the tests.
 *
 * <p>The same native serves {@code tryLock} ({@code F_SETLK}, which returns at once): Locket's
 * first attempt on the caller's thread is that, by design, and is allowed.
 */
public final class FileLockBlockHoundIntegration implements BlockHoundIntegration {
    private static final String LOCK0_SIGNATURE = "(Ljava/io/FileDescriptor;ZJJZ)I";

    @Override
    public void applyTo(BlockHound.Builder builder) {
        builder.markAsBlocking("sun.nio.ch.FileDispatcherImpl", "lock0", LOCK0_SIGNATURE); // JDK 17
        builder.markAsBlocking("sun.nio.ch.UnixFileDispatcherImpl", "lock0", LOCK0_SIGNATURE); // JDK 21+
        builder.allowBlockingCallsInside("io.github.locket.FileEntry", "tryOsLock");
    }
}
