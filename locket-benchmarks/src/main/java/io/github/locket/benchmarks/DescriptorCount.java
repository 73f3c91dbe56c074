package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.Locket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Descriptors this JVM holds open after locking and releasing many distinct lock files: Locket
 * caches idle descriptors, and must keep that cache bounded. Counts {@code /proc/self/fd}.
 *
 * <p>Usage: {@code DescriptorCount <out.properties> [paths=5000]}
 */
public final class DescriptorCount {
    private DescriptorCount() {}

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int paths = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
        Path dir = Files.createTempDirectory("locket-fds");
        // Load Locket's classes and threads first, on a file of their own, so that only the cache counts.
        try (Lock lock = Locket.lockFile(dir.resolve("warm.lock")).acquire()) {
            lock.path();
        }
        long before = openDescriptors();
        long peak = before;
        for (int i = 0; i < paths; i++) {
            try (Lock lock = Locket.lockFile(dir.resolve("f" + i + ".lock")).acquire()) {
                lock.path();
            }
            if (i % 100 == 0) {
                peak = Math.max(peak, openDescriptors());
            }
        }
        long after = openDescriptors();
        peak = Math.max(peak, after);
        System.out.printf("%,d distinct lock files: descriptors %d before, %d after (+%d), peak %d (+%d)%n",
                paths, before, after, after - before, peak, peak - before);
        Results.create().put("fds.paths", paths).put("fds.before", before).put("fds.after", after)
                .put("fds.peak", peak).write(out);
    }

    static long openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
