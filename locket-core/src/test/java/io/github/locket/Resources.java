package io.github.locket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** What this JVM holds: for tests that prove nothing leaked. */
final class Resources {
    private Resources() {}

    static long openDescriptors() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }

    /**
     * How many of this JVM's descriptors are open on {@code file}: unlike {@link
     * #openDescriptors()}, not moved by descriptors that other threads open and close meanwhile.
     */
    static long descriptorsOn(Path file) throws IOException {
        Path target;
        try {
            target = file.toRealPath();
        } catch (IOException missingOrLoop) {
            target = file.toAbsolutePath().normalize();
        }
        long n = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    if (Files.readSymbolicLink(fd).equals(target)) {
                        n++;
                    }
                } catch (IOException closedMeanwhile) {
                    // gone since the listing: not on the file
                }
            }
        }
        return n;
    }
}
