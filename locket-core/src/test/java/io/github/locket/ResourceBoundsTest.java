package io.github.locket;

import io.github.locket.testing.Children;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
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
        assertThat(Registry.size()).isLessThanOrEqualTo(256);
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
}
