package io.github.locket;

import java.time.Duration;
import org.jspecify.annotations.Nullable;

/** Duration helpers: one conversion to nanoseconds, one human format. */
final class Durations {
    private Durations() {}

    /** The timeout in nanoseconds, saturated at {@link Long#MAX_VALUE}; -1 for "forever". */
    static long toNanos(@Nullable Duration timeout) {
        if (timeout == null) {
            return -1;
        }
        try {
            return timeout.toNanos();
        } catch (ArithmeticException tooLong) {
            return -1;
        }
    }

    /** "0s", "250ms", "1.5s", "PT2H" style: short and exact. */
    static String format(Duration d) {
        if (d.isZero()) {
            return "0s (a single attempt)";
        }
        if (d.compareTo(Duration.ofMinutes(1)) < 0) {
            long nanos = d.toNanos();
            if (nanos % 1_000_000 == 0) {
                long millis = nanos / 1_000_000;
                return millis % 1000 == 0 ? (millis / 1000) + "s" : millis + "ms";
            }
            return nanos % 1000 == 0 ? (nanos / 1000) + "us" : nanos + "ns";
        }
        return d.toString();
    }
}
