package io.github.locket.benchmarks;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Writes docs/benchmarks.md and docs/handoff-cdf.png from what run.sh left in its results folder:
 * the harnesses' *.properties, JMH's JSON files, env.properties (machine) and commands.tsv (the
 * exact command behind each figure). Every ratio is computed here from figures of the same run.
 *
 * <p>Usage: {@code Report <results dir> <docs dir> [analysis.md to append]}
 */
public final class Report {
    private final Properties p;
    private final Map<String, double[]> jmh = new TreeMap<>(); // "Class.method.tN" -> {median, min, max, iterations}
    private final Map<String, List<String>> commands = new LinkedHashMap<>();
    private final List<String[]> goals = new ArrayList<>();
    private final StringBuilder md = new StringBuilder();

    private Report(Properties p) {
        this.p = p;
    }

    public static void main(String[] args) throws IOException {
        Locale.setDefault(Locale.ROOT);
        Path results = Path.of(args[0]);
        Path docs = Path.of(args[1]);
        Files.createDirectories(docs);
        Report r = new Report(Results.readAll(results));
        r.loadJmh(results);
        r.loadSecondary(results);
        r.loadCommands(results.resolve("commands.tsv"));
        String body = r.body(docs);
        String analysis = args.length > 2 && Files.exists(Path.of(args[2]))
                ? Files.readString(Path.of(args[2]), StandardCharsets.UTF_8) : "";
        String doc = r.header() + r.goalTable() + body + (analysis.isBlank() ? "" : analysis.trim() + "\n\n")
                + r.commandSection();
        Files.writeString(docs.resolve("benchmarks.md"), doc, StandardCharsets.UTF_8);
        System.out.println("wrote " + docs.resolve("benchmarks.md"));
    }

    // ---------------------------------------------------------------- inputs

    /**
     * JMH's JSON results. The figure used is the median of the measurement iterations, not their
     * mean: on a shared machine a burst of someone else's work spoils an iteration or two, and the
     * median shrugs that off; the range of the iterations is shown next to it.
     */
    private static final Pattern P999 = Pattern.compile("\"99\\.9\"\\s*:\\s*([0-9.Ee+-]+)");
    private static final Pattern P50 = Pattern.compile("\"50\\.0\"\\s*:\\s*([0-9.Ee+-]+)");

    private void loadJmh(Path results) throws IOException {
        Pattern name = Pattern.compile("\"benchmark\"\\s*:\\s*\"([^\"]+)\"");
        Pattern threads = Pattern.compile("\"threads\"\\s*:\\s*(\\d+)");
        Pattern raw = Pattern.compile("\"rawData\"\\s*:\\s*\\[(.*?)\\]\\s*\\]", Pattern.DOTALL);
        try (var files = Files.list(results)) {
            for (Path f : (Iterable<Path>) files.filter(x -> x.getFileName().toString().matches("jmh-.*\\.json")).sorted()::iterator) {
                String json = Files.readString(f, StandardCharsets.UTF_8);
                // jmh-baseline-*.json: the same benchmarks on the baseline build (v0.1 of the core).
                String file = f.getFileName().toString();
                String prefix = (file.startsWith("jmh-baseline-") ? "baseline." : "") + (file.contains("-jdk25") ? "jdk25." : "");
                boolean sample = f.getFileName().toString().contains("-sample-");
                for (String block : json.split("\"jmhVersion\"")) {
                    Matcher n = name.matcher(block);
                    Matcher t = threads.matcher(block);
                    if (!n.find() || !t.find()) {
                        continue;
                    }
                    String full = n.group(1);
                    String key = prefix + full.substring(full.lastIndexOf('.', full.lastIndexOf('.') - 1) + 1);
                    if (sample) {
                        // SampleTime: the percentiles of single operations, in the JSON's unit (us/op).
                        Matcher p999 = P999.matcher(block);
                        Matcher p50 = P50.matcher(block);
                        if (p999.find() && p50.find()) {
                            jmh.put(key + ".p99.9.t" + t.group(1), new double[] {Double.parseDouble(p999.group(1)), 0, 0, 1});
                            jmh.put(key + ".p50.t" + t.group(1), new double[] {Double.parseDouble(p50.group(1)), 0, 0, 1});
                        }
                        continue;
                    }
                    Matcher r = raw.matcher(block);
                    if (!r.find()) {
                        continue;
                    }
                    double[] its = Arrays.stream(r.group(1).replace("[", "").split(","))
                            .map(String::trim).filter(x -> !x.isEmpty()).mapToDouble(Double::parseDouble).sorted().toArray();
                    if (its.length == 0) {
                        continue;
                    }
                    double median = its.length % 2 == 1 ? its[its.length / 2]
                            : (its[its.length / 2 - 1] + its[its.length / 2]) / 2;
                    jmh.put(key + ".t" + t.group(1), new double[] {median, its[0], its[its.length - 1], its.length});
                }
            }
        }
    }

    /** Secondary metrics of JMH groups (readers and writers): "method" -> ops/s, from jmh-readers-writers.json. */
    private final Map<String, Double> secondary = new TreeMap<>();

    private void loadSecondary(Path results) throws IOException {
        Path f = results.resolve("jmh-readers-writers.json");
        if (!Files.exists(f)) {
            return;
        }
        String json = Files.readString(f, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\"([A-Za-z]+)\"\\s*:\\s*\\{\\s*\"score\"\\s*:\\s*([0-9.Ee+-]+)").matcher(json);
        while (m.find()) {
            secondary.put(m.group(1), Double.parseDouble(m.group(2)));
        }
    }

    private void loadCommands(Path tsv) throws IOException {
        if (!Files.exists(tsv)) {
            return;
        }
        for (String line : Files.readAllLines(tsv, StandardCharsets.UTF_8)) {
            int tab = line.indexOf('\t');
            if (tab > 0) {
                commands.computeIfAbsent(line.substring(0, tab), k -> new ArrayList<>()).add(line.substring(tab + 1));
            }
        }
    }

    // ---------------------------------------------------------------- document

