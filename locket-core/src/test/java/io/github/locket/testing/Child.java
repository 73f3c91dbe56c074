package io.github.locket.testing;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The other process in cross-process tests: a real JVM started by {@link Children}. It reports on
 * stdout, one line per event, and takes orders on stdin.
 *
 * <ul>
 *   <li>{@code hold PATH}: acquire, print {@code LOCKED}, release on the line {@code release} (or
 *       stdin EOF), print {@code RELEASED}, exit.
 *   <li>{@code probe PATH}: one attempt; print {@code FREE} (and release), {@code BUSY}, or
 *       {@code ERROR <exception>}.
 *   <li>{@code wait PATH MILLIS}: acquire with that timeout; print {@code LOCKED} then release, or
 *       {@code TIMEOUT}.
 *   <li>{@code count PATH COUNTER THREADS ITERATIONS}: each thread increments the counter file
 *       under the lock; print {@code DONE}.
 *   <li>{@code protocols PATH}: print {@code PROTOCOLS} and {@link Locket#protocols()}, then as
 *       {@code hold}.
 *   <li>{@code churn PATH MIN_MICROS MAX_MICROS}: take and release the lock in a loop, holding
 *       it between those times, until stdin says {@code stop}; print {@code STARTED} and then
 *       {@code STOPPED n}.
 * </ul>
 */
public final class Child {
    private Child() {}

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[1]);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        switch (args[0]) {
            case "protocols":
                say("PROTOCOLS " + Locket.protocols().stream().map(Enum::name).sorted().collect(Collectors.joining(",")));
                hold(path, in);
                break;
            case "hold":
                hold(path, in);
                break;
            case "probe": {
                Optional<Lock> lock;
                try {
                    lock = Locket.lockFile(path).tryAcquire();
                } catch (java.io.IOException e) {
                    say("ERROR " + e);
                    break;
                }
                say(lock.isPresent() ? "FREE" : "BUSY");
                lock.ifPresent(Lock::close);
                break;
            }
            case "wait": {
                try (Lock lock = Locket.lockFile(path, Duration.ofMillis(Long.parseLong(args[2]))).acquire()) {
                    say("LOCKED");
                } catch (LockTimeoutException e) {
                    say("TIMEOUT");
                }
                break;
            }
            case "count": {
                Path counter = Path.of(args[2]);
                int threads = Integer.parseInt(args[3]);
                int iterations = Integer.parseInt(args[4]);
                LockFile lockFile = Locket.lockFile(path);
                List<Thread> all = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    Thread thread = new Thread(() -> {
                        try {
                            for (int i = 0; i < iterations; i++) {
                                try (Lock lock = lockFile.acquire()) {
                                    long n = Long.parseLong(Files.readString(counter).trim());
                                    Files.writeString(counter, Long.toString(n + 1));
                                }
                            }
                        } catch (Exception e) {
                            e.printStackTrace();
                            System.exit(3);
                        }
                    });
                    thread.start();
                    all.add(thread);
                }
                for (Thread thread : all) {
                    thread.join();
                }
                say("DONE");
                break;
            }
            case "churn": {
                int minMicros = Integer.parseInt(args[2]);
                int maxMicros = Integer.parseInt(args[3]);
                LockFile lockFile = Locket.lockFile(path);
                Thread stopper = new Thread(() -> {
                    try {
                        in.readLine();
                    } catch (Exception ignored) {
                        // EOF or error: stop either way
                    }
                });
                stopper.start();
                say("STARTED");
                long n = 0;
                while (stopper.isAlive()) {
                    try (Lock lock = lockFile.acquire()) {
                        n++;
                        long until = System.nanoTime() + 1000L * (minMicros + n % (maxMicros - minMicros + 1));
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                    }
                }
                say("STOPPED " + n);
                break;
            }
            default:
                throw new IllegalArgumentException("unknown command: " + args[0]);
        }
    }

    private static void hold(Path path, BufferedReader in) throws Exception {
        Lock lock = Locket.lockFile(path).acquire();
        say("LOCKED");
        for (String line; (line = in.readLine()) != null && !line.equals("release"); ) {
            // wait for the order
        }
        lock.close();
        say("RELEASED");
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
