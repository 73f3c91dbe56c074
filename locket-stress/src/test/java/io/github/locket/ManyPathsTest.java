package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.locket.stress.Figures;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 100,000 distinct lock files, one after the other: descriptors, registry entries and heap stay
 * bounded (the registry closes idle entries; see Registry). In package io.github.locket to read
 * the registry's size.
 */
final class ManyPathsTest {
    static final int PATHS = 100_000;
    static final int MAX_ENTRIES = 256;
    static final int HEAP_SLACK_MIB = 32;

    @TempDir
    Path dir;

    @Test
    void oneHundredThousandDistinctPathsKeepDescriptorsRegistryAndHeapBounded() throws Exception {
        Locket.lockFile(dir.resolve("warm.lock")).acquire().close();
        long fdsBefore = descriptors();
        long heapBefore = heapAfterGc();
        int peakEntries = 0;
        long peakFds = 0;
        for (int i = 0; i < PATHS; i++) {
            Path sub = dir.resolve(Integer.toString(i / 10_000)); // keep directories small
            if (i % 10_000 == 0) {
                Files.createDirectories(sub);
            }
            Locket.lockFile(sub.resolve(i + ".lock")).acquire().close();
            if (i % 1_000 == 0) {
                peakEntries = Math.max(peakEntries, Env.standard().registry.size());
                peakFds = Math.max(peakFds, descriptors());
            }
        }
        long fdsAfter = descriptors();
        long heapAfter = heapAfterGc();
        Figures.record(String.format("100,000 paths: registry entries peak %d, now %d; descriptors %d before, peak %d,"
                + " after %d; heap after GC %.1f MiB before, %.1f MiB after", peakEntries, Env.standard().registry.size(), fdsBefore,
                peakFds, fdsAfter, heapBefore / 1048576.0, heapAfter / 1048576.0), List.of());
        assertThat(peakEntries).as("registry entries").isLessThanOrEqualTo(MAX_ENTRIES);
        assertThat(Env.standard().registry.size()).as("registry entries").isLessThanOrEqualTo(MAX_ENTRIES);
        // Each idle entry keeps its descriptor(s): the fcntl channel and, on Linux, the flock one.
        assertThat(peakFds - fdsBefore).as("descriptors").isLessThanOrEqualTo(2L * MAX_ENTRIES);
        assertThat(fdsAfter - fdsBefore).as("descriptors").isLessThanOrEqualTo(2L * MAX_ENTRIES);
        assertThat(heapAfter - heapBefore).as("heap after GC").isLessThanOrEqualTo(HEAP_SLACK_MIB * 1048576L);
    }

    private static long descriptors() throws Exception {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    private static long heapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
