package io.github.locket.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** run.sh is the only caller of CdfPlot, and the build never runs it: draw one here. */
final class CdfPlotTest {
    @Test
    void drawsTheCdfOfSampleHandOffsAsA960By600Png(@TempDir Path dir) throws Exception {
        Random random = new Random(42);
        LinkedHashMap<String, long[]> series = new LinkedHashMap<>();
        series.put("Locket, 60 s timeout", sorted(random, 170_000));
        series.put("Locket, no timeout", sorted(random, 168_000));
        series.put("Python locket, timeout", sorted(random, 25_000_000));
        series.put("empty", new long[0]);
        Path png = dir.resolve("cdf.png");
        CdfPlot.write(png, "Cross-process hand-off latency, CDF (200 hand-offs each)", series);
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(960);
        assertThat(image.getHeight()).isEqualTo(600);
    }

    /** 200 log-normal latencies around {@code medianNanos}, sorted as Results gives them. */
    private static long[] sorted(Random random, long medianNanos) {
        long[] samples = new long[200];
        Arrays.setAll(samples, i -> (long) (medianNanos * Math.exp(0.5 * random.nextGaussian())));
        Arrays.sort(samples);
        return samples;
    }
}
