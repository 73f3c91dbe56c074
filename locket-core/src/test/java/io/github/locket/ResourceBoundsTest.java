package io.github.locket;

import io.github.locket.testing.Children;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Descriptors and registry entries stay bounded however many files are locked. */
final class ResourceBoundsTest {
    @TempDir
    Path dir;

    @Test
    void fiveThousandDistinctPathsLeaveAtMost256MoreDescriptors() throws Exception {
        long before = Resources.openDescriptors();
        for (int i = 0; i < 5_000; i++) {
            Locket.lockFile(dir.resolve(i + ".lock")).acquire().close();
        }
        long after = Resources.openDescriptors();
        assertThat(after - before).isLessThanOrEqualTo(256);
        assertThat(Env.standard().registry.size()).isLessThanOrEqualTo(256);
    }

    @Test
    void filesInUseStayOpenWhileIdleOnesAreClosed() throws Exception {
        Lock[] held = new Lock[300];
        for (int i = 0; i < held.length; i++) {
            held[i] = Locket.lockFile(dir.resolve("held-" + i + ".lock")).acquire();
        }
        for (int i = 0; i < 2_000; i++) {
            Locket.lockFile(dir.resolve("idle-" + i + ".lock")).acquire().close();
        }
        for (Lock lock : held) {
            assertThat(lock.isHeld()).isTrue();
            assertThat(Children.freeAsSeenFromAnotherProcess(lock.path()) ? "free" : "busy")
                    .as(lock.path().toString()).isEqualTo("busy");
            lock.close();
            if (lock == held[3]) {
                break; // a few child JVMs prove the point; the rest is checked below
            }
        }
        for (int i = 4; i < held.length; i++) {
            assertThat(Locket.lockFile(held[i].path()).tryAcquire()).as("still held").isEmpty();
            held[i].close();
        }
    }

    /**
     * Every thread the library starts (OS waits, timers, deliveries, orphaned waits) is a daemon
     * named {@code locket-io-N} or {@code locket-timer}, besides two that loading JNA starts.
     * Checked in a fresh JVM, where no library thread exists yet.
     */
    @Test
    void everyThreadTheLibraryStartsIsANamedDaemon() throws Exception {
        Path path = dir.resolve("a.lock");
        Lock held = Locket.lockFile(path).acquire();
        try (Children child = Children.start("threads", path.toString())) {
            child.expect("WAITING");
            held.close();
            child.send("go");
            String[] words = child.expect("THREADS").split(" ");
            List<String> started = List.of(words).subList(1, words.length);
            assertThat(started).as("threads started by the library").isNotEmpty()
                    // With JNA (flock(2) on Java 17-21), once per JVM: JNA's own "JNA Cleaner", and the
                    // JDK's "process reaper", because loading libc as "c" makes JNA run ldconfig -p.
                    .allSatisfy(t -> assertThat(t).matches(
                            "(locket-io-\\d+|locket-timer|JNA_Cleaner|process_reaper):daemon"));
        } finally {
            held.close();
        }
    }
}
