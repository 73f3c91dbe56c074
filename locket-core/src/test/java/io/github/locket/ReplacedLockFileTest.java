package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.locket.testing.Children;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lock file deleted, or another file renamed over it, by another program while the lock is
 * held or waited for. After every grant Locket checks that the path still names the file it locked
 * (by device and inode) and starts over on the new file if not, so an acquisition never returns a
 * lock on a file that the path no longer names. What stays possible is documented in
 * docs/guarantees.md and pinned by {@link #aHolderOfTheDeletedFileAndAFreshAcquirerBothHoldTheirFiles}.
 *
 * <p>To tell the old file from the new one after the path moved on, each test keeps a hard link
 * ({@code old}) to the original file: probing it shows whether anyone still locks the old file.
 */
final class ReplacedLockFileTest {
    private static final Duration QUIET = Duration.ofMillis(300);

    @TempDir
    Path dir;

    @Test
    void aCachedEntryOfADeletedFileIsNotTrusted() throws Exception {
        Path path = dir.resolve("a.lock");
        LockFile lockFile = Locket.lockFile(path);
        lockFile.acquire().close(); // this LockFile now caches the entry of the original file
        Files.delete(path);
        try (Children other = Children.start("hold", path.toString())) { // creates a new file there
            other.expect("LOCKED");
            assertThat(lockFile.tryAcquire()).as("the path's file is held by another process").isEmpty();
            assertThatThrownBy(() -> Locket.lockFile(path, Duration.ZERO).acquire())
                    .isInstanceOf(LockTimeoutException.class);
            other.send("release");
            other.expect("RELEASED");
        }
        try (Lock lock = lockFile.acquire()) {
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isFalse();
        }
    }

    @Test
    void aFileRenamedOverTheLockFileIsTheLockFromThenOn() throws Exception {
        Path path = dir.resolve("a.lock");
        Path old = dir.resolve("old.lock");
        Path replacement = dir.resolve("replacement.lock");
        LockFile lockFile = Locket.lockFile(path);
        lockFile.acquire().close();
        Files.createLink(old, path);
        try (Children other = Children.start("hold", replacement.toString())) {
            other.expect("LOCKED");
            Files.move(replacement, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            assertThat(lockFile.tryAcquire()).isEmpty();
            CompletableFuture<Lock> async = Locket.lockFile(path, Duration.ZERO).acquireAsync();
            assertThatThrownBy(() -> async.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(LockTimeoutException.class);
            assertThat(Children.freeAsSeenFromAnotherProcess(old)).as("nothing holds the old file").isTrue();
            other.send("release");
            other.expect("RELEASED");
        }
        try (Lock lock = lockFile.acquire()) {
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isFalse();
            assertThat(Children.freeAsSeenFromAnotherProcess(old)).isTrue();
        }
    }

    @Test
    void aBlockedWaiterGrantedTheDeletedFileStartsOverOnTheNewOne() throws Exception {
        waiterGrantedTheOldFileStartsOver(false);
    }

    @Test
    void anAsyncWaiterGrantedTheDeletedFileStartsOverOnTheNewOne() throws Exception {
        waiterGrantedTheOldFileStartsOver(true);
    }

    private void waiterGrantedTheOldFileStartsOver(boolean async) throws Exception {
        Path path = dir.resolve("a.lock");
        Path old = dir.resolve("old.lock");
        LockFile lockFile = Locket.lockFile(path, Duration.ofSeconds(60));
        try (Children first = Children.start("hold", path.toString())) {
            first.expect("LOCKED");
            Files.createLink(old, path);
            CompletableFuture<Lock> waiting = async ? lockFile.acquireAsync() : CompletableFuture.supplyAsync(() -> {
                try {
                    return lockFile.acquire();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().until(() -> !Children.freeAsSeenFromAnotherProcess(old)); // first still holds it
            Files.delete(path); // "unlink on release", as some programs do
            try (Children second = Children.start("hold", path.toString())) {
                second.expect("LOCKED"); // a new file at the path, held by another process
                first.send("release");
                first.expect("RELEASED");
                // Our waiter is granted the old file by the OS, sees that the path names another
                // file, lets go and waits for that one instead.
                await().during(QUIET).atMost(QUIET.multipliedBy(10)).until(() -> !waiting.isDone());
                assertThat(Children.freeAsSeenFromAnotherProcess(old)).as("the old file was let go").isTrue();
                second.send("release");
                second.expect("RELEASED");
            }
            try (Lock lock = waiting.get(30, TimeUnit.SECONDS)) {
                assertThat(Children.freeAsSeenFromAnotherProcess(path)).as("we hold the path's file").isFalse();
                assertThat(Children.freeAsSeenFromAnotherProcess(old)).isTrue();
            }
        }
    }

    @Test
    void aHandOffInThisJvmAfterTheFileWasReplacedStartsOver() throws Exception {
        Path path = dir.resolve("a.lock");
        Path old = dir.resolve("old.lock");
        Path replacement = dir.resolve("replacement.lock");
        LockFile lockFile = Locket.lockFile(path);
        Lock held = lockFile.acquire();
        Files.createLink(old, path);
        CompletableFuture<Lock> next = lockFile.acquireAsync(); // queued in this JVM behind `held`
        try (Children other = Children.start("hold", replacement.toString())) {
            other.expect("LOCKED");
            Files.move(replacement, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            held.close(); // hands the old file to `next`, which must not keep it
            await().during(QUIET).atMost(QUIET.multipliedBy(10)).until(() -> !next.isDone());
            other.send("release");
            other.expect("RELEASED");
        }
        try (Lock lock = next.get(30, TimeUnit.SECONDS)) {
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).isFalse();
            assertThat(Children.freeAsSeenFromAnotherProcess(old)).isTrue();
        }
    }

    @Test
    void theTimeoutCoversTheWaitBeforeAndAfterAStaleGrant() throws Exception {
        Path path = dir.resolve("a.lock");
        LockFile lockFile = Locket.lockFile(path, Duration.ofMillis(500));
        Lock held = lockFile.acquire();
        CompletableFuture<Lock> async = lockFile.acquireAsync();
        Files.delete(path);
        try (Children other = Children.start("hold", path.toString())) {
            other.expect("LOCKED");
            held.close();
            assertThatThrownBy(() -> async.get(30, TimeUnit.SECONDS)).hasCauseInstanceOf(LockTimeoutException.class);
            assertThatThrownBy(lockFile::acquire).isInstanceOf(LockTimeoutException.class);
        }
    }

    @Test
    void cancellingDuringTheSecondWaitLeavesNothingHeld() throws Exception {
        Path path = dir.resolve("a.lock");
        LockFile lockFile = Locket.lockFile(path);
        Lock held = lockFile.acquire();
        CompletableFuture<Lock> next = lockFile.acquireAsync();
        Files.delete(path);
        try (Children other = Children.start("hold", path.toString())) {
            other.expect("LOCKED");
            held.close(); // `next` is granted the old file, lets go, and queues for the new one
            await().during(QUIET).atMost(QUIET.multipliedBy(10)).until(() -> !next.isDone());
            assertThat(next.cancel(false)).isTrue();
            other.send("release");
            other.expect("RELEASED");
        }
        assertThat(Children.freeAsSeenFromAnotherProcess(path)).isTrue();
        assertThat(lockFile.tryAcquire()).hasValueSatisfying(Lock::close);
    }

    /**
     * What the identity check cannot prevent: a process that already holds the old file keeps
     * holding it; it cannot be told, and a newcomer that opens the path locks the new file.
     */
    @Test
    void aHolderOfTheDeletedFileAndAFreshAcquirerBothHoldTheirFiles() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Lock lock = Locket.lockFile(path).acquire()) {
            Files.delete(path);
            assertThat(Children.freeAsSeenFromAnotherProcess(path)).as("a newcomer locks a new file").isTrue();
            assertThat(lock.isHeld()).isTrue();
        }
    }
}