    private String header() {
        StringBuilder h = new StringBuilder();
        h.append("# Benchmarks\n\n");
        h.append("Written by `locket-benchmarks/run.sh` (see its header for how to run it). Every figure below comes from\n")
                .append("the one run described here; ratios compare figures measured side by side in that run. The machine is\n")
                .append("a small shared virtual machine, so absolute numbers move from run to run: read the ratios.\n\n");
        h.append("| | |\n|---|---|\n");
        h.append("| date | ").append(p.getProperty("env.date", "?")).append(" |\n");
        h.append("| commit | ").append(p.getProperty("env.commit", "?")).append(" |\n");
        h.append("| machine | ").append(p.getProperty("env.cpu", "?")).append(", ").append(p.getProperty("env.cores", "?"))
                .append(" cores, ").append(p.getProperty("env.memory", "?")).append(" memory |\n");
        h.append("| OS | ").append(p.getProperty("env.os", System.getProperty("os.name") + " " + System.getProperty("os.version")))
                .append(", file system of the lock files: ").append(p.getProperty("env.fs", "?")).append(" |\n");
        h.append("| JDK | ").append(System.getProperty("java.vm.name")).append(" ").append(System.getProperty("java.runtime.version"))
                .append(" (").append(System.getProperty("java.vendor")).append(") |\n");
        h.append("| Locket protocols | ").append(io.github.locket.Locket.protocols())
                .append(" (`Locket.protocols()` in this JVM and in every Java process of the run, unless a row says otherwise) |\n");
        h.append("| Python | ").append(p.getProperty("python.version", "?")).append(", locket ")
                .append(p.getProperty("env.pythonLocket", "?")).append(" (Debian python3-locket) |\n");
        h.append("| load average | ").append(p.getProperty("env.load", "?")).append(" at the start, ")
                .append(p.getProperty("env.loadEnd", "?")).append(" at the end |\n");
        h.append("| run time | ").append(p.getProperty("env.elapsed", "?")).append(" |\n\n");
        double cores = number("env.cores");
        double load = Math.max(firstNumber(p.getProperty("env.load")), firstNumber(p.getProperty("env.loadEnd")));
        if (load > cores) {
            h.append("**The machine was busy with other work during this run** (load average ").append(fmt(load))
                    .append(" on ").append((long) cores).append(" cores): expect wider error bars and noisier ratios than on an idle machine.\n\n");
        }
        return h.toString();
    }

    private String goalTable() {
        StringBuilder g = new StringBuilder("## Goals\n\n| goal | figure | ratio | target | result |\n|---|---|---|---|---|\n");
        for (String[] row : goals) {
            g.append("| ").append(String.join(" | ", row)).append(" |\n");
        }
        return g.append('\n').toString();
    }

    private void goal(String what, String figure, String ratio, String target, Boolean met) {
        goals.add(new String[] {what, figure, ratio, target, met == null ? "not measured" : met ? "met" : "**missed**"});
    }

    private String body(Path docs) throws IOException {
        uncontended();
        contended();
        readersWriters();
        handoff(docs);
        throughput();
        waiters();
        timeouts();
        descriptors();
        return md.toString();
    }

