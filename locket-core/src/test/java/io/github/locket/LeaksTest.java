package io.github.locket;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The leak backstop's tick, on a timer the test fires by hand: it runs while a grant is held and
 * for {@link Leaks#IDLE_TICKS} ticks after the last grant, so that a grant in a JVM that takes
 * locks now and then finds the tick already scheduled and never has to wake the timer thread.
 */
class LeaksTest {
    private final ManualTimer timer = new ManualTimer();
    private final Leaks leaks = new Env(new Inline(), timer, Env.standardOpener(FileOpener.Step.NONE), true).leaks;

    @Test
    void aGrantSoonAfterTheLastFindsTheTickScheduled() {
        leaks.granted();
        leaks.released();
        assertThat(timer.scheduled).as("the first grant starts the tick").isEqualTo(1);
        for (int i = 0; i < Leaks.IDLE_TICKS - 1; i++) {
            timer.fire();
        }
        assertThat(timer.pending()).as("still ticking, %d ticks after the release", Leaks.IDLE_TICKS - 1).isEqualTo(1);
        int before = timer.scheduled;
        leaks.granted();
        leaks.released();
        assertThat(timer.scheduled).as("a grant while the tick is scheduled schedules nothing").isEqualTo(before);
        assertThat(timer.pending()).isEqualTo(1);
    }

    @Test
    void theTickStopsIdleTicksAfterTheLastGrantAndTheNextGrantStartsIt() {
        leaks.granted();
        leaks.released();
        for (int i = 0; i < Leaks.IDLE_TICKS; i++) { // the first sees the grant, and nothing held
            timer.fire();
        }
        assertThat(timer.pending()).as("stopped after %d idle ticks", Leaks.IDLE_TICKS).isZero();
        int before = timer.scheduled;
        leaks.granted();
        assertThat(timer.scheduled).as("the next grant starts it again").isEqualTo(before + 1);
        assertThat(timer.pending()).isEqualTo(1);
    }

    @Test
    void theTickNeverStopsWhileAGrantIsHeld() {
        leaks.granted();
        for (int i = 0; i < 3 * Leaks.IDLE_TICKS; i++) {
            timer.fire();
        }
        assertThat(timer.pending()).isEqualTo(1);
        leaks.released();
        for (int i = 0; i < Leaks.IDLE_TICKS; i++) {
            timer.fire();
        }
        assertThat(timer.pending()).isZero();
    }

    private static final class Inline extends ExecuteOnly {
        @Override
        public void execute(Runnable command) {
            command.run();
        }
    }

    /** Keeps what is scheduled until the test fires it; counts the calls to schedule. */
    private static final class ManualTimer extends ExecuteOnly implements ScheduledExecutorService {
        private final Deque<Runnable> tasks = new ArrayDeque<>();
        int scheduled;

        int pending() {
            return tasks.size();
        }

        /** Runs the earliest task (the tick schedules its successor from inside). */
        void fire() {
            Runnable next = tasks.poll();
            assertThat(next).as("a scheduled tick").isNotNull();
            next.run();
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            scheduled++;
            tasks.add(command);
            return new Pending<>();
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void execute(Runnable command) {
            command.run();
        }
    }

    private static final class Pending<V> extends CompletableFuture<V> implements ScheduledFuture<V> {
        @Override
        public long getDelay(TimeUnit unit) {
            return 0;
        }

        @Override
        public int compareTo(Delayed o) {
            return 0;
        }
    }
}
