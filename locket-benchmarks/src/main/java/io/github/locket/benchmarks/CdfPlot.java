package io.github.locket.benchmarks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The hand-off latency CDF as a PNG, drawn by JFreeChart in headless mode: a step per sample, a log
 * latency axis from 10 us to 100 ms, each series' median in the legend, the untimed twins dashed.
 */
final class CdfPlot {
    private CdfPlot() {}

    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0xff7f0e), new Color(0x9467bd),
        new Color(0x2ca02c), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)
    };

    /** {@code series}: label -> sorted latencies in nanoseconds. */
    static void write(Path png, String title, LinkedHashMap<String, long[]> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        renderer.setDrawSeriesLineAsPath(true); // one path per series, so that dashes run on
        for (Map.Entry<String, long[]> e : series.entrySet()) {
            long[] s = e.getValue();
            XYSeries cdf = new XYSeries(e.getKey() + ", median " + Report.micros(Results.percentile(s, 50)), false);
            for (int k = 0; k < s.length; k++) { // a step up at each sample
                double ms = Math.max(s[k] / 1e6, 0.01); // clamped to the axis
                cdf.add(ms, (double) k / s.length);
                cdf.add(ms, (k + 1.0) / s.length);
            }
            int i = data.getSeriesCount();
            data.addSeries(cdf);
            renderer.setSeriesPaint(i, COLORS[i % COLORS.length]);
            // Series that overlap another (the untimed twins) are dashed so both stay visible.
            renderer.setSeriesStroke(i, e.getKey().contains("no timeout")
                    ? new BasicStroke(2.4f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 5f}, 0f)
                    : new BasicStroke(2.4f));
        }
        LogAxis x = new LogAxis("latency from release (process A) to acquisition (process B), log scale");
        x.setRange(0.01 * 0.999, 100 * 1.001); // both ends labelled
        x.setTickUnit(new NumberTickUnit(1)); // one decade
        x.setMinorTickCount(9);
        x.setNumberFormatOverride(new DecimalFormat("0.## 'ms'"));
        NumberAxis y = new NumberAxis("fraction of hand-offs at or below");
        y.setRange(0, 1);
        y.setTickUnit(new NumberTickUnit(0.1, new DecimalFormat("0.0")));
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        plot.setDomainGridlineStroke(new BasicStroke(1f));
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        plot.setDomainMinorGridlinesVisible(true);
        plot.setDomainMinorGridlinePaint(new Color(0xf0f0f0));
        JFreeChart chart = new JFreeChart(title, new Font(Font.SANS_SERIF, Font.BOLD, 17), plot, true);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setPadding(new RectangleInsets(8, 8, 8, 24));
        chart.getLegend().setPosition(RectangleEdge.BOTTOM);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 960, 600);
        System.out.println("wrote " + png);
    }
}
