package io.github.locket.examples.webflux;

import java.nio.file.Path;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code locket.jobs.*}: where the lock files and job output live, and how long a request waits.
 *
 * @param dir the job directory, created at startup: {@code NAME.lock} is job NAME's lock file,
 *     {@code NAME.log} its output; default {@code ${java.io.tmpdir}/locket-jobs}.
 *     Every process that runs these jobs (other instances of this service, {@code locket} in a cron
 *     job) must use the same directory.
 * @param timeout how long {@code POST /jobs/NAME} waits for a busy job before answering 503
 * @param retryAfter the {@code Retry-After} advice sent with 409 and 503
 */
@ConfigurationProperties("locket.jobs")
public record JobsProperties(
        Path dir,
        @DefaultValue("10s") Duration timeout,
        @DefaultValue("5s") Duration retryAfter) {
    public JobsProperties {
        if (dir == null) {
            dir = Path.of(System.getProperty("java.io.tmpdir"), "locket-jobs");
        }
    }
}
