package io.github.locket.postgres;

import io.github.locket.Lock;
import io.github.locket.LockTimeoutException;
import io.github.locket.NamedLock;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Objects;
import reactor.core.publisher.Mono;

/**
 * Locket's lock across hosts: a {@link NamedLock} held as a PostgreSQL session-level advisory lock,
 * taken without blocking through R2DBC ({@code r2dbc-postgresql}).
 *
 * <pre>{@code
 * NamedLock nightly = PostgresLocket.lock(connectionFactory, "nightly-report", Duration.ofSeconds(30));
 * try (Lock lock = nightly.acquire()) {
 *     runNightlyJob(); // no other thread, on any host using this database, is here
 * }
 * }</pre>
 *
 * <h2>Semantics</h2>
 *
 * Exactly a {@link io.github.locket.LockFile}'s, with a database in place of a file:
 *
 * <ul>
 *   <li><b>One lock per name</b> and database: every {@code NamedLock} made here for the same name,
 *       in this JVM or any other process on any host connected to the same PostgreSQL database
 *       (strictly: the same cluster; advisory locks are per database), is one lock. The name is
 *       turned into the advisory lock's 64-bit key by {@link #key(String)}, a documented hash.
 *   <li>Each successful acquisition returns a new {@link Lock}, held until that handle is closed by
 *       any thread; closing twice is harmless. Not reentrant: acquiring a lock this thread already
 *       holds waits or times out, like any other acquisition (each acquisition is its own session).
 *   <li><b>A pinned connection.</b> Each acquisition takes one connection from the factory, for the
 *       wait and then for as long as the lock is held; closing the {@code Lock} runs {@code
 *       pg_advisory_unlock} on it and then closes it (to a pool: gives it back). Size a connection
 *       pool for the waiters and holders as well as the queries.
 *   <li><b>A dead holder frees the lock.</b> PostgreSQL ends a session whose client process died
 *       (its socket closes) and releases its advisory locks; a waiter elsewhere gets the lock at
 *       once. A silent network partition is noticed only by TCP keepalives or a server timeout: see
 *       {@link #lost(Lock)} and {@link #fencingToken(Lock)} for what a holder should do.
 *   <li>Waiters are granted in the order PostgreSQL's lock manager grants them (first come, first
 *       served for one key).
 * </ul>
 *
 * <h2>Timeouts</h2>
 *
 * With no timeout ({@link #lock(ConnectionFactory, String)}), {@link NamedLock#acquire()} and
 * {@link NamedLock#acquireAsync()} wait as long as it takes; with {@link Duration#ZERO} they make one
 * attempt ({@code pg_try_advisory_lock}) and fail with {@link LockTimeoutException} if the lock is
 * held; with a positive timeout they fail with {@link LockTimeoutException} (naming the lock and the
 * timeout) when it expires. The timeout counts from the call and includes getting a connection.
 * Nothing polls: the wait is one {@code pg_advisory_lock} statement, which the server answers when
 * the lock is granted; a timer on Reactor's parallel scheduler abandons it when the timeout expires.
 * {@link NamedLock#tryAcquire()} always makes one attempt.
 *
 * <h2>Cancellation, timeouts and interrupts</h2>
 *
 * Each outcome, and who releases a grant that meets it:
 *
 * <ul>
 *   <li><b>The future of {@code acquireAsync()} is completed from outside</b> ({@code cancel},
 *       {@code orTimeout}, {@code completeExceptionally}, {@code complete}) or <b>the timeout
 *       expires</b>: the wait is abandoned. While the connection is still being opened, it is closed
 *       when it arrives. While {@code pg_advisory_lock} waits, a PostgreSQL {@code CancelRequest} (what
 *       {@code pg_cancel_backend} sends) stops the statement; because a grant can race with the
 *       cancel (the server may grant the lock and still report the statement cancelled),
 *       {@code pg_advisory_unlock} then always runs on that connection before it is closed. So a
 *       grant that races with the abandonment is released, never leaked, and the connection goes
 *       back holding nothing. If the cancel cannot be delivered, the connection is closed instead,
 *       and the server releases whatever that session holds when it ends.
 *   <li><b>A grant that arrives after the future was completed</b> from outside is released the same
 *       way; nothing is ever held for a future that did not complete with the lock.
 *   <li><b>An interrupt</b> before or during a blocking {@code acquire()} ends it with {@link
 *       InterruptedException} and abandons the wait as above, even if the lock was granted in the
 *       same instant (that grant is released). An interrupt during {@code tryAcquire()} ends it with
 *       {@link java.io.InterruptedIOException}, holding nothing, with the interrupt status kept.
 *   <li><b>The connection fails</b> while waiting: the acquisition fails with an {@link
 *       java.io.IOException} naming the lock; the ended session holds nothing.
 *   <li><b>The connection fails while held</b> (server restart, {@code pg_terminate_backend}, a
 *       network failure the driver sees): the server has released the lock, so the {@code Lock}
 *       reports it: {@link Lock#isHeld()} turns false, {@link #lost(Lock)} fails with {@link
 *       LockLostException}, and a warning is logged. Closing the handle then does nothing.
 *   <li><b>The JVM dies</b> (even {@code kill -9}): its sockets close, and PostgreSQL ends the
 *       sessions and frees their locks.
 *   <li><b>A {@code Lock} dropped while held</b> is released by Locket's garbage-collector backstop,
 *       with a warning, like a lock file's.
 * </ul>
 *
 * <h2>Threads</h2>
 *
 * Futures complete on the driver's I/O threads (Reactor Netty's event loop, {@code reactor-tcp-*}):
 * keep dependent actions short and never block in them (use the {@code *Async} variants of {@link
 * java.util.concurrent.CompletableFuture} otherwise). {@link Lock#close()} never blocks: it sends
 * the unlock and returns. A blocking {@code acquire()} must not run on an event-loop thread.
 *
 * <h2>Thread safety and memory effects</h2>
 *
 * This class and the locks it makes are immutable and thread-safe. In one JVM, the actions of a
 * thread before it closes a {@code Lock} <i>happen-before</i> the actions that follow the
 * acquisition that next obtains the same lock. Across processes, the database orders them: the
 * unlock is committed before the next holder's grant.
 *
 * <h2>Pitfalls</h2>
 *
 * A connection pooler in transaction mode (PgBouncer {@code pool_mode=transaction} or {@code
 * statement}) breaks session-level advisory locks: give locks a direct connection or a session-mode
 * pool. See the module's README for this, partitions, and fencing.
 */