    private void uncontended() {
        md.append("## Uncontended acquire and release (JMH)\n\n");
        md.append("One thread, nothing else on the lock; each method locks byte [0,1) of its own file. Locket takes\n")
                .append("every protocol in `Locket.protocols()` (see the top). The floor is the same system calls made by hand\n")
                .append("on a descriptor opened once, through the same binding (JNA): `F_OFD_SETLK` and `flock(LOCK_EX|LOCK_NB)`,\n")
                .append("then `flock(LOCK_UN)` and `F_UNLCK`. The JVM's own floor is `FileChannel.lock(0, 1, false)` + `release()`\n")
                .append("on an open channel (`fcntl` only, through the JDK's lock table). Python's locket opens the file on every\n")
                .append("acquisition (`open(path, \"wb\")`), so it pays for the open and close as well.\n\n");
        double floor = score("UncontendedBenchmark.rawSyscalls.t1");
        double raw = score("UncontendedBenchmark.rawLockRelease.t1");
        double py = number("python.uncontended.untimed.ns");
        double pyTimed = number("python.uncontended.timed.ns");
        md.append("| operation | ns/op: median of the iterations (range) | vs system-call floor | vs raw FileChannel | vs Python locket (no timeout) |\n|---|---|---|---|---|\n");
        String[][] rows = {
            {"UncontendedBenchmark.rawSyscalls.t1", "system calls by hand, Locket's protocols (floor)"},
            {"UncontendedBenchmark.rawLockRelease.t1", "raw `FileChannel.lock`+`release`"},
            {"UncontendedBenchmark.rawTryLockRelease.t1", "raw `FileChannel.tryLock`+`release`"},
            {"UncontendedBenchmark.acquireClose.t1", "Locket `acquire()`+`close()`, no timeout"},
            {"UncontendedBenchmark.acquireCloseWithTimeout.t1", "Locket `acquire()`+`close()`, 30 s timeout"},
            {"FcntlOnlyBenchmark.acquireClose.t1", "Locket `acquire()`+`close()`, fcntl only (`-Dio.github.locket.flock=false`)"},
            {"UncontendedBenchmark.acquireAsyncJoinClose.t1", "Locket `acquireAsync().join()`+`close()`"},
            {"UncontendedBenchmark.tryAcquireClose.t1", "Locket `tryAcquire()`+`close()`"},
            {"ReactiveBenchmark.acquireBlockClose.t1", "Locket reactive `ReactiveLocket.acquire(lf).block()`+`close()`, 30 s timeout"},
            {"ReactiveBenchmark.acquireBlockCloseUntimed.t1", "Locket reactive `ReactiveLocket.acquire(lf).block()`+`close()`, no timeout"},
            {"ReactiveBenchmark.withLockBlock.t1", "Locket reactive `withLock(lf, lock -> Mono.just(1)).block()`, 30 s timeout"},
            {"baseline.UncontendedBenchmark.rawSyscalls.t1", "baseline run: system calls by hand (floor)"},
            {"baseline.UncontendedBenchmark.acquireClose.t1", "baseline run: v0.1 Locket `acquire()`+`close()`, no timeout"},
            {"jdk25.UncontendedBenchmark.rawSyscalls.t1", "Java 25 run: system calls by hand through JNA (floor)"},
            {"jdk25.UncontendedBenchmark.rawLockRelease.t1", "Java 25 run: raw `FileChannel.lock`+`release`"},
            {"jdk25.UncontendedBenchmark.acquireClose.t1", "Java 25 run: Locket `acquire()`+`close()` (FFM)"},
            {"baseline.jdk25.UncontendedBenchmark.rawSyscalls.t1", "Java 25 baseline run: system calls by hand through JNA (floor)"},
            {"baseline.jdk25.UncontendedBenchmark.acquireClose.t1", "Java 25 baseline run: v0.1 Locket `acquire()`+`close()` (FFM)"},
        };
        for (String[] row : rows) {
            double[] s = jmh.get(row[0]);
            if (s == null) {
                continue;
            }
            // "baseline.", "jdk25.", "baseline.jdk25." or "": the JMH run the row comes from, whose own
            // floor and raw FileChannel it is compared with (the JDK 25 runs measure only some rows).
            String run = row[0].substring(0, row[0].lastIndexOf('.', row[0].indexOf("Benchmark.")) + 1);
            double rowFloor = score(run + "UncontendedBenchmark.rawSyscalls.t1");
            double rowRaw = run.contains("jdk25") ? score("jdk25.UncontendedBenchmark.rawLockRelease.t1") : raw;
            md.append("| ").append(row[1]).append(" | ").append(scoreText(s)).append(" | ").append(ratio(s[0], rowFloor))
                    .append(" | ").append(ratio(s[0], rowRaw)).append(" | ").append(ratio(s[0], py)).append(" |\n");
        }
        md.append("| Python locket `acquire()`+`release()`, no timeout | ").append(fmt(py)).append(" (median of 5 runs) | ")
                .append(ratio(py, floor)).append(" | ").append(ratio(py, raw)).append(" | 1.00x |\n");
        md.append("| Python locket `acquire()`+`release()`, 30 s timeout | ").append(fmt(pyTimed)).append(" (median of 5 runs) | ")
                .append(ratio(pyTimed, floor)).append(" | ").append(ratio(pyTimed, raw)).append(" | ").append(ratio(pyTimed, py)).append(" |\n\n");
        md.append("The baseline rows come from a JMH run of their own in the same run.sh, with v0.1 of the core (the last\n")
                .append("commit before its redesign, `").append(p.getProperty("env.baseline", "?"))
                .append("`) ahead of this build on the class path; each is compared with the floor measured in that same JMH run.\n")
                .append("On Java 17 Locket calls `fcntl` and `flock(2)` through JNA, whose calls cost more than the JDK's own\n")
                .append("`fcntl` that v0.1 used through `FileChannel`; the Java 25 rows (FFM) show the same code without that cost.\n\n");
        md.append(cmd("jmh-uncontended")).append(cmd("jmh-baseline")).append(cmd("jmh-uncontended-jdk25"))
                .append(cmd("jmh-baseline-jdk25")).append(cmd("python-uncontended"));

        double acquire = score("UncontendedBenchmark.acquireClose.t1");
        double async = score("UncontendedBenchmark.acquireAsyncJoinClose.t1");
        goal("Uncontended `acquire`+`close` vs the system-call floor of the same protocols", fmt(acquire) + " ns vs " + fmt(floor) + " ns",
                ratio(acquire, floor), "<= 1.1x", le(acquire / floor, 1.1));
        goal("Uncontended `acquireAsync().join()`+`close` vs the same floor", fmt(async) + " ns vs " + fmt(floor) + " ns",
                ratio(async, floor), "<= 1.6x", le(async / floor, 1.6));
        double baseAcquire = score("baseline.UncontendedBenchmark.acquireClose.t1");
        double baseFloor = score("baseline.UncontendedBenchmark.rawSyscalls.t1");
        goal("Uncontended `acquire`+`close` vs v0.1's, Java 17 (JNA), each over the floor of its own JMH run",
                String.format("%.2fx vs %.2fx the floor", acquire / floor, baseAcquire / baseFloor),
                ratio(acquire / floor, baseAcquire / baseFloor), "<= 1.0x",
                le((acquire / floor) / (baseAcquire / baseFloor), 1.0));
        double acquire25 = score("jdk25.UncontendedBenchmark.acquireClose.t1");
        double floor25 = score("jdk25.UncontendedBenchmark.rawSyscalls.t1");
        double base25 = score("baseline.jdk25.UncontendedBenchmark.acquireClose.t1");
        double baseFloor25 = score("baseline.jdk25.UncontendedBenchmark.rawSyscalls.t1");
        if (!Double.isNaN(acquire25)) {
            goal("Uncontended `acquire`+`close` vs v0.1's, Java 25 (FFM), each over the floor of its own JMH run",
                    String.format("%.2fx vs %.2fx the floor", acquire25 / floor25, base25 / baseFloor25),
                    ratio(acquire25 / floor25, base25 / baseFloor25), "<= 1.0x",
                    le((acquire25 / floor25) / (base25 / baseFloor25), 1.0));
        }
        goal("Uncontended: faster than Python locket", fmt(py) + " ns (Python) vs " + fmt(acquire) + " ns",
                ratio(py, acquire) + " faster", ">= 5x", ge(py / acquire, 5));
    }

