package io.github.locket.examples.webflux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.github.locket.Lock;
import io.github.locket.Locket;
import io.github.locket.examples.webflux.Jobs.JobResult;
import io.github.locket.testing.Children;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The service on a real port (Netty), called over HTTP, with another process (locket-core's shared
 * test harness, {@link Children}) holding job locks and
 * BlockHound watching every event-loop and Reactor thread (installed by blockhound-junit-platform;
 * {@link #blockHoundIsWatchingTheServersEventLoop()} proves it).
 */
@SpringBootTest(
        webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"locket.jobs.timeout=2s", "locket.jobs.retry-after=7s"})
@AutoConfigureWebTestClient
final class JobControllerTest {
    @TempDir
    static Path dir;

    @DynamicPropertySource
    static void jobsDir(DynamicPropertyRegistry registry) {
        registry.add("locket.jobs.dir", () -> dir.toString());
    }

    @Autowired
    WebTestClient client;

    private WebTestClient.ResponseSpec post(String name, String query) {
        return client.post().uri("/jobs/{name}" + query, name).exchange(); // name is URL-encoded
    }

    @Test
    void runsTheJobAndAnswers200WithItsResult() throws IOException {
        JobResult first = post("report", "").expectStatus().isOk()
                .expectBody(JobResult.class).returnResult().getResponseBody();
        JobResult second = post("report", "?wait=false").expectStatus().isOk()
                .expectBody(JobResult.class).returnResult().getResponseBody();
        assertThat(first.job()).isEqualTo("report");
        assertThat(first.run()).isEqualTo(1);
        assertThat(second.run()).isEqualTo(2);
        assertThat(Files.readAllLines(dir.resolve("report.log"))).containsExactly(first.line(), second.line());
        assertThat(dir.resolve("report.lock")).exists();
    }

    @Test
    void rejectsNamesThatAreNotPlainFileNames() {
        for (String name : new String[] {"a.b", "x".repeat(65), "../etc", "..", "a b", "caf\u00e9", "%2e%2e"}) {
            post(name, "").expectStatus().isBadRequest()
                    .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody().jsonPath("$.title").isEqualTo("Bad job name");
        }
        post("x".repeat(64), "").expectStatus().isOk();
        assertThat(dir.resolve("a.b.lock")).doesNotExist();
    }

    @Test
    void busyWithoutWaitingAnswers409WithRetryAfter() throws Exception {
        try (Children other = holding(dir.resolve("nightly.lock"))) {
            post("nightly", "?wait=false").expectStatus().isEqualTo(HttpStatus.CONFLICT)
                    .expectHeader().valueEquals("Retry-After", "7")
                    .expectBody().jsonPath("$.title").isEqualTo("Job busy");
            release(other);
        }
        post("nightly", "?wait=false").expectStatus().isOk();
    }

    @Test
    @EnabledOnOs(OS.LINUX)
    void aCronJobUnderFlockCommandAlsoMakesItBusy() throws Exception {
        // util-linux flock(1) takes flock(2), which Locket takes too on Linux (JNA is on this class path).
        Process flock = new ProcessBuilder("flock", dir.resolve("cron.lock").toString(), "sh", "-c", "echo HOLDING; read line")
                .redirectErrorStream(true).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(flock.getInputStream(), StandardCharsets.UTF_8));
                Writer in = new OutputStreamWriter(flock.getOutputStream(), StandardCharsets.UTF_8)) {
            assertThat(out.readLine()).isEqualTo("HOLDING");
            post("cron", "?wait=false").expectStatus().isEqualTo(HttpStatus.CONFLICT);
            in.write("go\n");
            in.flush();
            assertThat(flock.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            flock.destroyForcibly();
        }
        post("cron", "?wait=false").expectStatus().isOk();
    }

    @Test
    void busyPastTheTimeoutAnswers503() throws Exception {
        try (Children other = holding(dir.resolve("backup.lock"))) {
            long start = System.nanoTime();
            post("backup", "").expectStatus().isEqualTo(HttpStatus.SERVICE_UNAVAILABLE)
                    .expectHeader().valueEquals("Retry-After", "7")
                    .expectBody().jsonPath("$.detail").value(d -> assertThat((String) d).contains("2 s"));
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofSeconds(2));
            release(other);
        }
        assertThat(dir.resolve("backup.log")).doesNotExist();
    }

    @Test
    void waitingRequestRunsTheJobOnceTheOtherProcessLetsGo() throws Exception {
        Path lockFile = dir.resolve("sync.lock");
        try (Children other = holding(lockFile)) {
            CompletableFuture<JobResult> response = CompletableFuture.supplyAsync(() -> post("sync", "")
                    .expectStatus().isOk().expectBody(JobResult.class).returnResult().getResponseBody());
            awaitKernelWaiter(lockFile); // the service is queued behind the other process
            assertThat(response).isNotDone();
            release(other);
            assertThat(response.get(60, TimeUnit.SECONDS).run()).isEqualTo(1);
        }
    }

    @Test
    void clientThatGoesAwayReleasesTheLock() throws Exception {
        WebTestClient impatient = client.mutate().responseTimeout(Duration.ofMillis(300)).build();
        // The job would hold the lock for a minute; the client gives up after 300 ms.
        assertThatThrownBy(() -> impatient.post().uri("/jobs/long?workMillis=60000").exchange())
                .hasMessageContaining("Timeout");
        // The server sees the connection close, cancels the job and releases the lock.
        await().atMost(Duration.ofSeconds(30)).until(() -> isFreeSeenFromThisJvm(dir.resolve("long.lock")));
        post("long", "?wait=false").expectStatus().isOk();
        assertThat(Files.readAllLines(dir.resolve("long.log"))).hasSize(1); // the cancelled run wrote nothing
    }

    // ---- every error is an RFC 9457 problem ----

    private static WebTestClient.BodyContentSpec isProblem(WebTestClient.ResponseSpec response, HttpStatus status) {
        return response.expectStatus().isEqualTo(status)
                .expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .expectBody()
                .jsonPath("$.status").isEqualTo(status.value())
                .jsonPath("$.title").isNotEmpty()
                .jsonPath("$.instance").isNotEmpty();
    }

    @Test
    void aMethodOtherThanPostIsA405ProblemThatSaysWhichMethodsAreAllowed() {
        WebTestClient.ResponseSpec get = client.get().uri("/jobs/nightly").exchange();
        get.expectHeader().valueEquals("Allow", "POST");
        isProblem(get, HttpStatus.METHOD_NOT_ALLOWED);
        isProblem(client.delete().uri("/jobs/nightly").exchange(), HttpStatus.METHOD_NOT_ALLOWED);
    }

    @Test
    void anUnknownPathIsA404Problem() {
        isProblem(client.post().uri("/nope").exchange(), HttpStatus.NOT_FOUND);
        isProblem(client.get().uri("/").exchange(), HttpStatus.NOT_FOUND);
    }

    @Test
    void aParameterOfTheWrongTypeIsA400Problem() {
        isProblem(post("typed", "?wait=maybe"), HttpStatus.BAD_REQUEST);
        isProblem(post("typed", "?workMillis=soon"), HttpStatus.BAD_REQUEST);
        isProblem(post("typed", "?workMillis=-1"), HttpStatus.BAD_REQUEST);
    }

    @Test
    void busyAndBadNameAnswersAreProblemsToo() throws Exception {
        isProblem(post("a.b", ""), HttpStatus.BAD_REQUEST);
        try (Children other = holding(dir.resolve("problem.lock"))) {
            isProblem(post("problem", "?wait=false"), HttpStatus.CONFLICT);
            release(other);
        }
    }

    @Test
    void aJobThatFailsIsA500ProblemThatDoesNotLeakTheCause() throws IOException {
        Files.createDirectories(dir.resolve("broken.log")); // the job cannot append to a directory
        isProblem(post("broken", ""), HttpStatus.INTERNAL_SERVER_ERROR)
                .jsonPath("$.detail").value(d -> assertThat((String) d).doesNotContain("broken.log"));
        assertThat(isFreeSeenFromThisJvm(dir.resolve("broken.lock"))).as("released after the failure").isTrue();
    }

    // ---- BlockHound is really watching ----
    // (Blocking code sits in map, not fromCallable: reactor-core 3.8's MonoCallable lets an Error such as
    // BlockingOperationError escape on some paths instead of signalling it, and the test would hang.)

    @Test
    void blockHoundIsWatchingTheServersEventLoop() {
        client.get().uri("/test/block-the-event-loop").exchange()
                .expectBody(String.class)
                .value(body -> assertThat(body).matches("caught on \\w+-http-(epoll|nio|kqueue)-\\d+: .*").contains("Blocking call!"));
    }

    @Test
    void blockHoundIsWatchingReactorThreads() {
        Mono<String> parks = Mono.just("park").publishOn(Schedulers.parallel()).map(v -> {
            LockSupport.parkNanos(1_000);
            return "not caught";
        });
        StepVerifier.create(parks).verifyError(BlockingOperationError.class);
    }

    @Test
    void blockHoundKnowsThatFileLocksBlock() {
        // See LocketBlockHoundIntegration: BlockHound alone does not flag FileChannel.lock().
        Mono<String> locks = Mono.just(dir.resolve("canary.lock")).publishOn(Schedulers.parallel()).map(path -> {
            try (FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                ch.lock().release();
                return "not caught";
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        StepVerifier.create(locks)
                .verifyErrorSatisfies(e -> assertThat(e).isInstanceOf(BlockingOperationError.class).hasMessageContaining("lock0"));
    }

    @Test
    void locketsFirstAttemptIsAllowedOnReactorThreads() {
        // The one attempt on the caller's thread is a non-blocking tryLock: fine on any thread.
        Mono<Boolean> tries = Mono.just(dir.resolve("try.lock")).publishOn(Schedulers.parallel()).map(path -> {
            try {
                Optional<Lock> lock = Locket.lockFile(path).tryAcquire();
                lock.ifPresent(Lock::close);
                return lock.isPresent();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        StepVerifier.create(tries).expectNext(true).verifyComplete();
    }

    // ---- helpers ----

    /** Another process (a child JVM from the test class path) that holds {@code lockFile} until released. */
    private static Children holding(Path lockFile) throws IOException, InterruptedException {
        Children other = Children.start("hold", lockFile.toString());
        other.expect("LOCKED");
        return other;
    }

    private static void release(Children holder) throws IOException, InterruptedException {
        holder.send("release");
        holder.expect("RELEASED");
    }

    /** Whether another acquisition could take the lock now (this JVM is the service's: same registry). */
    private static boolean isFreeSeenFromThisJvm(Path lockFile) throws IOException {
        Optional<Lock> lock = Locket.lockFile(lockFile).tryAcquire();
        lock.ifPresent(Lock::close);
        return lock.isPresent();
    }

    /**
     * Waits until some process is blocked in the kernel waiting for {@code lockFile}: on Linux,
     * a "->" line for its inode in /proc/locks. Elsewhere it cannot be seen; returns at once.
     */
    private static void awaitKernelWaiter(Path lockFile) throws IOException {
        Path locks = Path.of("/proc/locks");
        if (!Files.isReadable(locks)) {
            return;
        }
        Pattern waiter = Pattern.compile("->.*:" + Files.getAttribute(lockFile, "unix:ino") + " ");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> Files.readAllLines(locks).stream().anyMatch(l -> waiter.matcher(l).find()));
    }
}
