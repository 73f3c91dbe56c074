package io.github.locket.benchmarks;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Condenses a JFR recording: the hottest methods by self time (top frame of jdk.ExecutionSample),
 * the io.github.locket methods by inclusive samples, and the count and total time of the blocking
 * events (parks, contended monitor enters) by the locket method that caused them.
 *
 * <p>Usage: {@code JfrSummary <recording.jfr> [threadNamePrefix] [top=15]}
 */
public final class JfrSummary {
    private JfrSummary() {}

    public static void main(String[] args) throws Exception {
        String threadPrefix = args.length > 1 ? args[1] : "";
        int top = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> inclusive = new HashMap<>();
        Map<String, long[]> blocking = new HashMap<>();
        int samples = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
            String type = e.getEventType().getName();
            var t = e.hasField("sampledThread") ? e.getThread("sampledThread") : e.getThread();
            String thread = t == null ? "" : String.valueOf(t.getJavaName());
            if (!thread.startsWith(threadPrefix) && !thread.startsWith("locket-")) {
                continue;
            }
            RecordedStackTrace st = e.getStackTrace();
            if (st == null || st.getFrames().isEmpty()) {
                continue;
            }
            if (type.equals("jdk.ExecutionSample") || type.equals("jdk.NativeMethodSample")) {
                samples++;
                self.merge(name(st.getFrames().get(0)), 1, Integer::sum);
                Set<String> seen = new HashSet<>();
                for (RecordedFrame f : st.getFrames()) {
                    String n = name(f);
                    if (n.startsWith("io.github.locket.") && !n.contains(".benchmarks.") && seen.add(n)) {
                        inclusive.merge(n, 1, Integer::sum);
                    }
                }
            } else if (type.equals("jdk.ThreadPark") || type.equals("jdk.JavaMonitorEnter") || type.equals("jdk.JavaMonitorWait")) {
                String cause = type;
                for (RecordedFrame f : st.getFrames()) {
                    String n = name(f);
                    if (n.startsWith("io.github.locket.") && !n.contains(".benchmarks.")) {
                        cause = type + " in " + n;
                        break;
                    }
                }
                long[] c = blocking.computeIfAbsent(cause, k -> new long[2]);
                c[0]++;
                c[1] += e.getDuration().toNanos();
            }
        }
        int locketSelf = self.entrySet().stream()
                .filter(en -> en.getKey().startsWith("io.github.locket.") && !en.getKey().contains(".benchmarks."))
                .mapToInt(Map.Entry::getValue).sum();
        System.out.printf("execution samples (CPU): %d, of which %d (%.1f%%) with an io.github.locket method on top%n",
                samples, locketSelf, 100.0 * locketSelf / Math.max(1, samples));
        System.out.println("-- top methods by self samples");
        print(self, samples, top);
        System.out.println("-- io.github.locket methods by inclusive samples");
        print(inclusive, samples, top);
        System.out.println("-- blocking events: count, total ms, by cause");
        blocking.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1])).limit(top)
                .forEach(en -> System.out.printf("%8d %10.1f ms  %s%n", en.getValue()[0], en.getValue()[1] / 1e6, en.getKey()));
    }

    private static void print(Map<String, Integer> m, int total, int top) {
        m.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(top)
                .forEach(en -> System.out.printf("%6d %5.1f%%  %s%n", en.getValue(), 100.0 * en.getValue() / Math.max(1, total), en.getKey()));
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }
}
