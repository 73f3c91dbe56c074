package io.github.locket;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The library's own threads, all daemons, created on demand and gone after 10 s idle.
 *
 * <ul>
 *   <li>{@code locket-io-N}: operating-system lock waits (one per file being waited for), and the
 *       delivery of grants and timeouts to user futures.
 *   <li>{@code locket-timer}: fires timeouts and polls, handing each to an I/O thread at once,
 *       and while any lock is held, and for 5 s after the last grant, looks once a second
 *       for handles the garbage collector found dropped ({@link Leaks}).
 * </ul>
 */
final class Threads {
    private Threads() {}

    private static final class Io {
        static final ThreadPoolExecutor POOL = new ThreadPoolExecutor(
                0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(), factory("locket-io-"));
    }

    private static final class Timer {
        static final ScheduledThreadPoolExecutor POOL = timer();

        private static ScheduledThreadPoolExecutor timer() {
            ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, factory("locket-timer"));
            t.setRemoveOnCancelPolicy(true);
            t.setKeepAliveTime(10, TimeUnit.SECONDS);
            t.allowCoreThreadTimeOut(true);
            return t;
        }
    }

    static ExecutorService io() {
        return Io.POOL;
    }

    static ScheduledExecutorService timer() {
        return Timer.POOL;
    }

    private static ThreadFactory factory(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            String name = prefix.endsWith("-") ? prefix + count.incrementAndGet() : prefix;
            Thread t = new Thread(task, name);
            t.setDaemon(true);
            return t;
        };
    }
}
