package io.github.locket;

import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/** A test's executor that only runs tasks its own way: nothing to shut down, never terminated. */
abstract class ExecuteOnly extends AbstractExecutorService {
    @Override
    public final void shutdown() {}

    @Override
    public final List<Runnable> shutdownNow() {
        return List.of();
    }

    @Override
    public final boolean isShutdown() {
        return false;
    }

    @Override
    public final boolean isTerminated() {
        return false;
    }

    @Override
    public final boolean awaitTermination(long timeout, TimeUnit unit) {
        return false;
    }
}
