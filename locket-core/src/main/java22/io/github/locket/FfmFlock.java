package io.github.locket;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.Charset;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * {@code flock(2)} through the Foreign Function and Memory API (Java 22 and later), in the
 * multi-release JAR only.
 *
 * <p>Linking is a restricted operation: the JVM refuses it ({@link IllegalCallerException}) when
 * native access is denied to this module, and warns once when it is merely not granted. The
 * handles are linked once, in {@link Natives}' initializer, and kept in static finals (constants to
 * the JIT); {@link #loadOrNull} returns a working binding, or null if that initializer failed.
 */
final class FfmFlock implements Flock {
    /** The linked functions: initialised by {@link #loadOrNull}, which catches the refusal. */
    private static final class Natives {
        static final StructLayout CAPTURED = Linker.Option.captureStateLayout();
        static final long ERRNO = CAPTURED.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
        /** {@code int open(const char *path, int flags, ...)}, errno captured (a leading argument). */
        static final MethodHandle OPEN;
        /** {@code int flock(int fd, int operation)}, errno captured. */
        static final MethodHandle FLOCK;
        /** {@code int close(int fd)}. */
        static final MethodHandle CLOSE;

        static {
            Linker linker = Linker.nativeLinker();
            SymbolLookup libc = linker.defaultLookup();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            // open is variadic: the mode (for O_CREAT) is its variadic part.
            OPEN = link(linker, libc, "open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
                    Linker.Option.firstVariadicArg(2), errno);
            FLOCK = link(linker, libc, "flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), errno);
            CLOSE = link(linker, libc, "close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
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

    /** The JDK encodes file names with {@code sun.jnu.encoding}; so must we, to open the same file. */
    private static final Charset FILE_NAMES = fileNameCharset();

    private static Charset fileNameCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding"));
        } catch (RuntimeException absentOrUnknown) {
            return Charset.defaultCharset();
        }
    }

    private final int fd;
    private final Path path;
    /** errno of this descriptor's calls, which are serialised by the FileEntry's monitor. */
    private final MemorySegment captured = Arena.ofAuto().allocate(Natives.CAPTURED);

    private FfmFlock(int fd, Path path) {
        this.fd = fd;
        this.path = path;
    }

    /**
     * Links the natives (once, in the class initializer).
     *
     * @return the binding, or null if the JVM refuses native access or cannot link libc
     */
    static Flock.Opener loadOrNull() {
        try {
            return new Binding(Natives.OPEN);
        } catch (LinkageError | RuntimeException refused) {
            // ExceptionInInitializerError (wrapping IllegalCallerException when native access is
            // denied, or UnsatisfiedLinkError) the first time, NoClassDefFoundError after that.
            return null;
        }
    }

    static final class Binding implements Flock.Opener {
        private Binding(MethodHandle linked) {
            Objects.requireNonNull(linked); // reading it initialised Natives, or threw
        }

        @Override
        public Flock open(Path path) throws IOException {
            byte[] name = path.toString().getBytes(FILE_NAMES);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment cName = arena.allocate(name.length + 1L);
                MemorySegment.copy(name, 0, cName, JAVA_BYTE, 0, name.length);
                cName.set(JAVA_BYTE, name.length, (byte) 0);
                MemorySegment captured = arena.allocate(Natives.CAPTURED);
                for (;;) {
                    int fd = (int) Natives.OPEN.invokeExact(captured, cName, OPEN_FLAGS, MODE_0666);
                    if (fd >= 0) {
                        return new FfmFlock(fd, path);
                    }
                    int errno = captured.get(JAVA_INT, Natives.ERRNO);
                    if (errno != EINTR) {
                        throw Flock.openFailure(path, errno);
                    }
                }
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(t); // invokeExact declares Throwable; natives throw nothing
            }
        }
    }

    @Override
    public boolean tryLock() throws IOException {
        for (;;) {
            if (flock(LOCK_EX | LOCK_NB) == 0) {
                return true;
            }
            int errno = captured.get(JAVA_INT, Natives.ERRNO);
            if (errno == EWOULDBLOCK) {
                return false;
            } else if (errno != EINTR) {
                throw failure(path, "flock(2)", errno);
            }
        }
    }

    @Override
    public void unlock() throws IOException {
        if (flock(LOCK_UN) != 0) {
            throw failure(path, "flock(2) unlock", captured.get(JAVA_INT, Natives.ERRNO));
        }
    }

    @Override
    public int fd() {
        return fd;
    }

    @Override
    public void close() {
        try {
            int ignored = (int) Natives.CLOSE.invokeExact(fd); // the descriptor is gone whatever it returns
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private int flock(int operation) {
        try {
            return (int) Natives.FLOCK.invokeExact(captured, fd, operation);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        } else if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t); // invokeExact declares Throwable; natives throw nothing
    }

    private static IOException failure(Path path, String call, int errno) {
        return new FileSystemException(path.toString(), null, Flock.describe(call, errno));
    }
}
