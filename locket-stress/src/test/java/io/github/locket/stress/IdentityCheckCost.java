package io.github.locket.stress;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cost of the identity check: uncontended {@code acquire()} + {@code close()} of two builds of
 * locket-core, before and after, loaded side by side in one JVM and measured in alternating
 * rounds, so both see the same machine load. Not a test (no speed assertion anywhere); run by hand:
 *
 * <pre>
 * java locket-stress/src/test/java/io/github/locket/stress/IdentityCheckCost.java \
 *     BEFORE.jar AFTER.jar [jna.jar]
 * </pre>
 */
public final class IdentityCheckCost {
    private IdentityCheckCost() {}

    public static void main(String[] args) throws Throwable {
        URL[] shared = args.length > 2 ? new URL[] {Path.of(args[2]).toUri().toURL()} : new URL[0];
        ClassLoader parent = new URLClassLoader(shared, ClassLoader.getPlatformClassLoader());
        Path dir = Files.createTempDirectory("identity-cost");
        MethodHandle[] run = {op(args[0], parent, dir.resolve("before.lock")), op(args[1], parent, dir.resolve("after.lock"))};
        int rounds = 15;
        int ops = 100_000;
        List<double[]> samples = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            double[] ns = new double[2];
            for (int which = 0; which < 2; which++) {
                int w = r % 2 == 0 ? which : 1 - which; // alternate which goes first
                long t0 = System.nanoTime();
                for (int i = 0; i < ops; i++) {
                    run[w].invokeExact();
                }
                ns[w] = (System.nanoTime() - t0) / (double) ops;
            }
            if (r >= 3) { // the first rounds warm up the JIT
                samples.add(ns);
            }
        }
        double[] before = samples.stream().mapToDouble(s -> s[0]).sorted().toArray();
        double[] after = samples.stream().mapToDouble(s -> s[1]).sorted().toArray();
        double[] ratios = samples.stream().mapToDouble(s -> s[1] / s[0]).sorted().toArray();
        System.out.printf("acquire()+close(), uncontended, median of %d rounds of %,d: before %.0f ns, after %.0f ns,"
                + " ratio after/before %.2f (per-round ratios %.2f..%.2f)%n", samples.size(), ops, median(before),
                median(after), median(ratios), ratios[0], ratios[ratios.length - 1]);
        System.out.println("rounds (before, after ns): " + Arrays.toString(samples.stream()
                .map(s -> String.format("%.0f/%.0f", s[0], s[1])).toArray()));
    }

    /** A handle that acquires and closes the lock once, through the build in {@code jar}. */
    private static MethodHandle op(String jar, ClassLoader parent, Path lock) throws Throwable {
        ClassLoader loader = new URLClassLoader(new URL[] {Path.of(jar).toUri().toURL()}, parent);
        Class<?> locket = loader.loadClass("io.github.locket.Locket");
        Class<?> lockFileClass = loader.loadClass("io.github.locket.LockFile");
        Class<?> lockClass = loader.loadClass("io.github.locket.Lock");
        Object lockFile = locket.getMethod("lockFile", Path.class).invoke(null, lock);
        MethodHandles.Lookup lookup = MethodHandles.publicLookup();
        MethodHandle acquire = lookup.findVirtual(lockFileClass, "acquire", MethodType.methodType(lockClass)).bindTo(lockFile);
        MethodHandle close = lookup.findVirtual(lockClass, "close", MethodType.methodType(void.class));
        return MethodHandles.filterReturnValue(acquire, close).asType(MethodType.methodType(void.class));
    }

    private static double median(double[] sorted) {
        return sorted[sorted.length / 2];
    }
}
