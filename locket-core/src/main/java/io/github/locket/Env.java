package io.github.locket;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Everything a lock file's machinery depends on, in one object: the executors, the file opener
 * (with its native binding), the registry of open files and the leak backstop. The library uses
 * {@link #standard()}; tests build their own with a fault injected and a registry of their own, so
 * that a race can be made to happen at a chosen step rather than hoped for.
 */
final class Env {
    final ExecutorService io;
    final ScheduledExecutorService timer;
    final FileOpener opener;
    final Registry registry;
    final Leaks leaks;
    final Registry.Identity identity;
    /** Whether closing a descriptor drops the process's other locks on the file (POSIX). */
    final boolean posixClose;

    Env(ExecutorService io, ScheduledExecutorService timer, FileOpener opener, boolean posixClose) {
        this(io, timer, opener, posixClose, Registry.Identity.STAT);
    }

    Env(ExecutorService io, ScheduledExecutorService timer, FileOpener opener, boolean posixClose,
            Registry.Identity identity) {
        this.io = io;
        this.identity = identity;
        this.timer = timer;
        this.opener = opener;
        this.posixClose = posixClose;
        this.registry = new Registry(this);
        this.leaks = new Leaks(this);
    }

    /** The JVM-wide environment of {@link Locket#lockFile}. */
    static Env standard() {
        return Standard.ENV;
    }

    /** A fresh environment over the library's threads and binding, with {@code opener}. */
    static Env with(FileOpener opener) {
        return new Env(Threads.io(), Threads.timer(), opener, !Platform.windows());
    }

    /** The library's opener, with this JVM's binding: {@link FileOpener#standard} with {@code step}. */
    static FileOpener standardOpener(FileOpener.Step step) {
        return FileOpener.standard(Platform.sys(), Platform.flock(), step);
    }

    private static final class Standard {
        static final Env ENV = with(standardOpener(FileOpener.Step.NONE));
    }
}
