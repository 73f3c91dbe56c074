package io.github.locket.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * Cross-process hand-off latency: process A holds the lock, process B is blocked waiting for it,
 * A releases at t0 and B holds it at t1; the figure is t1 - t0, both read from CLOCK_MONOTONIC
 * (see {@link Peer}). A and B always run the same strategy on their own lock file: Python's
 * locket uses flock(2) and Java's FileChannel uses fcntl locks, which do not exclude each other.
 *
 * <p>Before each release the driver waits 2 ms plus a random 0-50 ms after B says it is about to
 * wait, so that B is really blocked and a polling waiter (Python's locket with a timeout polls
 * every 50 ms) is caught at a uniformly random point of its period. It also looks in
 * {@code /proc/<B>/task/* /syscall} for a thread of B inside fcntl(2) or flock(2) just before the
 * release and counts the rounds where one was.
 *
 * <p>Java peers first run {@code warmup} rounds with a 0.2 ms settle, not recorded, so that the
 * JIT has compiled the waiting path of both sides, as it would have in a long-running service.
 * The measured rounds then take the strategies in turn, one round each and in a new random order
 * every time, so that the machine's drifts over the run, and whatever the round before leaves
 * behind, fall on every strategy alike.
 *
 * <p>Each strategy runs several pairs of processes ({@code -Dlocket.bench.pairs}, default 3), and
 * its rounds go to them in turn. Two pairs of one strategy, with the same code, have differed by
 * 7 µs in median over a run of 800 rounds each (what the JIT compiled, and where the code landed):
 * with one pair per strategy, that difference would pass for a difference between strategies.
 * Each pair's median is recorded beside the pooled figures.
 *
 * <p>Usage: {@code HandoffLatency <out.properties> [rounds=200] [warmup=10000] [strategies...]};
 * {@code -Dlocket.bench.key} names the results' keys (default {@code handoff}).
 */
public final class HandoffLatency {
    private HandoffLatency() {}

    static final List<String> STRATEGIES = List.of("raw", "raw-flock", "locket-timeout", "locket", "raw-async",
            "python-timeout", "python", "python-lockf");
    private static final int SYS_FCNTL = 72; // x86_64
    private static final int SYS_FLOCK = 73;

    public static void main(String[] args) throws Exception {
        Path out = Path.of(args[0]);
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 10_000; // enough for C2 (see run.sh)
        List<String> strategies = args.length > 3 ? List.of(args).subList(3, args.length) : defaultStrategies();
        Path dir = Files.createTempDirectory("locket-handoff");
        Random random = new Random(42);
        // run.sh measures again on Java 25 (FFM rather than JNA) under its own key
        String key = System.getProperty("locket.bench.key", "handoff");
        Results results = Results.create().put(key + ".rounds", rounds).put(key + ".warmup", warmup)
                .put(key + ".strategies", String.join(",", strategies));
        // Every strategy's pair is started and warmed up first; then the measured rounds go round
        // the strategies in turn, so that whatever else this shared machine does over the minutes
        // of the run falls on all of them alike, and their ratios compare like with like.
        int pairsEach = Integer.getInteger("locket.bench.pairs", 3);
        results.put(key + ".pairs", pairsEach);
        Map<String, List<Pair>> pairs = new LinkedHashMap<>();
        long started = System.nanoTime();
        try {
            for (String strategy : strategies) {
                List<Pair> own = new ArrayList<>();
                pairs.put(strategy, own);
                for (int i = 0; i < pairsEach; i++) {
                    Pair pair = new Pair(strategy, dir.resolve(strategy + "-" + i + ".lock"));
                    own.add(pair);
                    // Warm-up rounds exercise the same code (so that the JIT has compiled it, as in
                    // a long-running service) without the settle time; Python gets a few, it has no JIT.
                    int warm = strategy.startsWith("python") ? Math.min(warmup, 20) : warmup;
                    for (int r = 0; r < warm; r++) {
                        pair.round(200_000L, false);
                    }
                }
            }
            List<String> order = new ArrayList<>(strategies);
            for (int r = 0; r < rounds; r++) {
                Collections.shuffle(order, random); // what ran just before a round is no strategy's privilege
                for (String strategy : order) {
                    pairs.get(strategy).get(r % pairsEach).round(2_000_000L + (long) (random.nextDouble() * 50_000_000L), true);
                }
            }
        } finally {
            for (List<Pair> own : pairs.values()) {
                for (Pair pair : own) {
                    pair.close();
                }
            }
        }
        for (Map.Entry<String, List<Pair>> e : pairs.entrySet()) {
            String strategy = e.getKey();
            List<Long> samples = new ArrayList<>();
            List<Long> toGrant = new ArrayList<>();
            List<String> pairMedians = new ArrayList<>();
            int blocked = 0;
            for (Pair pair : e.getValue()) {
                samples.addAll(pair.samples);
                toGrant.addAll(pair.toGrant);
                blocked += pair.blocked;
                pairMedians.add(Long.toString(Results.percentile(Results.sorted(pair.samples), 50)));
            }
            long[] sorted = Results.sorted(samples);
            if (!toGrant.isEmpty()) {
                long[] g = Results.sorted(toGrant);
                results.put(key + "." + strategy + ".grantSamples", g);
                System.out.printf("%-15s release -> grant seen on the I/O thread: median %8.1f us  p90 %8.1f us%n",
                        strategy, Results.percentile(g, 50) / 1e3, Results.percentile(g, 90) / 1e3);
            }
            results.put(key + "." + strategy + ".samples", sorted)
                    .put(key + "." + strategy + ".blockedInKernel", blocked)
                    .put(key + "." + strategy + ".pairMedians", String.join(",", pairMedians));
            System.out.printf("%-15s median %8.1f us  p90 %8.1f us  p99 %8.1f us  (B seen in fcntl/flock in %d of %d rounds;"
                    + " each pair's median: %s us)%n",
                    strategy, Results.percentile(sorted, 50) / 1e3, Results.percentile(sorted, 90) / 1e3,
                    Results.percentile(sorted, 99) / 1e3, blocked, rounds,
                    pairMedians.stream().map(m -> String.format("%.1f", Long.parseLong(m) / 1e3)).collect(Collectors.joining(" / ")));
        }
        System.out.printf("%d strategies, %d pairs each, %d rounds each, interleaved: %.1f s%n", pairs.size(), pairsEach,
                rounds, (System.nanoTime() - started) / 1e9);
        results.write(out);
    }

    /** One strategy's two processes on their lock file, and what they measured. */
    private static final class Pair implements AutoCloseable {
        final String strategy;
        final Child a;
        final Child b;
        final List<Long> samples = new ArrayList<>();
        final List<Long> toGrant = new ArrayList<>();
        int blocked;

        Pair(String strategy, Path lockFile) throws IOException {
            this.strategy = strategy;
            this.a = Child.start(strategy, lockFile);
            Child second;
            try {
                second = Child.start(strategy, lockFile);
            } catch (IOException | RuntimeException e) {
                a.close();
                throw e;
            }
            this.b = second;
        }

        /** A holds, B waits, the driver settles for {@code settleNanos}, A releases: one hand-off. */
        void round(long settleNanos, boolean measured) throws IOException {
            a.send("acquire");
            a.expect("held");
            b.send("wait");
            b.expect("waiting");
            LockSupport.parkNanos(settleNanos);
            boolean inKernel = measured && blockedInKernel(b.pid());
            a.send("release");
            long t0 = a.expectLong("released");
            String[] got = b.expect("got").split(" ");
            long t1 = Long.parseLong(got[0]);
            if (measured) {
                samples.add(t1 - t0);
                if (got.length > 1) {
                    toGrant.add(Long.parseLong(got[1]) - t0);
                }
                blocked += inKernel ? 1 : 0;
            }
        }

        @Override
        public void close() {
            try {
                a.close();
            } finally {
                b.close();
            }
        }
    }

    /** {@link #STRATEGIES}, and Locket's on the baseline build when run.sh built one ({@link Child#BASELINE}). */
    private static List<String> defaultStrategies() {
        if (System.getProperty("locket.bench.baseline.jar") == null) {
            return STRATEGIES;
        }
        List<String> all = new ArrayList<>(STRATEGIES);
        all.add(Child.BASELINE + "locket-timeout");
        all.add(Child.BASELINE + "locket");
        return all;
    }

    /** Whether a thread of process {@code pid} is inside fcntl(2) or flock(2) right now. */
    static boolean blockedInKernel(long pid) {
        try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String s;
                try {
                    s = Files.readString(task.resolve("syscall")).trim();
                } catch (IOException gone) {
                    continue;
                }
                int space = s.indexOf(' ');
                String nr = space < 0 ? s : s.substring(0, space);
                if (nr.equals(Integer.toString(SYS_FCNTL)) || nr.equals(Integer.toString(SYS_FLOCK))) {
                    return true;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }
}