    private void contended() {
        md.append("## In-JVM contended throughput (JMH)\n\n");
        md.append("N threads of one JVM acquire and release one lock file in a loop, empty critical section. Baseline: a\n")
                .append("`ReentrantLock` guarding a raw `FileChannel` lock plus, when Locket takes it, `flock(2)` on a\n")
                .append("descriptor of its own (the same protocols), unfair (the JDK default: a releasing thread may take the\n")
                .append("lock straight back) and fair (first come, first served). Locket barges like the unfair lock, but serves a\n")
                .append("waiter first once it has waited 1 ms, and keeps the operating-system lock across its own threads'\n")
                .append("grants for at most 64 grants or 10 ms.\n\n");
        md.append("Each figure is ops/s, the median of the measurement iterations (their range in brackets). The last two\n")
                .append("columns are the 99.9th percentile of one acquire+close, from a separate JMH run in sample mode: how long\n")
                .append("the unluckiest acquisitions wait.\n\n");
        md.append("| threads | ReentrantLock + FileChannel | fair ReentrantLock + FileChannel | Locket `acquire`+`close` | Locket vs baseline | Locket vs fair baseline | p99.9: baseline | p99.9: Locket |\n")
                .append("|---|---|---|---|---|---|---|---|\n");
        for (int t : new int[] {1, 2, 4, 8}) {
            double base = score("ContendedBenchmark.baselineReentrantLock.t" + t);
            double fair = score("ContendedBenchmark.baselineFairReentrantLock.t" + t);
            double locket = score("ContendedBenchmark.locket.t" + t);
            if (Double.isNaN(locket)) {
                continue;
            }
            md.append("| ").append(t).append(" | ").append(ops("ContendedBenchmark.baselineReentrantLock.t" + t))
                    .append(" | ").append(ops("ContendedBenchmark.baselineFairReentrantLock.t" + t))
                    .append(" | ").append(ops("ContendedBenchmark.locket.t" + t))
                    .append(" | ").append(ratio(locket, base)).append(" | ").append(ratio(locket, fair))
                    .append(" | ").append(usOp("ContendedBenchmark.baselineReentrantLock.p99.9.t" + t))
                    .append(" | ").append(usOp("ContendedBenchmark.locket.p99.9.t" + t)).append(" |\n");
            goal("In-JVM contended throughput, " + t + " thread" + (t > 1 ? "s" : "") + ", vs unfair ReentrantLock + FileChannel, same protocols",
                    fmt(locket) + " vs " + fmt(base) + " ops/s (p99.9 " + usOp("ContendedBenchmark.locket.p99.9.t" + t) + " vs "
                            + usOp("ContendedBenchmark.baselineReentrantLock.p99.9.t" + t) + ")",
                    ratio(locket, base), ">= 1.0x", ge(locket / base, 1.0));
        }
        md.append('\n').append(cmd("jmh-contended")).append(cmd("jmh-contended-sample"));
    }

    private void readersWriters() {
        md.append("## Readers and writers in one JVM (JMH)\n\n");
        md.append("Three threads take the lock shared and one exclusive, in a loop, empty critical section (a JMH group).\n")
                .append("Baseline: a `ReentrantReadWriteLock` (unfair) with a shared `FileChannel` lock that the first reader takes\n")
                .append("and the last releases, and an exclusive one for the writer (`fcntl` only). Figures are ops/s.\n\n");
        double lr = secondary.getOrDefault("locketRead", Double.NaN);
        double lw = secondary.getOrDefault("locketWrite", Double.NaN);
        double br = secondary.getOrDefault("baselineRead", Double.NaN);
        double bw = secondary.getOrDefault("baselineWrite", Double.NaN);
        md.append("| | total | reads (3 threads) | writes (1 thread) |\n|---|---|---|---|\n");
        md.append("| `ReentrantReadWriteLock` + `FileChannel` | ").append(fmt(br + bw)).append(" | ").append(fmt(br))
                .append(" | ").append(fmt(bw)).append(" |\n");
        md.append("| Locket `shared()` and exclusive | ").append(fmt(lr + lw)).append(" | ").append(fmt(lr))
                .append(" | ").append(fmt(lw)).append(" |\n");
        md.append("| Locket vs baseline | ").append(ratio(lr + lw, br + bw)).append(" | ").append(ratio(lr, br))
                .append(" | ").append(ratio(lw, bw)).append(" |\n\n");
        md.append(cmd("jmh-readers-writers"));
    }

    /** A SampleTime percentile (JMH's us/op) as text. */
    private String usOp(String key) {
        double v = score(key);
        return Double.isNaN(v) ? "-" : v >= 1000 ? String.format("%.1f ms", v / 1000) : String.format("%.1f \u00b5s", v);
    }

