package io.github.locket.testing;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What the {@code flock(2)} half costs, measured side by side with the {@code fcntl}-only path
 * ({@code -Dio.github.locket.flock=false}) on the JVM that runs this: child JVMs of both kinds,
 * alternating, so that both see the same machine.
 *
 * <ul>
 *   <li>uncontended: {@code acquire()} + {@code close()} on one thread, ns/op (median of the
 *       rounds, each the median of 10 batches after warm-up);
 *   <li>hand-off: process A releases while process B is blocked in {@code acquire()}; microseconds
 *       from just before A's {@code close()} to just after B's {@code acquire()} returns (median).
 * </ul>
 *
 * <pre>
 * java -cp locket-core/target/locket-core-*-SNAPSHOT.jar:locket-core/target/test-classes[:jna.jar] \
 *     io.github.locket.testing.FlockCost [rounds]
 * </pre>
 *
 * Not a test: a measurement to run by hand.
 */
public final class FlockCost {
    private FlockCost() {}

    private static final int BATCH = 20_000;
    private static final int HANDOFFS = 100;
    /** -Dwarm=false: hand-offs between freshly started JVMs (interpreted code, cold method handles). */
    private static final boolean WARM = Boolean.parseBoolean(System.getProperty("warm", "true"));

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("uncontended-child")) {
            uncontendedChild(Path.of(args[1]));
            return;
        } else if (args.length > 0 && args[0].equals("handoff-child")) {
            handoffChild(Path.of(args[1]));
            return;
        }
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        Path dir = Files.createTempDirectory("locket-flock-cost-");
        List<String> flock = List.of("-Dwarm=" + WARM);
        List<String> fcntl = List.of("-Dwarm=" + WARM, "-Dio.github.locket.flock=false");
        System.out.println("Java " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs");

        double[][] uncontended = new double[2][rounds];
        String[] protocols = new String[2];
        for (int r = 0; r < rounds; r++) {
            for (int m = 0; m < 2; m++) {
                try (Children child = Children.startClass(FlockCost.class, m == 0 ? flock : fcntl,
                        "uncontended-child", dir.resolve("u" + m + ".lock").toString())) {
                    protocols[m] = child.expect("PROTOCOLS").substring("PROTOCOLS ".length());
                    uncontended[m][r] = Double.parseDouble(child.expect("NS").substring(3));
                }
            }
            System.out.printf(Locale.ROOT, "round %d uncontended ns/op: %s %.0f, %s %.0f%n", r + 1,
                    protocols[0], uncontended[0][r], protocols[1], uncontended[1][r]);
        }

        double[][] handoff = new double[2][];
        List<List<Double>> handoffs = List.of(new ArrayList<>(), new ArrayList<>());
        for (int r = 0; r < rounds; r++) {
            double[] round = new double[2];
            for (int m = 0; m < 2; m++) {
                List<Double> some = handoffs(m == 0 ? flock : fcntl, dir.resolve("h" + m + ".lock"));
                handoffs.get(m).addAll(some);
                round[m] = median(some.stream().mapToDouble(Double::doubleValue).toArray());
            }
            System.out.printf(Locale.ROOT, "round %d hand-off us: %s %.0f, %s %.0f%n", r + 1,
                    protocols[0], round[0], protocols[1], round[1]);
        }
        for (int m = 0; m < 2; m++) {
            handoff[m] = handoffs.get(m).stream().mapToDouble(Double::doubleValue).toArray();
        }

        double uFlock = median(uncontended[0]);
        double uFcntl = median(uncontended[1]);
        double hFlock = median(handoff[0]);
        double hFcntl = median(handoff[1]);
        System.out.printf(Locale.ROOT, "uncontended acquire+close ns/op (median of %d JVMs): %s %.0f, %s %.0f: ratio %.2f%n",
                rounds, protocols[0], uFlock, protocols[1], uFcntl, uFlock / uFcntl);
        System.out.printf(Locale.ROOT, "hand-off between %s JVMs us (median of %d): %s %.0f, %s %.0f: ratio %.2f%n",
                WARM ? "warmed-up" : "cold", handoff[0].length, protocols[0], hFlock, protocols[1], hFcntl, hFlock / hFcntl);
    }

    private static void uncontendedChild(Path path) {
        System.out.println("PROTOCOLS " + String.join("+", Locket.protocols().stream().map(Enum::name).sorted().toList()));
        LockFile lockFile = Locket.lockFile(path);
        double[] batches = new double[10];
        try {
            for (int i = 0; i < 20 * BATCH; i++) { // warm-up
                lockFile.acquire().close();
            }
            for (int b = 0; b < batches.length; b++) {
                long start = System.nanoTime();
                for (int i = 0; i < BATCH; i++) {
                    lockFile.acquire().close();
                }
                batches[b] = (System.nanoTime() - start) / (double) BATCH;
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        System.out.println("NS " + median(batches));
    }

    /** One JVM of a hand-off pair: obeys {@code acquire}, {@code release}, {@code wait} on stdin. */
    private static void handoffChild(Path path) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        LockFile lockFile = Locket.lockFile(path);
        if (WARM) { // as a long-running JVM: the lock code compiled, not interpreted
            LockFile other = Locket.lockFile(path.resolveSibling(path.getFileName() + ".warm"));
            for (int i = 0; i < 20 * BATCH; i++) {
                other.acquire().close();
            }
        }
        Lock held = null;
        System.out.println("READY");
        for (String line; (line = in.readLine()) != null; ) {
            switch (line) {
                case "acquire":
                    held = lockFile.acquire();
                    System.out.println("HELD");
                    break;
                case "release":
                    long t0 = System.nanoTime();
                    held.close();
                    System.out.println("T " + t0);
                    break;
                case "wait":
                    System.out.println("WAITING");
                    try (Lock lock = lockFile.acquire()) {
                        long t1 = System.nanoTime(); // CLOCK_MONOTONIC: comparable across processes
                        System.out.println("T " + t1);
                    }
                    break;
                default:
                    throw new IllegalArgumentException(line);
            }
        }
    }

    private static List<Double> handoffs(List<String> options, Path path) throws Exception {
        List<Double> micros = new ArrayList<>();
        try (Children a = Children.startClass(FlockCost.class, options, "handoff-child", path.toString());
                Children b = Children.startClass(FlockCost.class, options, "handoff-child", path.toString())) {
            a.expect("READY");
            b.expect("READY");
            for (int i = 0; i < HANDOFFS + 10; i++) {
                a.send("acquire");
                a.expect("HELD");
                b.send("wait");
                b.expect("WAITING");
                Thread.sleep(3); // let B block in the kernel
                a.send("release");
                long t0 = Long.parseLong(a.expect("T ").substring(2));
                long t1 = Long.parseLong(b.expect("T ").substring(2));
                if (i >= 10) { // the first ones warm up
                    micros.add((t1 - t0) / 1000.0);
                }
            }
        }
        return micros;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
