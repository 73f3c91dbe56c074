package io.github.locket.spring.integration;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.locks.Lock;

/**
 * The other JVM of the cross-process tests. {@code RegistryChild DIR KEY hold}: {@code lock()},
 * print {@code LOCKED}, unlock on a line on stdin, print {@code UNLOCKED}. {@code RegistryChild DIR
 * KEY try}: one {@code tryLock()}, print {@code FREE} (and unlock) or {@code BUSY}.
 */
public final class RegistryChild {
    private RegistryChild() {}

    public static void main(String[] args) throws Exception {
        Lock lock = LocketLockRegistry.create(Path.of(args[0])).obtain(args[1]);
        if (args[2].equals("hold")) {
            lock.lock();
            say("LOCKED");
            new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            lock.unlock();
            say("UNLOCKED");
        } else if (lock.tryLock()) {
            say("FREE");
            lock.unlock();
        } else {
            say("BUSY");
        }
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