    private void handoff(Path docs) throws IOException {
        md.append("## Cross-process hand-off latency\n\n");
        md.append("Process A holds the lock, process B (same strategy, its own lock file) is blocked waiting; A releases at\n")
                .append("t0, B holds the lock at t1; each figure is t1 - t0 on CLOCK_MONOTONIC, which Java's `System.nanoTime()`\n")
                .append("and Python's `time.monotonic_ns()` both read. Before each release the driver waits 2 ms plus a random\n")
                .append("0-50 ms, so B is really blocked and a polling waiter is caught at a random point of its period; the last\n")
                .append("column counts the rounds in which a thread of B was seen inside fcntl(2)/flock(2) just before the\n")
                .append("release (`/proc/<pid>/task/*/syscall`). Java peers first ran ").append(p.getProperty("handoff.warmup", "?"))
                .append(" unrecorded rounds, so that HotSpot's optimising compiler (C2, after about 5,000 calls of a method)\n")
                .append("has compiled the code on both sides, as in a long-running service. The recorded rounds take the\n")
                .append("strategies in turn, one round each and in a new random order every time, with every strategy's\n")
                .append("processes alive throughout, so that the machine's drifts over the run fall on each alike. Each strategy\n")
                .append("runs ").append(p.getProperty("handoff.pairs", "1")).append(" pairs of processes, its rounds spread over them: two pairs of the same code differ\n")
                .append("in median by several microseconds over a whole run, and the pooled figure averages that out; the last\n")
                .append("column gives each pair's median, which shows how far a single pair's figure could be trusted.\n\n");
        String[] strategies = p.getProperty("handoff.strategies", "").split(",");
        long raw = pct("handoff.raw.samples", 50);
        Map<String, String> label = labels();
        md.append("| strategy | median | p90 | p99 | rounds | B seen blocked in kernel | median vs raw `FileChannel.lock` | median vs Python locket, same timeout mode | each pair's median |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        LinkedHashMap<String, long[]> series = new LinkedHashMap<>();
        for (String s : strategies) {
            long[] sorted = Results.samples(p.getProperty("handoff." + s + ".samples"));
            if (sorted.length == 0) {
                continue;
            }
            series.put(plotLabels().getOrDefault(s, s), sorted);
            long median = Results.percentile(sorted, 50);
            String py = s.equals("python-timeout") || s.equals("python") ? "1.00x"
                    : s.equals("python-lockf") ? latencyRatio(median, pct("handoff.python.samples", 50))
                    : s.equals("locket-timeout")
                    ? latencyRatio(median, pct("handoff.python-timeout.samples", 50))
                    : s.equals("locket") ? latencyRatio(median, pct("handoff.python.samples", 50)) : "";
            md.append("| ").append(label.getOrDefault(s, s)).append(" | ").append(micros(median))
                    .append(" | ").append(micros(Results.percentile(sorted, 90)))
                    .append(" | ").append(micros(Results.percentile(sorted, 99)))
                    .append(" | ").append(sorted.length)
                    .append(" | ").append(p.getProperty("handoff." + s + ".blockedInKernel", "?"))
                    .append(" | ").append(latencyRatio(median, raw)).append(" | ").append(py)
                    .append(" | ").append(pairMedians("handoff." + s)).append(" |\n");
        }
        md.append("\n![Hand-off latency CDF](handoff-cdf.png)\n\n").append(cmd("handoff"));
        CdfPlot.write(docs.resolve("handoff-cdf.png"), "Cross-process hand-off latency, CDF ("
                + p.getProperty("handoff.rounds", "?") + " hand-offs each)", series);

        long timed = pct("handoff.locket-timeout.samples", 50);
        long untimed = pct("handoff.locket.samples", 50);
        long pyTimed = pct("handoff.python-timeout.samples", 50);
        long pyBlocking = pct("handoff.python.samples", 50);
        goal("Hand-off median, Locket with timeout vs raw blocking `FileChannel.lock`", micros(timed) + " vs " + micros(raw),
                ratio(timed, raw), "<= 1.2x", le((double) timed / raw, 1.2));
        goal("Hand-off median, Locket without timeout vs raw blocking `FileChannel.lock`", micros(untimed) + " vs " + micros(raw),
                ratio(untimed, raw), "<= 1.2x", le((double) untimed / raw, 1.2));
        long same = pct("handoff.raw-flock.samples", 50);
        goal("Hand-off median, Locket without timeout vs the same protocols by hand (`FileChannel.lock` + `flock(2)`)",
                micros(untimed) + " vs " + micros(same), ratio(untimed, same), "<= 1.2x", le((double) untimed / same, 1.2));
        goal("Hand-off median, Locket with timeout vs Python's blocking locket (no timeout)", micros(timed) + " vs "
                + micros(pyBlocking), ratio(timed, pyBlocking), "<= 1.0x", le((double) timed / pyBlocking, 1.0));
        goal("Hand-off median, Locket without timeout vs Python's blocking locket", micros(untimed) + " vs "
                + micros(pyBlocking), ratio(untimed, pyBlocking), "<= 1.0x", le((double) untimed / pyBlocking, 1.0));
        long pyBoth = pct("handoff.python-lockf.samples", 50);
        goal("Hand-off median, Locket without timeout vs Python with the same protocols (blocking `lockf` + locket)",
                micros(untimed) + " vs " + micros(pyBoth), ratio(untimed, pyBoth), "<= 1.0x", le((double) untimed / pyBoth, 1.0));
        long baseTimed = pct("handoff.v01-locket-timeout.samples", 50);
        goal("Hand-off median, Locket with timeout vs v0.1's, same run", micros(timed) + " vs " + micros(baseTimed),
                ratio(timed, baseTimed), "<= 1.0x", le((double) timed / baseTimed, 1.0));
        goal("Hand-off median: faster than Python locket with a timeout", micros(pyTimed) + " (Python) vs " + micros(timed),
                ratio(pyTimed, timed) + " faster", ">= 100x", ge((double) pyTimed / timed, 100));
        if (p.getProperty("handoff-jdk25.strategies") != null) {
            handoffJdk25();
        }
    }

    /** The medians of a hand-off strategy's process pairs, in microseconds: "81 / 79 / 89 µs". */
    private String pairMedians(String prefix) {
        String all = p.getProperty(prefix + ".pairMedians");
        if (all == null || all.isEmpty()) {
            return "-";
        }
        return Arrays.stream(all.split(",")).map(m -> String.format("%.0f", Long.parseLong(m) / 1e3))
                .collect(Collectors.joining(" / ")) + " \u00b5s";
    }

    /** The hand-off again on Java 25, where Locket's calls go through FFM, not JNA (see run.sh). */
    private void handoffJdk25() {
        md.append("The same on Java 25, where Locket calls `fcntl` and `flock(2)` through the FFM API rather than JNA\n")
                .append("(the peer by hand still takes its `fcntl` lock through `FileChannel` and `flock(2)` through JNA):\n\n")
                .append("| Java 25 | median | p90 | p99 | rounds | median vs raw `FileChannel.lock` | median vs the same protocols by hand | each pair's median |\n")
                .append("|---|---|---|---|---|---|---|---|\n");
        Map<String, String> label = labels();
        long raw = pct("handoff-jdk25.raw.samples", 50);
        long same = pct("handoff-jdk25.raw-flock.samples", 50);
        for (String s : p.getProperty("handoff-jdk25.strategies").split(",")) {
            long[] sorted = Results.samples(p.getProperty("handoff-jdk25." + s + ".samples"));
            if (sorted.length == 0) {
                continue;
            }
            long median = Results.percentile(sorted, 50);
            md.append("| ").append(label.getOrDefault(s, s)).append(" | ").append(micros(median))
                    .append(" | ").append(micros(Results.percentile(sorted, 90)))
                    .append(" | ").append(micros(Results.percentile(sorted, 99)))
                    .append(" | ").append(sorted.length)
                    .append(" | ").append(latencyRatio(median, raw))
                    .append(" | ").append(latencyRatio(median, same))
                    .append(" | ").append(pairMedians("handoff-jdk25." + s)).append(" |\n");
        }
        md.append('\n').append(cmd("handoff-jdk25"));
        for (String s : new String[] {"locket-timeout", "locket"}) {
            long median = pct("handoff-jdk25." + s + ".samples", 50);
            goal("Hand-off median, Java 25 (FFM), " + labels().get(s) + " vs raw blocking `FileChannel.lock`",
                    micros(median) + " vs " + micros(raw), ratio(median, raw), "<= 1.2x", le((double) median / raw, 1.2));
            goal("Hand-off median, Java 25 (FFM), " + labels().get(s) + " vs the same protocols by hand",
                    micros(median) + " vs " + micros(same), ratio(median, same), "<= 1.2x", le((double) median / same, 1.2));
        }
    }

    private void throughput() {
        md.append("## Cross-process throughput\n\n");
        md.append("2, then 4 processes (one thread each) acquire and release one lock file in a loop for ")
                .append(p.getProperty("throughput.seconds", "?")).append(" s in all, in ").append(ProcessThroughput.SLICES)
                .append(" windows of CLOCK_MONOTONIC time that all the processes\nshare; the windows of the strategies ")
                .append("are taken in turn, so that the machine's drifts fall on each alike.\n")
                .append("Per-process counts show how evenly the lock was shared.\n\n");
        Map<String, String> label = labels();
        md.append("| strategy | processes | total ops/s | ops per process | vs raw `FileChannel.lock` | vs the same protocols by hand | vs Python locket, same timeout mode |\n")
                .append("|---|---|---|---|---|---|---|\n");
        for (int n : ProcessThroughput.PROCESSES) {
            double raw = number("throughput.raw." + n + ".opsPerSecond");
            for (String s : p.getProperty("throughput.strategies", "").split(",")) {
                double v = number("throughput." + s + "." + n + ".opsPerSecond");
                if (Double.isNaN(v)) {
                    continue;
                }
                String py = s.startsWith("python") ? "1.00x" : s.equals("locket-timeout")
                        ? ratio(v, number("throughput.python-timeout." + n + ".opsPerSecond"))
                        : s.equals("locket") ? ratio(v, number("throughput.python." + n + ".opsPerSecond")) : "";
                md.append("| ").append(label.getOrDefault(s, s)).append(" | ").append(n).append(" | ").append(fmt(v))
                        .append(" | ").append(p.getProperty("throughput." + s + "." + n + ".perProcess", "").replace(",", ", "))
                        .append(" | ").append(ratio(v, raw))
                        .append(" | ").append(ratio(v, number("throughput.raw-flock." + n + ".opsPerSecond")))
                        .append(" | ").append(py).append(" |\n");
            }
        }
        md.append('\n').append(cmd("throughput"));
        if (p.getProperty("throughput-jdk25.strategies") != null) {
            md.append("The same on Java 25, where Locket calls `fcntl` and `flock(2)` through the FFM API rather than JNA\n")
                    .append("(the peer by hand still takes its `fcntl` lock through `FileChannel` and `flock(2)` through JNA):\n\n")
                    .append("| Java 25 | processes | total ops/s | ops per process | vs the same protocols by hand |\n")
                    .append("|---|---|---|---|---|\n");
            for (int n : ProcessThroughput.PROCESSES) {
                double same = number("throughput-jdk25.raw-flock." + n + ".opsPerSecond");
                for (String s : p.getProperty("throughput-jdk25.strategies").split(",")) {
                    double v = number("throughput-jdk25." + s + "." + n + ".opsPerSecond");
                    md.append("| ").append(label.getOrDefault(s, s)).append(" | ").append(n).append(" | ").append(fmt(v))
                            .append(" | ").append(p.getProperty("throughput-jdk25." + s + "." + n + ".perProcess", "")
                                    .replace(",", ", "))
                            .append(" | ").append(ratio(v, same)).append(" |\n");
                }
            }
            md.append('\n').append(cmd("throughput-jdk25"));
        }
        for (int n : ProcessThroughput.PROCESSES) {
            double raw = number("throughput.raw." + n + ".opsPerSecond");
            double same = number("throughput.raw-flock." + n + ".opsPerSecond");
            for (String s : new String[] {"locket-timeout", "locket"}) {
                double v = number("throughput." + s + "." + n + ".opsPerSecond");
                goal("Cross-process throughput, " + n + " processes, " + labels().get(s) + " vs raw `FileChannel.lock`",
                        fmt(v) + " vs " + fmt(raw) + " ops/s", ratio(v, raw), ">= 0.9x", ge(v / raw, 0.9));
                goal("Cross-process throughput, " + n + " processes, " + labels().get(s)
                        + " vs the same protocols by hand (`FileChannel.lock` + `flock(2)`)",
                        fmt(v) + " vs " + fmt(same) + " ops/s", ratio(v, same), ">= 0.9x", ge(v / same, 0.9));
            }
        }
        for (int n : ProcessThroughput.PROCESSES) {
            double same = number("throughput-jdk25.raw-flock." + n + ".opsPerSecond");
            for (String s : new String[] {"locket-timeout", "locket"}) {
                double v = number("throughput-jdk25." + s + "." + n + ".opsPerSecond");
                if (!Double.isNaN(v)) {
                    goal("Cross-process throughput, Java 25 (FFM), " + n + " processes, " + labels().get(s)
                            + " vs the same protocols by hand", fmt(v) + " vs " + fmt(same) + " ops/s", ratio(v, same),
                            ">= 0.9x", ge(v / same, 0.9));
                }
            }
        }
    }

    private void waiters() {
        md.append("## Many async waiters on one lock\n\n");
        md.append("Another process holds the lock; this JVM queues N `acquireAsync()` futures on it. Extra threads are\n")
                .append("counted against the JVM before the waiters (Locket already warmed up); heap per waiter is the growth of\n")
                .append("the heap after full GCs. Then the holder releases, and each waiter's callback closes its lock at once:\n")
                .append("drain is the time from that release until the last waiter has had the lock. Each row is a fresh JVM.\n\n");
        md.append("| waiters | timeout | all served | extra threads while waiting | extra threads at peak (drain) | heap per waiter | enqueue | drain |\n")
                .append("|---|---|---|---|---|---|---|---|\n");
        for (int n : new int[] {1_000, 10_000, 100_000}) {
            for (String mode : new String[] {"none", "timeout"}) {
                String k = "waiters." + n + "." + mode + ".";
                if (p.getProperty(k + "waiters") == null) {
                    continue;
                }
                long served = (long) number(k + "served");
                md.append("| ").append(String.format("%,d", n)).append(" | ").append(mode.equals("none") ? "none" : "10 min")
                        .append(" | ").append(served == n ? "yes" : "**" + String.format("%,d", served) + " of " + n + "**")
                        .append(" | ").append(p.getProperty(k + "extraThreadsWaiting")).append(" (")
                        .append(p.getProperty(k + "newThreadsWaiting", "").replace(" ", ", ")).append(")")
                        .append(" | ").append(p.getProperty(k + "extraThreadsPeak")).append(" (")
                        .append(p.getProperty(k + "newThreadsAfterDrain", "").replace(" ", ", ")).append(")")
                        .append(" | ").append(p.getProperty(k + "heapPerWaiterBytes")).append(" B")
                        .append(" | ").append(millis(number(k + "enqueueNanos")))
                        .append(" | ").append(millis(number(k + "drainNanos"))).append(" |\n");
            }
        }
        md.append("\nRaw `FileChannel` has no equivalent (a second `lock` on the same file in one JVM throws\n")
                .append("`OverlappingFileLockException`; `AsynchronousFileChannel` parks one pool thread per pending lock), and\n")
                .append("Python's locket needs one blocked thread per waiter, so this table has no ratio column.\n\n")
                .append(cmd("waiters"));
        double threads = Math.max(number("waiters.100000.none.extraThreadsWaiting"), number("waiters.100000.timeout.extraThreadsWaiting"));
        double heap = Math.max(number("waiters.100000.none.heapPerWaiterBytes"), number("waiters.100000.timeout.heapPerWaiterBytes"));
        goal("100,000 async waiters: extra threads while waiting (worst of no timeout / timeout)", count(threads), "-", "<= 2",
                le(threads, 2));
        goal("100,000 async waiters: heap per waiter (worst of no timeout / timeout)", fmt(heap) + " B",
                String.format("%.2f KiB", heap / 1024), "<= 1 KiB", le(heap, 1024));
        double served = number("waiters.10000.none.served");
        goal("10,000 async waiters all served", count(served) + " of 10,000", "-", "all",
                Double.isNaN(served) ? null : served == 10_000);
    }

    private void timeouts() {
        md.append("## Timeout precision\n\n");
        md.append("The lock is held by another process; each sample is how long after its timeout a failing acquisition\n")
                .append("is seen by the caller (`acquire()`: the blocked thread; `acquireAsync()`: the future's first dependent\n")
                .append("action). Python's locket checks its deadline only between 50 ms polls, hence its large overshoot.\n\n");
        md.append("| timeout | API | samples | median | p90 | p99 | max | p99 vs JVM floor | p99 vs Python locket |\n")
                .append("|---|---|---|---|---|---|---|---|---|\n");
        double worst = 0;
        String worstWhat = "";
        for (int ms : new int[] {10, 100}) {
            long pyP99 = pct("python.timeout." + ms + "ms.samples", 99);
            long floorP99 = pct("timeout." + ms + "ms.floor.samples", 99);
            for (String api : new String[] {"floor", "acquire", "acquireAsync"}) {
                long[] s = Results.samples(p.getProperty("timeout." + ms + "ms." + api + ".samples"));
                if (s.length == 0) {
                    continue;
                }
                long p99 = Results.percentile(s, 99);
                if (!api.equals("floor") && p99 > worst) {
                    worst = p99;
                    worstWhat = ms + " ms, " + api;
                }
                md.append("| ").append(ms).append(" ms | ")
                        .append(api.equals("floor") ? "JVM floor: `CompletableFuture.get(timeout)`, never completed" : "Locket `" + api + "()`")
                        .append(" | ").append(s.length)
                        .append(" | ").append(millis(Results.percentile(s, 50))).append(" | ").append(millis(Results.percentile(s, 90)))
                        .append(" | ").append(millis(p99)).append(" | ").append(millis(s[s.length - 1]))
                        .append(" | ").append(api.equals("floor") ? "1.00x" : latencyRatio(p99, floorP99))
                        .append(" | ").append(latencyRatio(p99, pyP99)).append(" |\n");
            }
            long[] py = Results.samples(p.getProperty("python.timeout." + ms + "ms.samples"));
            if (py.length > 0) {
                md.append("| ").append(ms).append(" ms | Python locket `acquire()` | ").append(py.length)
                        .append(" | ").append(millis(Results.percentile(py, 50))).append(" | ").append(millis(Results.percentile(py, 90)))
                        .append(" | ").append(millis(pyP99)).append(" | ").append(millis(py[py.length - 1]))
                        .append(" | ").append(latencyRatio(pyP99, floorP99)).append(" | 1.00x |\n");
            }
        }
        md.append("\n`FileChannel.lock` has no timeout; the JVM floor is a timed wait on its own.\n\n")
                .append(cmd("timeouts")).append(cmd("python-timeouts"));
        goal("Timeout overshoot p99 (worst of 10/100 ms, acquire/acquireAsync: " + worstWhat + ")", millis(worst), "-",
                "<= 5 ms", le(worst, 5_000_000));
    }

    private void descriptors() {
        md.append("## Descriptors\n\n");
        double before = number("fds.before");
        double after = number("fds.after");
        double peak = number("fds.peak");
        md.append("Locket keeps each lock file's descriptor open while it is in use and caches idle ones; the cache must stay\n")
                .append("bounded. After locking and releasing ").append(count(number("fds.paths")))
                .append(" distinct lock files one after another, `/proc/self/fd` held ")
                .append(count(before)).append(" descriptors before, ").append(count(after)).append(" after (+").append(count(after - before))
                .append("), ").append(count(peak)).append(" at the highest sample (+").append(count(peak - before)).append(").\n\n")
                .append(cmd("fds"));
        goal("Descriptors after 5,000 distinct paths locked and released", "+" + count(after - before) + " (peak +"
                + count(peak - before) + ")", "-", "<= +256", le(after - before, 256));
    }

    private String commandSection() {
        StringBuilder c = new StringBuilder("## Commands\n\nExactly what run.sh ran for this document, from the repository root:\n\n```sh\n");
        for (Map.Entry<String, List<String>> e : commands.entrySet()) {
            for (String line : e.getValue()) {
                c.append(line).append('\n');
            }
        }
        return c.append("```\n").toString();
    }

    // ---------------------------------------------------------------- helpers

    private static Map<String, String> labels() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("raw", "raw blocking `FileChannel.lock` (floor)");
        m.put("raw-flock", "raw blocking `FileChannel.lock` + blocking `flock(2)`: Locket's protocols by hand");
        m.put("locket-timeout", "Locket `acquire()`, 60 s timeout");
        m.put("locket", "Locket `acquire()`, no timeout");
        m.put("locket-async", "Locket `acquireAsync().join()`, 60 s timeout");
        m.put("raw-async", "raw `AsynchronousFileChannel.lock().get()`");
        m.put("python-timeout", "Python locket, 60 s timeout (polls every 50 ms)");
        m.put("python", "Python locket, no timeout (blocking flock)");
        m.put("python-lockf", "Python: blocking `fcntl.lockf` + locket, no timeout: Locket's protocols by hand in Python");
        m.put("v01-locket-timeout", "v0.1 Locket `acquire()`, 60 s timeout (baseline build)");
        m.put("v01-locket", "v0.1 Locket `acquire()`, no timeout (baseline build)");
        return m;
    }

