package io.github.locket.benchmarks;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Collectors;

/** Results travel from each harness to {@link Report} as key=value files; plus small statistics. */
final class Results {
    private Results() {}

    private final Map<String, String> values = new TreeMap<>();

    static Results create() {
        return new Results();
    }

    Results put(String key, Object value) {
        values.put(key, String.valueOf(value));
        return this;
    }

    Results put(String key, long[] samples) {
        values.put(key, Arrays.stream(samples).mapToObj(Long::toString).collect(Collectors.joining(",")));
        return this;
    }

    void write(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Map.Entry<String, String> e : values.entrySet()) {
                w.write(e.getKey() + "=" + e.getValue() + "\n");
            }
        }
        System.out.println("wrote " + file);
    }

    /** Every *.properties file in {@code dir}, merged. */
    static Properties readAll(Path dir) throws IOException {
        Properties all = new Properties();
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".properties")).sorted().collect(Collectors.toList())) {
                try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                    all.load(r);
                }
            }
        }
        return all;
    }

    static long[] samples(String csv) {
        if (csv == null || csv.isBlank()) {
            return new long[0];
        }
        return Arrays.stream(csv.split(",")).mapToLong(s -> Long.parseLong(s.trim())).sorted().toArray();
    }

    static long[] sorted(List<Long> samples) {
        return samples.stream().mapToLong(Long::longValue).sorted().toArray();
    }

    /** Nearest-rank percentile of sorted samples, {@code p} in [0, 100]. */
    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return -1;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }
}
