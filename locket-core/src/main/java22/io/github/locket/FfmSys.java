package io.github.locket;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.Charset;
import java.nio.file.Path;

/**
 * {@link Sys} through the Foreign Function and Memory API (Java 22 and later), in the multi-release
 * JAR only.
 *
 * <p>Linking is a restricted operation: the JVM refuses it ({@link IllegalCallerException}) when
 * native access is denied to this module, and warns once when it is merely not granted. The handles
 * are linked once, in {@link Natives}' initializer, and kept in static finals (constants to the
 * JIT); {@link #loadOrNull} returns a working binding, or null if that initializer failed.
 */
final class FfmSys implements Sys {
    /** The linked functions: initialised by {@link #loadOrNull}, which catches the refusal. */
    private static final class Natives {
        static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
        static final long ERRNO = CAPTURED.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
        static final MethodHandle OPEN;
        static final MethodHandle CLOSE;
        static final MethodHandle FLOCK;
        static final MethodHandle FCNTL;
        static final MethodHandle PTHREAD_SELF;
        static final MethodHandle PTHREAD_KILL;
        static final MethodHandle SIGACTION;

        static {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            // open and fcntl are variadic: the mode and the struct pointer are their variadic parts.
            OPEN = link(linker, libc, "open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                    Linker.Option.firstVariadicArg(2), errno);
            CLOSE = link(linker, libc, "close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), errno);
            FLOCK = link(linker, libc, "flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errno);
            FCNTL = link(linker, libc, "fcntl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS),
                    Linker.Option.firstVariadicArg(2), errno);
            PTHREAD_SELF = link(linker, libc, "pthread_self", FunctionDescriptor.of(JAVA_LONG));
            PTHREAD_KILL = link(linker, libc, "pthread_kill", FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_INT));
            SIGACTION = link(linker, libc, "sigaction", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        }

        // Linking is restricted: it needs native access (see the class comment), which is
        // exactly what loadOrNull checks by initialising this class.
        @SuppressWarnings("restricted")
        private static MethodHandle link(Linker linker, SymbolLookup libc, String name, FunctionDescriptor f,
                Linker.Option... options) {
            MemorySegment symbol = libc.find(name)
                    .orElseThrow(() -> new UnsatisfiedLinkError(name + " not found in the C library"));
            return linker.downcallHandle(symbol, f, options);
        }
    }

    /** Per-thread scratch memory: the captured errno and one struct flock. */
    private static final class Scratch {
        final MemorySegment captured = Arena.ofAuto().allocate(Natives.CAPTURED);
        final MemorySegment flock = Arena.ofAuto().allocate(FLOCK_SIZE, 8);

        int errno() {
            return captured.get(JAVA_INT, Natives.ERRNO);
        }
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** The JDK encodes file names with {@code sun.jnu.encoding}; so must we, to open the same file. */
    private static final Charset FILE_NAMES = fileNameCharset();

    private static Charset fileNameCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding"));
        } catch (RuntimeException absentOrUnknown) {
            return Charset.defaultCharset();
        }
    }

    private FfmSys(MethodHandle linked) {
        java.util.Objects.requireNonNull(linked); // reading it initialised Natives, or threw
    }

    /**
     * Links the natives (once, in the class initializer).
     *
     * @return the binding, or null if the JVM refuses native access or cannot link libc
     */
    static Sys loadOrNull() {
        try {
            return new FfmSys(Natives.OPEN);
        } catch (LinkageError | RuntimeException refused) {
            // ExceptionInInitializerError (wrapping IllegalCallerException when native access is
            // denied, or UnsatisfiedLinkError) the first time, NoClassDefFoundError after that.
            return null;
        }
    }

    @Override
    public int open(Path path, int flags, int mode) {
        byte[] name = path.toString().getBytes(FILE_NAMES);
        Scratch s = SCRATCH.get();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment cName = arena.allocate(name.length + 1L);
            MemorySegment.copy(name, 0, cName, JAVA_BYTE, 0, name.length);
            cName.set(JAVA_BYTE, name.length, (byte) 0);
            for (;;) {
                int fd = (int) Natives.OPEN.invokeExact(s.captured, cName, flags, mode);
                if (fd >= 0) {
                    return fd;
                }
                int errno = s.errno();
                if (errno != EINTR) {
                    return -errno;
                }
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int close(int fd) {
        Scratch s = SCRATCH.get();
        try {
            return (int) Natives.CLOSE.invokeExact(s.captured, fd) == 0 ? 0 : s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int flock(int fd, int operation) {
        Scratch s = SCRATCH.get();
        try {
            return (int) Natives.FLOCK.invokeExact(s.captured, fd, operation) == 0 ? 0 : s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int fcntlLock(int fd, int cmd, int type, long start, long length) {
        Scratch s = SCRATCH.get();
        fill(s.flock, type, start, length);
        try {
            return (int) Natives.FCNTL.invokeExact(s.captured, fd, cmd, s.flock) == 0 ? 0 : s.errno();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public long[] fcntlGetLock(int fd, int cmd, int type, long start, long length) {
        Scratch s = SCRATCH.get();
        MemorySegment fl = s.flock;
        fill(fl, type, start, length);
        try {
            if ((int) Natives.FCNTL.invokeExact(s.captured, fd, cmd, fl) != 0) {
                return new long[] {-s.errno()};
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        return new long[] {fl.get(JAVA_SHORT, FLOCK_TYPE), fl.get(JAVA_INT, FLOCK_PID), fl.get(JAVA_LONG, FLOCK_START),
            fl.get(JAVA_LONG, FLOCK_LEN)};
    }

    private static void fill(MemorySegment fl, int type, long start, long length) {
        fl.fill((byte) 0);
        fl.set(JAVA_SHORT, FLOCK_TYPE, (short) type);
        fl.set(JAVA_LONG, FLOCK_START, start);
        fl.set(JAVA_LONG, FLOCK_LEN, length);
    }

    @Override
    public long pthreadSelf() {
        try {
            return (long) Natives.PTHREAD_SELF.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public int pthreadKill(long thread, int signal) {
        try {
            return (int) Natives.PTHREAD_KILL.invokeExact(thread, signal);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public boolean interrupts(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment old = arena.allocate(SIGACTION_SIZE, 8);
            if ((int) Natives.SIGACTION.invokeExact(signal, MemorySegment.NULL, old) != 0) {
                return false;
            }
            long handler = old.get(JAVA_LONG, 0);
            return handler != 0 && handler != 1 && (old.get(JAVA_INT, SIGACTION_FLAGS) & SA_RESTART) == 0;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public String name() {
        return "FFM";
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        } else if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t); // invokeExact declares Throwable; natives throw nothing
    }
}
