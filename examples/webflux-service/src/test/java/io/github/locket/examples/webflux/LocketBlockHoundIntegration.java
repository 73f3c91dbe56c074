package io.github.locket.examples.webflux;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Teaches BlockHound about file locks, which it does not know: without this, a {@code
 * FileChannel.lock()} on an event loop would pass unnoticed. Loaded through {@code
 * META-INF/services/reactor.blockhound.integration.BlockHoundIntegration}.
 */
public final class LocketBlockHoundIntegration implements BlockHoundIntegration {
    private static final String LOCK0 = "(Ljava/io/FileDescriptor;ZJJZ)I";

    @Override
    public void applyTo(BlockHound.Builder builder) {
        // fcntl(F_SETLKW) / LockFileEx: JDK 17 has it here, JDK 21+ in UnixFileDispatcherImpl.
        builder.markAsBlocking("sun.nio.ch.FileDispatcherImpl", "lock0", LOCK0);
        builder.markAsBlocking("sun.nio.ch.UnixFileDispatcherImpl", "lock0", LOCK0);
        // Locket's first attempt is a non-blocking tryLock (F_SETLK) on the caller's thread, by design;
        // any wait happens on its own locket-io threads.
        builder.allowBlockingCallsInside("io.github.locket.FileEntry", "acquire");
    }
}
