package io.github.locket.postgres;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.Wrapped;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * The smallest connection pool that behaves like r2dbc-pool where it matters here: {@code close()}
 * gives the session back, still open, to the next {@code create()}, and the handed-out connection
 * is a wrapper that unwraps to the driver's. So whatever a lock leaves in a session (a held
 * advisory lock, a late cancel) meets the next user.
 */
final class TestPool implements ConnectionFactory {
    private final ConnectionFactory factory;
    private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();
    final AtomicInteger opened = new AtomicInteger();

    TestPool(ConnectionFactory factory) {
        this.factory = factory;
    }

    @Override
    public Publisher<? extends Connection> create() {
        return Mono.defer(() -> {
            Connection c = idle.poll();
            if (c != null) {
                return Mono.just(wrap(c));
            }
            opened.incrementAndGet();
            return Mono.from(factory.create()).map(this::wrap);
        });
    }

    private Connection wrap(Connection real) {
        InvocationHandler h = new InvocationHandler() {
            private boolean closed;

            @Override
            public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
                switch (m.getName()) {
                    case "close":
                        return Mono.fromRunnable(() -> {
                            synchronized (this) {
                                if (closed) {
                                    return;
                                }
                                closed = true;
                            }
                            idle.add(real);
                        });
                    case "unwrap":
                        return real;
                    case "toString":
                        return "pooled(" + real + ")";
                    case "hashCode":
                        return System.identityHashCode(proxy);
                    case "equals":
                        return proxy == args[0];
                    default:
                        try {
                            return m.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                }
            }
        };
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {Connection.class, Wrapped.class}, h);
    }

    /** Closes the idle sessions for real. */
    void closeIdle() {
        for (Connection c; (c = idle.poll()) != null; ) {
            Mono.from(c.close()).block();
        }
    }

    @Override
    public ConnectionFactoryMetadata getMetadata() {
        return factory.getMetadata();
    }

    @Override
    public String toString() {
        return "TestPool(" + factory + ")";
    }
}
