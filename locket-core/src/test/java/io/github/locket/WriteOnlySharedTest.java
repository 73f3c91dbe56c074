package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A shared lock needs a lock file this user may read. Without a native binding (and on Windows)
 * the JDK's channel is opened write-only when reading is denied, and its shared {@code tryLock}
 * and {@code lock} then throw the unchecked {@code NonReadableChannelException}: a shared
 * acquisition must fail with an {@link IOException} that names the path, as every other failure
 * to lock does, and leave the lock usable for exclusive acquisitions. (As root, reading is never
 * denied: the opener here opens write-only as it would for an ordinary user.)
 */
final class WriteOnlySharedTest {
    @TempDir
    Path dir;

    /** The fallback opener (JDK channel), write-only as when reading the lock file is denied. */
    private static final FileOpener WRITE_ONLY = (path, env) -> {
        AsynchronousFileChannel channel = AsynchronousFileChannel.open(path,
                Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE), env.io);
        return new ChannelLock(channel, Registry.key(path, Registry.stat(path, path)), path, env.posixClose, null);
    };

    private final Env env = Env.with(WRITE_ONLY);

    @Test
    void aSharedAttemptFailsWithAnIOExceptionNamingThePath() throws Exception {
        LockFile lockFile = new LockFile(dir.resolve("a.lock"), null, env);
        assertThatThrownBy(() -> lockFile.shared().tryAcquire())
                .isInstanceOf(IOException.class).hasMessageContaining(lockFile.path().toString());
        lockFile.tryAcquire().orElseThrow().close();
    }

    /**
     * The queued reader is served when the writer lets go: within this JVM's budget by a shared
     * {@code tryLock} (usually, when released at once: a slow start can spend the 10 ms), after it
     * by a wait on the channel ({@code lock}); either way it fails, and nothing is left stuck.
     */
    @ParameterizedTest(name = "writer released {0}")
    @ValueSource(strings = {"at once", "after the budget"})
    void aSharedWaiterFailsWhenTheWriterLetsGoAndTheLockStaysUsable(String when) throws Exception {
        LockFile lockFile = new LockFile(dir.resolve("a.lock"), null, env);
        long since = System.nanoTime();
        Lock writer = lockFile.acquire();
        CompletableFuture<Lock> reader = lockFile.shared().acquireAsync();
        assertThat(reader).isNotDone();
        if (when.equals("after the budget")) {
            await().pollInterval(Duration.ofMillis(1))
                    .until(() -> System.nanoTime() - since > 2 * FileEntry.MAX_HOLD_NANOS);
        }
        writer.close(); // the queued reader asks the OS for a shared lock: the channel refuses
        assertThatThrownBy(() -> reader.get(30, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(IOException.class).hasMessageContaining(lockFile.path().toString());
        lockFile.withTimeout(Duration.ofSeconds(30)).acquire().close();
    }
}
