package io.github.locket.examples.webflux;

import io.github.locket.Lock;
import io.github.locket.Locket;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The other process: {@code LockHolder PATH} takes the lock, prints {@code LOCKED}, releases it at
 * the first line (or end) of stdin and prints {@code RELEASED}. Started by {@link Holder}.
 */
public final class LockHolder {
    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        try (Lock lock = Locket.lockFile(Path.of(args[0])).acquire()) {
            System.out.println("LOCKED");
            System.out.flush();
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        }
        System.out.println("RELEASED");
        System.out.flush();
    }
}
