package io.github.locket.examples.webflux;

import io.github.locket.LockTimeoutException;
import io.github.locket.NamedLock;
import io.github.locket.reactor.ReactiveLocket;
import java.time.Duration;
import java.util.regex.Pattern;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * {@code POST /jobs/{name}?wait=true|false&workMillis=N}: runs job {@code name} while holding its
 * lock, so that the job never runs twice at once &mdash; not in this service, not in another
 * instance of it, not in a {@code locket} command. The lock is the lock file {@code NAME.lock} in
 * the job directory, or, with the Spring profile {@code postgres}, a PostgreSQL advisory lock
 * ({@link JobLocks}); this code is the same for both.
 *
 * <ul>
 *   <li>200 with the {@link Jobs.JobResult} when the job ran.
 *   <li>409 with {@code Retry-After} when {@code wait=false} and the job is running elsewhere.
 *   <li>503 with {@code Retry-After} when {@code wait=true} (the default) and the lock was not free
 *       within {@code locket.jobs.timeout}.
 *   <li>400 when the name is not 1 to 64 of {@code A-Z a-z 0-9 _ -}: names become file names.
 * </ul>
 *
 * <p>No thread waits for the lock: {@link ReactiveLocket#withLock} subscribes to the lock's
 * future, and releases the lock when the job completes, fails, or the client goes away.
 */
@RestController
public class JobController {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final Duration MAX_WORK = Duration.ofMinutes(1);

    private final Jobs jobs;
    private final JobLocks locks;
    private final JobsProperties properties;

    public JobController(Jobs jobs, JobLocks locks, JobsProperties properties) {
        this.jobs = jobs;
        this.locks = locks;
        this.properties = properties;
    }

    @PostMapping("/jobs/{name}")
    public Mono<ResponseEntity<?>> run(
            @PathVariable("name") String name,
            @RequestParam(name = "wait", defaultValue = "true") boolean wait,
            @RequestParam(name = "workMillis", defaultValue = "0") long workMillis) {
        if (!NAME.matcher(name).matches()) {
            return Mono.just(problem(HttpStatus.BAD_REQUEST, "Bad job name",
                    "a job name is 1 to 64 of A-Z a-z 0-9 _ - (it names a file)", name));
        }
        if (workMillis < 0 || workMillis > MAX_WORK.toMillis()) {
            return Mono.just(problem(HttpStatus.BAD_REQUEST, "Bad workMillis",
                    "workMillis is between 0 and " + MAX_WORK.toMillis(), name));
        }
        // Duration.ZERO: one attempt, which fails at once with LockTimeoutException if busy.
        NamedLock jobLock = locks.lock(name, wait ? properties.timeout() : Duration.ZERO);
        return ReactiveLocket.withLock(jobLock, lock -> jobs.run(name, Duration.ofMillis(workMillis)))
                .<ResponseEntity<?>>map(ResponseEntity::ok)
                .onErrorResume(LockTimeoutException.class, e -> Mono.just(wait
                        ? problem(HttpStatus.SERVICE_UNAVAILABLE, "Job busy",
                                "job " + name + " was still running after " + seconds(properties.timeout())
                                        + " s of waiting; try again later", name)
                        : problem(HttpStatus.CONFLICT, "Job busy",
                                "job " + name + " is running; retry later, or ask with wait=true", name)));
    }

    private ResponseEntity<?> problem(HttpStatus status, String title, String detail, String name) {
        ProblemDetail body = ProblemDetail.forStatusAndDetail(status, detail);
        body.setTitle(title);
        body.setProperty("job", name);
        ResponseEntity.BodyBuilder response = ResponseEntity.status(status);
        if (status == HttpStatus.CONFLICT || status == HttpStatus.SERVICE_UNAVAILABLE) {
            response.header(HttpHeaders.RETRY_AFTER, seconds(properties.retryAfter()));
        }
        return response.body(body);
    }

    /** Whole seconds, rounded up, at least 1: the form Retry-After takes. */
    private static String seconds(Duration d) {
        long s = d.getSeconds() + (d.getNano() > 0 ? 1 : 0);
        return Long.toString(Math.max(1, s));
    }
}
