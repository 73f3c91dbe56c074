package io.github.locket.cli;

import io.github.locket.Lock;
import io.github.locket.Locket;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A second Locket user in its own JVM, for tests that need another process.
 *
 * <ul>
 *   <li>{@code probe PATH}: one attempt; prints {@code FREE} (and releases) or {@code BUSY}.
 *   <li>{@code hold PATH}: acquires, prints {@code LOCKED}, releases at the first line or end of
 *       stdin, prints {@code RELEASED}.
 * </ul>
 */
public final class LockProbe {
    private LockProbe() {}

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[1]);
        switch (args[0]) {
            case "probe": {
                Optional<Lock> lock = Locket.lockFile(path).tryAcquire();
                System.out.println(lock.isPresent() ? "FREE" : "BUSY");
                lock.ifPresent(Lock::close);
                break;
            }
            case "hold": {
                try (Lock lock = Locket.lockFile(path).acquire()) {
                    System.out.println("LOCKED");
                    System.out.flush();
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                }
                System.out.println("RELEASED");
                break;
            }
            default:
                throw new IllegalArgumentException("unknown order: " + args[0]);
        }
        System.out.flush();
    }
}