public final class PostgresLocket {
    private PostgresLocket() {}

    /**
     * Returns the lock named {@code name}, which waits as long as it takes. Does not connect: each
     * acquisition takes a connection from {@code factory} then.
     *
     * @param factory where connections come from: {@code r2dbc-postgresql}'s factory, or a pool of
     *     its connections (which must unwrap to {@code io.r2dbc.postgresql.api.PostgresqlConnection})
     * @param name the lock's name; any non-empty string (well-formed UTF-16)
     * @return the lock
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code name} is empty or not well-formed UTF-16
     */
    public static NamedLock lock(ConnectionFactory factory, String name) {
        Objects.requireNonNull(factory, "factory");
        return new PgLock(factory, name, key(name), null, Seams.NONE);
    }

    /**
     * Returns the lock named {@code name} with a timeout. Does not connect.
     *
     * @param factory where connections come from (see {@link #lock(ConnectionFactory, String)})
     * @param name the lock's name; any non-empty string (well-formed UTF-16)
     * @param timeout how long {@code acquire()} and {@code acquireAsync()} wait; {@link
     *     Duration#ZERO} for a single attempt
     * @return the lock
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code name} is empty or not well-formed UTF-16, or
     *     {@code timeout} is negative
     */
    public static NamedLock lock(ConnectionFactory factory, String name, Duration timeout) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(timeout, "timeout");
        long key = key(name);
        PgLock.checkTimeout(name, timeout);
        return new PgLock(factory, name, key, timeout, Seams.NONE);
    }

    /**
     * Returns the lock named {@code name} in shared mode, which waits as long as it takes: any
     * number of shared holders hold it together ({@code pg_advisory_lock_shared}), and they exclude
     * every exclusive holder of the same name ({@link #lock(ConnectionFactory, String)}), and it
     * them. The server queues a shared request behind a waiting exclusive one, so a stream of
     * readers cannot starve a writer. There is no upgrade from shared to exclusive: two shared
     * holders that both tried would wait for each other forever; release, then acquire exclusive.
     * Everything else (connections, cancellation, loss, fencing tokens) is as for {@link
     * #lock(ConnectionFactory, String)}. Does not connect.
     *
     * @param factory where connections come from (see {@link #lock(ConnectionFactory, String)})
     * @param name the lock's name; any non-empty string (well-formed UTF-16)
     * @return the lock, in shared mode
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code name} is empty or not well-formed UTF-16
     */
    public static NamedLock lockShared(ConnectionFactory factory, String name) {
        Objects.requireNonNull(factory, "factory");
        return new PgLock(factory, name, key(name), null, Seams.NONE, true);
    }

    /**
     * Returns the lock named {@code name} in shared mode (see {@link #lockShared(ConnectionFactory,
     * String)}) with a timeout. Does not connect.
     *
     * @param factory where connections come from (see {@link #lock(ConnectionFactory, String)})
     * @param name the lock's name; any non-empty string (well-formed UTF-16)
     * @param timeout how long {@code acquire()} and {@code acquireAsync()} wait; {@link
     *     Duration#ZERO} for a single attempt
     * @return the lock, in shared mode
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code name} is empty or not well-formed UTF-16, or
     *     {@code timeout} is negative
     */
    public static NamedLock lockShared(ConnectionFactory factory, String name, Duration timeout) {
        Objects.requireNonNull(factory, "factory");
        Objects.requireNonNull(timeout, "timeout");
        long key = key(name);
        PgLock.checkTimeout(name, timeout);
        return new PgLock(factory, name, key, timeout, Seams.NONE, true);
    }

    /**
     * Returns the advisory lock key of the lock named {@code name}: the first 8 bytes, read as a
     * big-endian signed {@code long}, of the SHA-256 digest of the name's UTF-8 encoding. The same
     * name gives the same key in every version of Locket, on every platform.
     *
     * <p>In SQL: {@code ('x' || left(encode(sha256(convert_to(name, 'UTF8')), 'hex'), 16))::bit(64)::bigint}.
     * In {@code pg_locks} the lock shows as {@code locktype = 'advisory'}, {@code classid} = the
     * key's high 32 bits and {@code objid} = its low 32 bits (both unsigned), {@code objsubid = 1}.
     *
     * <p>A 64-bit hash makes two names sharing a key a chance of about n&sup2;/2<sup>65</sup> for n
     * names: negligible. Other code in the same database that takes advisory locks on small integer
     * keys does not meet these.
     *
     * @param name the lock's name
     * @return the key
     * @throws NullPointerException if {@code name} is null
     * @throws IllegalArgumentException if {@code name} is empty or not well-formed UTF-16
     */
    public static long key(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("lock name is empty");
        }
        ByteBuffer utf8;
        try {
            utf8 = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(name));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("lock name is not well-formed UTF-16 (a lone surrogate): "
                    + name.codePoints().mapToObj(c -> String.format("U+%04X", c)).toList(), e);
        }
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        sha256.update(utf8);
        return ByteBuffer.wrap(sha256.digest()).getLong();
    }

    /**
     * Tells the holder of a lock made here when it loses the lock: a {@code Mono} that fails with
     * {@link LockLostException} as soon as this JVM learns that the connection holding {@code lock}
     * ended while the lock was held (so the server released it, and another process may hold it
     * now), and completes empty when {@code lock} is closed first. A subscription after either
     * receives the same signal at once.
     *
     * <p><b>When to use it.</b> A holder whose work takes a while and touches something shared should
     * stop when the lock is gone, for example with Reactor:
     *
     * <pre>{@code
     * ReactiveLocket.withLock(lock, held -> work().takeUntilOther(PostgresLocket.lost(held)))
     * }</pre>
     *
     * which cancels {@code work()} and fails with {@link LockLostException} on loss. It is a prompt
     * signal, not a guarantee: the JVM learns of the loss when the driver sees the connection end (at
     * once when the server ends the session or the socket is reset; only after TCP gives up in a
     * silent network partition, while the server may already have let another holder in). Where a
     * second holder must never act, use a {@linkplain #fencingToken(Lock) fencing token} as well.
     *
     * @param lock a lock acquired from a {@code NamedLock} of this class
     * @return a {@code Mono} that fails on loss, completes on close
     * @throws NullPointerException if {@code lock} is null
     * @throws IllegalArgumentException if {@code lock} was not acquired from this class
     */
    public static Mono<Void> lost(Lock lock) {
        return PgGrant.of(lock).lost();
    }

    /**
     * Returns this grant's fencing token: a number that increases with every grant of the lock's
     * name that asks for one, in this and every other process, so that a resource can reject a stale
     * holder. The first call for a grant increments the name's counter in the table {@code
     * locket_fencing_tokens}, on the connection that holds the lock (so counters move in grant
     * order), and later calls return the same number. The table is created when missing; to create it
     * yourself (say, where the application's role may not create tables), see the module's README.
     *
     * <p><b>When to use it.</b> When a holder that lost its lock without knowing (a long GC pause, a
     * partition) must not overwrite a newer holder's work: pass the token with each write, and let
     * the resource keep the highest token it has seen and reject smaller ones, for example {@code
     * UPDATE report SET ..., token = $t WHERE id = $id AND token <= $t}. {@link #lost(Lock)} and
     * {@link Lock#isHeld()} only say what this JVM knows; the token check is made by the resource.
     *
     * <p>The {@code Mono} fails with {@link IllegalStateException} if the lock is no longer held, and
     * with a {@link java.io.IOException} naming the lock if the database refuses (a missing table the
     * role may not create, or a lost connection).
     *
     * @param lock a lock acquired from a {@code NamedLock} of this class
     * @return the grant's token, at least 1
     * @throws NullPointerException if {@code lock} is null
     * @throws IllegalArgumentException if {@code lock} was not acquired from this class
     */
    public static Mono<Long> fencingToken(Lock lock) {
        return PgGrant.of(lock).fencingToken();
    }
}
