package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.locket.testing.Children;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Who holds a lock file: {@link LockFile#holders()}, and the timeout's message that names them. */
final class HoldersTest {
    @TempDir
    Path dir;

    @Test
    void procLocksLinesAreReadForTheFileAndByteZeroOnly() {
        List<String> lines = List.of(
                "1: POSIX  ADVISORY  WRITE 4242 fe:00:77 0 EOF",
                "2: FLOCK  ADVISORY  READ  4343 fe:00:77 0 EOF",
                "3: POSIX  ADVISORY  WRITE 4444 fe:00:77 10 20",   // another byte range
                "4: FLOCK  ADVISORY  WRITE 4545 fe:00:78 0 EOF",   // another file
                "5: LEASE  ACTIVE    READ  4646 fe:00:77 0 EOF",   // not a lock
                "1: -> POSIX  ADVISORY  WRITE 4747 fe:00:77 0 0"); // a waiter
        List<LockHolder> holders = Holders.parse(lines, 0xfe, 0, 77, false);
        assertThat(holders).extracting(LockHolder::pid).containsExactly(4242L, 4343L);
        assertThat(holders.get(0).isShared()).isFalse();
        assertThat(holders.get(0).protocols()).containsExactly(LockProtocol.FCNTL);
        assertThat(holders.get(1).isShared()).isTrue();
        assertThat(holders.get(1).protocols()).containsExactly(LockProtocol.FLOCK);
        assertThat(Holders.parse(lines, 0xfe, 0, 77, true)).extracting(LockHolder::pid).containsExactly(4747L);
    }

    @Test
    void aLocketProcessIsOneHolderWithBothProtocolsAndItsCommandLine() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.start("hold", path.toString())) {
            holder.expect("LOCKED");
            List<LockHolder> holders = Locket.lockFile(path).holders();
            assertThat(holders).hasSize(1);
            LockHolder h = holders.get(0);
            assertThat(h.pid()).isEqualTo(holder.process().pid());
            assertThat(h.isShared()).isFalse();
            assertThat(h.protocols()).isEqualTo(Locket.protocols());
            assertThat(h.command()).hasValueSatisfying(c -> assertThat(c).contains("io.github.locket.testing.Child"));
        }
        assertThat(Locket.lockFile(path).holders()).isEmpty();
    }

    @Test
    void aTimeoutNamesTheProcessThatHeldTheLock() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.exec("flock", "-s", path.toString(), "-c", "echo LOCKED; read line")) {
            holder.expect("LOCKED");
            List<LockHolder> holders = Locket.lockFile(path).holders();
            assertThat(holders).hasSize(1);
            assertThat(holders.get(0).isShared()).isTrue();
            assertThat(holders.get(0).protocols()).isEqualTo(Set.of(LockProtocol.FLOCK));
            assertThatThrownBy(() -> Locket.lockFile(path, Duration.ofMillis(100)).acquire())
                    .isInstanceOfSatisfying(LockTimeoutException.class, e -> {
                        assertThat(e.holders()).isEqualTo(holders);
                        assertThat(e.getMessage()).contains("held by pid " + holders.get(0).pid() + " (flock -s ")
                                .contains("shared");
                    });
        }
    }

    @Test
    void aTimeoutReachesTheCallerBeforeTheHoldersAreLookedUp() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Children holder = Children.exec("flock", path.toString(), "-c", "echo LOCKED; read line")) {
            holder.expect("LOCKED");
            LockFile timed = Locket.lockFile(path, Duration.ofMillis(20));
            // Blocking: the caller waits in the kernel, and the timer's thread fails the wait.
            assertThatThrownBy(timed::acquire).isInstanceOfSatisfying(LockTimeoutException.class, e -> {
                assertThat(e.holdersLookedUp()).as("looked up before the caller was told").isFalse();
                assertThat(e.getMessage()).contains("held by pid");
                assertThat(e.holdersLookedUp()).isTrue();
            });
            // Asynchronous: the future's own callbacks see it unread too.
            Throwable failure = timed.acquireAsync().handle((lock, x) -> x).get(10, TimeUnit.SECONDS);
            assertThat(failure).isInstanceOfSatisfying(LockTimeoutException.class,
                    e -> assertThat(e.holdersLookedUp()).as("looked up on the completing thread").isFalse());
        }
    }

    @Test
    void thisJvmsOwnHoldIsShownAsThisJvm() throws Exception {
        Path path = dir.resolve("a.lock");
        try (Lock lock = Locket.lockFile(path).shared().acquire()) {
            List<LockHolder> holders = Locket.lockFile(path).holders();
            assertThat(holders).singleElement().satisfies(h -> {
                assertThat(h.pid()).isEqualTo(ProcessHandle.current().pid());
                assertThat(h.isShared()).isTrue();
                assertThat(h.toString()).contains("(this JVM)");
            });
        }
    }
}
