package io.github.locket.examples.readme;

import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.LockTimeoutException;
import io.github.locket.Locket;
import io.github.locket.NamedLock;
import io.github.locket.micrometer.LocketMetrics;
import io.github.locket.postgres.PostgresLocket;
import io.github.locket.reactor.ReactiveLocket;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

/**
 * Every Java snippet of the top-level README.md, verbatim and in order, between the markers, with
 * just enough around them to compile: this module compiles its tests with the project's {@code
 * -Xlint:all -Werror}, lint's "try" check included. {@link ReadmeSnippetsTest} fails when this file
 * and the README differ. Edit both together.
 *
 * <p>{@code @SuppressWarnings("try")}: {@code try (Lock lock = ...) { work(); }} never names
 * {@code lock} in its body, which lint's "try" check flags; it is the idiom, and the README says so.
 */
final class ReadmeSnippets {
    private final Service service = new Service();
    private final MeterRegistry meterRegistry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    private final ConnectionFactory connectionFactory = ConnectionFactories.get("r2dbc:postgresql://db.example/app");

    @SuppressWarnings("try")
    void intro() throws IOException, InterruptedException {
        // README snippet
        LockFile lockFile = Locket.lockFile(Path.of("/var/lock/nightly.lock"), Duration.ofSeconds(30));
        try (Lock lock = lockFile.acquire()) {
            runNightlyJob(); // no other thread, in this JVM or any other process, is here
        }
        // end
    }

    @SuppressWarnings("try")
    void blocking() throws IOException, InterruptedException {
        // README snippet
        LockFile forever = Locket.lockFile(Path.of("app.lock"));
        LockFile patient = Locket.lockFile(Path.of("app.lock"), Duration.ofSeconds(30));
        LockFile once = Locket.lockFile(Path.of("app.lock"), Duration.ZERO);

        try (Lock lock = patient.acquire()) {         // LockTimeoutException after 30 s
            work();
        }

        Optional<Lock> maybe = forever.tryAcquire(); // one non-blocking attempt, whatever the timeout
        maybe.ifPresent(lock -> { try (lock) { work(); } });
        // end
        once.timeout();
    }

    void completableFuture(LockFile patient) {
        // README snippet
        CompletableFuture<Lock> pending = patient.acquireAsync(); // never blocks this thread
        pending.thenAccept(lock -> {
            try (lock) {
                work();
            }
        });
        pending.cancel(false); // changed our mind: leaves the queue; a racing grant is released
        // end
    }

    // README snippet
    Mono<ServerResponse> handle(ServerRequest request) {
        LockFile lockFile = Locket.lockFile(Path.of("/var/lock/reports.lock"), Duration.ofSeconds(5));
        return ReactiveLocket.withLock(lockFile, lock -> service.run(request))
                .flatMap(result -> ServerResponse.ok().bodyValue(result))
                .onErrorResume(LockTimeoutException.class,
                        e -> ServerResponse.status(HttpStatus.SERVICE_UNAVAILABLE).build());
    }
    // end

    @SuppressWarnings("try")
    void metrics() throws IOException, InterruptedException {
        // README snippet
        NamedLock reports = LocketMetrics.instrument(
                Locket.lockFile(Path.of("/var/lock/reports.lock"), Duration.ofSeconds(5)), meterRegistry);
        try (Lock lock = reports.acquire()) {
            work();
        }
        // end
    }

    @SuppressWarnings("try")
    void acrossHosts() throws IOException, InterruptedException {
        // README snippet
        NamedLock oneHost = Locket.lockFile(Path.of("/var/lock/nightly.lock"), Duration.ofSeconds(30));
        NamedLock everyHost = PostgresLocket.lock(connectionFactory, "nightly", Duration.ofSeconds(30));

        try (Lock lock = everyHost.acquire()) {
            runNightlyJob(); // no other thread, on any host that uses this database, is here
        }
        // end
        oneHost.timeout();
    }

    // ---- what the snippets call ----

    private static void runNightlyJob() {}

    private static void work() {}

    private static final class Service {
        Mono<String> run(ServerRequest request) {
            return Mono.just("report for " + request.path());
        }
    }
}