    private static Map<String, String> plotLabels() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("raw", "raw FileChannel.lock");
        m.put("raw-flock", "raw FileChannel.lock + flock");
        m.put("locket-timeout", "Locket, 60 s timeout");
        m.put("locket", "Locket, no timeout");
        m.put("locket-async", "Locket acquireAsync");
        m.put("raw-async", "raw AsynchronousFileChannel");
        m.put("python-timeout", "Python locket, timeout");
        m.put("python", "Python locket, no timeout");
        m.put("python-lockf", "Python lockf + locket");
        m.put("v01-locket-timeout", "v0.1 Locket, 60 s timeout");
        m.put("v01-locket", "v0.1 Locket, no timeout");
        return m;
    }

    private String cmd(String tag) {
        List<String> c = commands.get(tag);
        if (c == null) {
            return "";
        }
        return "Command" + (c.size() > 1 ? "s" : "") + ":\n\n```sh\n" + String.join("\n", c) + "\n```\n\n";
    }

    private String inline(String tag) {
        return inline(tag, "");
    }

    private String inline(String tag, String containing) {
        List<String> c = commands.get(tag);
        if (c == null) {
            return "-";
        }
        for (String line : c) {
            if (line.contains(containing)) {
                return "`" + line.replace("|", "\\|") + "`";
            }
        }
        return "`" + c.get(0).replace("|", "\\|") + "`";
    }

    private static String scoreText(double[] s) {
        return s[3] < 2 ? fmt(s[0]) : fmt(s[0]) + " (" + fmt(s[1]) + "-" + fmt(s[2]) + ")";
    }

    private double score(String key) {
        double[] s = jmh.get(key);
        return s == null ? Double.NaN : s[0];
    }

    private String ops(String key) {
        double[] s = jmh.get(key);
        return s == null ? "-" : scoreText(s);
    }

    private double number(String key) {
        String v = p.getProperty(key);
        return v == null ? Double.NaN : Double.parseDouble(v);
    }

    private long pct(String key, double percentile) {
        return Results.percentile(Results.samples(p.getProperty(key)), percentile);
    }

    private static double firstNumber(String s) {
        try {
            return s == null ? Double.NaN : Double.parseDouble(s.trim().split("\\s+")[0]);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static Boolean le(double v, double limit) {
        return Double.isNaN(v) ? null : v <= limit;
    }

    private static Boolean ge(double v, double limit) {
        return Double.isNaN(v) ? null : v >= limit;
    }

    static String ratio(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b) || b <= 0 || a < 0) {
            return "-";
        }
        double r = a / b;
        return r >= 100 ? String.format("%,.0fx", r) : r >= 10 ? String.format("%.1fx", r) : String.format("%.2fx", r);
    }

    /** A ratio of times (lower is better), with how many times faster or slower it is in words. */
    static String latencyRatio(double a, double b) {
        if (Double.isNaN(a) || Double.isNaN(b) || b <= 0 || a <= 0) {
            return "-";
        }
        double r = a / b;
        String x = r < 0.1 ? String.format("%.4fx", r) : ratio(a, b);
        return r < 0.95 ? x + " (" + ratio(b, a) + " faster)" : x;
    }

    static String count(double v) {
        return Double.isNaN(v) ? "-" : String.format("%,.0f", v);
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        return Math.abs(v) >= 100 ? String.format("%,.0f", v) : String.format("%.1f", v);
    }

    static String micros(double nanos) {
        if (nanos < 0 || Double.isNaN(nanos)) {
            return "-";
        }
        return nanos >= 1_000_000 ? String.format("%.1f ms", nanos / 1e6) : String.format("%.0f \u00b5s", nanos / 1e3);
    }

    static String millis(double nanos) {
        if (Double.isNaN(nanos)) {
            return "-";
        }
        return String.format("%.2f ms", nanos / 1e6);
    }
}
