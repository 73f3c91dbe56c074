package io.github.locket.benchmarks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.imageio.ImageIO;

/** The hand-off latency CDF as a PNG, drawn with Java2D in headless mode: no plotting library needed. */
final class CdfPlot {
    private CdfPlot() {}

    private static final int W = 960;
    private static final int H = 600;
    private static final int LEFT = 80;
    private static final int RIGHT = 270;
    private static final int TOP = 60;
    private static final int BOTTOM = 70;
    private static final double MIN_US = 10;
    private static final double MAX_US = 100_000;
    private static final Color[] COLORS = {
        new Color(0x1f77b4), new Color(0xd62728), new Color(0xff7f0e), new Color(0x9467bd),
        new Color(0x2ca02c), new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f)
    };

    /** {@code series}: label -> sorted latencies in nanoseconds. */
    static void write(Path png, String title, LinkedHashMap<String, long[]> series) throws IOException {
        System.setProperty("java.awt.headless", "true");
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, H);
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;

        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
        g.setColor(Color.BLACK);
        g.drawString(title, LEFT, 32);

        // grid and axes
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        FontMetrics fm = g.getFontMetrics();
        String[] xLabels = {"10 \u00b5s", "100 \u00b5s", "1 ms", "10 ms", "100 ms"};
        for (int d = 0; d <= 4; d++) {
            double us = MIN_US * Math.pow(10, d);
            int x = LEFT + (int) Math.round(xFor(us) * pw);
            g.setColor(new Color(0xdddddd));
            g.drawLine(x, TOP, x, TOP + ph);
            if (d < 4) {
                g.setColor(new Color(0xf0f0f0));
                for (int m = 2; m <= 9; m++) {
                    int xm = LEFT + (int) Math.round(xFor(us * m) * pw);
                    g.drawLine(xm, TOP, xm, TOP + ph);
                }
            }
            g.setColor(Color.BLACK);
            g.drawString(xLabels[d], x - fm.stringWidth(xLabels[d]) / 2, TOP + ph + 20);
        }
        for (int q = 0; q <= 10; q++) {
            int y = TOP + ph - (int) Math.round(q / 10.0 * ph);
            g.setColor(q == 5 || q == 9 ? new Color(0xbbbbbb) : new Color(0xe6e6e6));
            g.drawLine(LEFT, y, LEFT + pw, y);
            g.setColor(Color.BLACK);
            String label = String.format("%.1f", q / 10.0);
            g.drawString(label, LEFT - 10 - fm.stringWidth(label), y + 5);
        }
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, TOP, pw, ph);
        String xTitle = "latency from release (process A) to acquisition (process B), log scale";
        g.drawString(xTitle, LEFT + (pw - fm.stringWidth(xTitle)) / 2, TOP + ph + 45);
        Graphics2D gy = (Graphics2D) g.create();
        gy.rotate(-Math.PI / 2);
        String yTitle = "fraction of hand-offs at or below";
        gy.drawString(yTitle, -(TOP + (ph + fm.stringWidth(yTitle)) / 2), 25);
        gy.dispose();

        // series
        int i = 0;
        int legendY = TOP + 10;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (Map.Entry<String, long[]> e : series.entrySet()) {
            long[] s = e.getValue();
            Color c = COLORS[i++ % COLORS.length];
            g.setColor(c);
            // Series that overlap another (the untimed twins) are dashed so both stay visible.
            boolean dashed = e.getKey().contains("no timeout");
            g.setStroke(dashed
                    ? new BasicStroke(2.4f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 5f}, 0f)
                    : new BasicStroke(2.4f));
            Path2D path = new Path2D.Double();
            for (int k = 0; k < s.length; k++) {
                double x = LEFT + clamp(xFor(s[k] / 1e3)) * pw;
                double yBelow = TOP + ph - (double) k / s.length * ph;
                double yAt = TOP + ph - (double) (k + 1) / s.length * ph;
                if (k == 0) {
                    path.moveTo(x, yBelow);
                } else {
                    path.lineTo(x, yBelow);
                }
                path.lineTo(x, yAt);
            }
            g.draw(path);
            int lx = LEFT + pw + 15;
            g.drawLine(lx, legendY, lx + 24, legendY);
            g.setColor(Color.BLACK);
            long median = s.length == 0 ? 0 : Results.percentile(s, 50);
            g.drawString(e.getKey(), lx + 30, legendY + 5);
            g.setColor(new Color(0x555555));
            g.drawString("median " + Report.micros(median), lx + 30, legendY + 21);
            legendY += 44;
        }
        g.setStroke(new BasicStroke(1f));
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
        System.out.println("wrote " + png);
    }

    private static double xFor(double us) {
        return Math.log10(us / MIN_US) / Math.log10(MAX_US / MIN_US);
    }

    private static double clamp(double v) {
        return Math.max(0, Math.min(1, v));
    }
}
