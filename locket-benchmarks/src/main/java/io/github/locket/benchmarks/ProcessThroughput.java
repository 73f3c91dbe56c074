package io.github.locket.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cross-process throughput: 2 and then 4 processes, each acquiring and releasing one lock file in
 * a loop (empty critical section) over the same CLOCK_MONOTONIC window. Reports the total rate and
 * each process's count, which shows how evenly the lock was shared. Each measurement is cut into
 * {@link #SLICES} windows, taken round the strategies in turn.
 *
 * <p>Usage: {@code ProcessThroughput <out.properties> [seconds=2] [strategies...]};
 * {@code -Dlocket.bench.key} names the results' keys (default {@code throughput}).
 */
public final class ProcessThroughput {
    private ProcessThroughput() {}

    static final List<String> STRATEGIES = List.of("raw", "raw-flock", "locket-timeout", "locket", "python-timeout", "python");
    static final int[] PROCESSES = {2, 4};
    /** Windows per measurement, taken in turn with the other strategies' (see main). */
    static final int SLICES = 4;

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 2;
        List<String> strategies = args.length > 2 ? List.of(args).subList(2, args.length) : STRATEGIES;
        Path dir = Files.createTempDirectory("locket-throughput");
        // run.sh measures again on Java 25 (FFM rather than JNA) under its own key
        String key = System.getProperty("locket.bench.key", "throughput");
        Results results = Results.create().put(key + ".seconds", seconds)
                .put(key + ".strategies", String.join(",", strategies));
        // All strategies' processes are started and warmed up first; then each measurement is cut
        // into SLICES windows taken round the strategies in turn, so that whatever else this shared
        // machine does during the run falls on all of them alike.
        Map<String, List<Child>> peers = new LinkedHashMap<>();
        try {
            for (String strategy : strategies) {
                List<Child> these = new ArrayList<>();
                peers.put(strategy, these);
                Path lockFile = dir.resolve(strategy + ".lock");
                for (int i = 0; i < PROCESSES[PROCESSES.length - 1]; i++) {
                    these.add(Child.start(strategy, lockFile));
                }
                if (!strategy.startsWith("python")) {
                    loop(these, 1.5); // let C2 compile the path (tens of thousands of operations)
                }
            }
            for (int n : PROCESSES) {
                Map<String, long[]> counts = new LinkedHashMap<>();
                for (int slice = 0; slice < SLICES; slice++) {
                    for (String strategy : strategies) {
                        long[] c = loop(peers.get(strategy).subList(0, n), seconds / SLICES);
                        long[] sum = counts.computeIfAbsent(strategy, k -> new long[n]);
                        for (int i = 0; i < n; i++) {
                            sum[i] += c[i];
                        }
                    }
                }
                for (String strategy : strategies) {
                    long total = 0;
                    StringBuilder each = new StringBuilder();
                    for (long c : counts.get(strategy)) {
                        total += c;
                        each.append(each.length() == 0 ? "" : ",").append(c);
                    }
                    results.put(key + "." + strategy + "." + n + ".opsPerSecond", Math.round(total / seconds))
                            .put(key + "." + strategy + "." + n + ".perProcess", each);
                    System.out.printf("%-15s %d processes: %,10.0f ops/s  per process: %s%n", strategy, n, total / seconds, each);
                }
            }
        } finally {
            peers.values().forEach(these -> these.forEach(Child::close));
        }
        results.write(out);
    }

    private static long[] loop(List<Child> peers, double seconds) throws Exception {
        long start = System.nanoTime() + 50_000_000L; // time for every peer to read the command
        long end = start + (long) (seconds * 1e9);
        for (Child p : peers) {
            p.send("loop " + start + " " + end);
        }
        long[] counts = new long[peers.size()];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = peers.get(i).expectLong("count");
        }
        return counts;
    }
}
