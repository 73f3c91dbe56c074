package io.github.locket.benchmarks;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.CompletionHandler;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The Java side of a cross-process benchmark: one process that takes and gives back one lock file
 * when told to, over standard input and output. {@code src/main/python/peer.py} speaks the same
 * protocol for Python's locket.
 *
 * <pre>
 *   acquire            -> held
 *   wait               -> waiting, then (once acquired) got &lt;t1&gt;, released at once
 *   release            -> released &lt;t0&gt;   (t0 read just before the release call)
 *   loop &lt;start&gt; &lt;end&gt; -> count &lt;n&gt;      (acquire+release from start to end)
 *   quit
 * </pre>
 *
 * Times are {@link System#nanoTime()}, which on Linux reads CLOCK_MONOTONIC: one clock for every
 * process on the machine, the same that Python's {@code time.monotonic_ns()} reads.
 *
 * <p>Strategies: {@code locket-timeout} (Locket with a 60 s timeout), {@code locket} (no timeout),
 * {@code raw-flock} (Locket's protocols by hand: {@code FileChannel.lock} then a blocking {@code
 * flock(2)}),
 * {@code locket-async} (acquireAsync().join(), 60 s timeout), {@code raw} (blocking {@code
 * FileChannel.lock(0, 1, false)} on an open channel), {@code raw-async} ({@code
 * AsynchronousFileChannel.lock(0, 1, false).get()} on an open channel). Two more split the
 * hand-off in two, answering {@code got <t1> <tg>} where tg is when the thread that saw the grant
 * handed it on: {@code locket-split} (acquireAsync(), stamped in a callback) and {@code
 * raw-async-split} (AsynchronousFileChannel with a CompletionHandler).
 */
public final class Peer {
    private Peer() {}

    interface Strategy {
        void acquire() throws Exception;

        void release() throws Exception;

        /** For the split strategies: when the thread that saw the grant handed it on; else 0. */
        default long granted() {
            return 0;
        }
    }

    public static void main(String[] args) throws Exception {
        Strategy s = strategy(args[0], Path.of(args[1]));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        out.println("ready");
        out.flush();
        for (String line; (line = in.readLine()) != null; ) {
            String[] w = line.trim().split(" ");
            switch (w[0]) {
                case "acquire":
                    s.acquire();
                    out.println("held");
                    break;
                case "wait": {
                    out.println("waiting");
                    out.flush();
                    s.acquire();
                    long t1 = System.nanoTime();
                    s.release();
                    long granted = s.granted();
                    out.println("got " + t1 + (granted != 0 ? " " + granted : ""));
                    break;
                }
                case "release": {
                    long t0 = System.nanoTime();
                    s.release();
                    out.println("released " + t0);
                    break;
                }
                case "loop": {
                    long start = Long.parseLong(w[1]);
                    long end = Long.parseLong(w[2]);
                    while (System.nanoTime() < start) {
                        Thread.onSpinWait();
                    }
                    long n = 0;
                    while (System.nanoTime() < end) {
                        s.acquire();
                        s.release();
                        n++;
                    }
                    out.println("count " + n);
                    break;
                }
                case "quit":
                    out.flush();
                    System.exit(0);
                    break;
                default:
                    throw new IllegalArgumentException("unknown command: " + line);
            }
            out.flush();
        }
    }

    static Strategy strategy(String name, Path path) throws Exception {
        switch (name) {
            case "locket-timeout":
                return locket(Locket.lockFile(path, Duration.ofSeconds(60)), false);
            case "locket":
                return locket(Locket.lockFile(path), false);
            case "locket-async":
                return locket(Locket.lockFile(path, Duration.ofSeconds(60)), true);
            case "raw-flock": {
                // The same protocols as Locket, by hand: FileChannel's fcntl lock, then flock(2) on a
                // descriptor of its own (blocking), released in the reverse order.
                FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
                RawLocks flock = new RawLocks(path, true);
                return new Strategy() {
                    FileLock held;

                    @Override
                    public void acquire() throws Exception {
                        held = ch.lock(0, 1, false);
                        flock.flockOnly(true);
                    }

                    @Override
                    public void release() throws Exception {
                        flock.flockOnly(false);
                        held.release();
                    }
                };
            }
            case "raw": {
                FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
                return new Strategy() {
                    FileLock held;

                    @Override
                    public void acquire() throws Exception {
                        held = ch.lock(0, 1, false);
                    }

                    @Override
                    public void release() throws Exception {
                        held.release();
                    }
                };
            }
            case "raw-async": {
                AsynchronousFileChannel ch = AsynchronousFileChannel.open(
                        path, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
                return new Strategy() {
                    FileLock held;

                    @Override
                    public void acquire() throws Exception {
                        held = ch.lock(0, 1, false).get();
                    }

                    @Override
                    public void release() throws Exception {
                        held.release();
                    }
                };
            }
            case "locket-split": {
                // acquireAsync(), stamping the moment the future completes on Locket's thread.
                LockFile lockFile = Locket.lockFile(path, Duration.ofSeconds(60));
                return new Strategy() {
                    Lock held;
                    volatile long granted;

                    @Override
                    public void acquire() {
                        granted = 0;
                        held = lockFile.acquireAsync().thenApply(l -> {
                            granted = System.nanoTime();
                            return l;
                        }).join();
                    }

                    @Override
                    public void release() {
                        held.close();
                    }

                    @Override
                    public long granted() {
                        return granted;
                    }
                };
            }
            case "raw-async-split": {
                // AsynchronousFileChannel.lock with a CompletionHandler, stamping on the pool thread.
                AsynchronousFileChannel ch = AsynchronousFileChannel.open(
                        path, StandardOpenOption.WRITE, StandardOpenOption.CREATE);
                return new Strategy() {
                    FileLock held;
                    volatile long granted;

                    @Override
                    public void acquire() {
                        granted = 0;
                        CompletableFuture<FileLock> f = new CompletableFuture<>();
                        ch.lock(0, 1, false, null, new CompletionHandler<FileLock, Void>() {
                            @Override
                            public void completed(FileLock result, Void unused) {
                                granted = System.nanoTime();
                                f.complete(result);
                            }

                            @Override
                            public void failed(Throwable exc, Void unused) {
                                f.completeExceptionally(exc);
                            }
                        });
                        held = f.join();
                    }

                    @Override
                    public void release() throws Exception {
                        held.release();
                    }

                    @Override
                    public long granted() {
                        return granted;
                    }
                };
            }
            default:
                throw new IllegalArgumentException("unknown strategy: " + name);
        }
    }

    private static Strategy locket(LockFile lockFile, boolean async) {
        return new Strategy() {
            Lock held;

            @Override
            public void acquire() throws Exception {
                held = async ? lockFile.acquireAsync().join() : lockFile.acquire();
            }

            @Override
            public void release() {
                held.close();
            }
        };
    }
}
