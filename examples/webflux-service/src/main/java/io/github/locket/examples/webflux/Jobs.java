package io.github.locket.examples.webflux;

import io.github.locket.Locket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The sample job: appends a line to {@code NAME.log} in the job directory and returns it. It reads
 * the log to number its run, so two runs at once would both claim the same number: the file lock
 * is what keeps the numbers unique.
 */
@Component
public class Jobs {
    private static final Logger LOG = LoggerFactory.getLogger(Jobs.class);

    private final Path dir;

    public Jobs(JobsProperties properties) throws IOException {
        this.dir = Files.createDirectories(properties.dir());
        // Locket binds flock(2) the first time it is used, which on Java 17-21 means JNA unpacking and
        // loading a native library: blocking file I/O. Do it here, at startup, not on the event loop
        // that serves the first request. It also tells which programs these locks exclude.
        LOG.info("Locket lock protocols: {} (FLOCK: also excludes flock(1) and Python's locket)", Locket.protocols());
    }

    /** The job directory, created at startup. */
    public Path dir() {
        return dir;
    }

    /** {@code NAME.lock}: job NAME's lock file. */
    public Path lockFile(String name) {
        return dir.resolve(name + ".lock");
    }

    /**
     * Runs job {@code name}: waits {@code work} (without a thread: it stands for the job's own
     * reactive work), then appends and returns the run's line. Call it while holding the job's lock.
     */
    public Mono<JobResult> run(String name, Duration work) {
        Instant started = Instant.now();
        return Mono.delay(work)
                // File I/O blocks: off the event loop, onto the scheduler made for it.
                .publishOn(Schedulers.boundedElastic())
                .map(ignored -> append(name, started));
    }

    private JobResult append(String name, Instant started) {
        Path log = dir.resolve(name + ".log");
        try {
            long run = (Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8).size() : 0) + 1;
            Instant finished = Instant.now();
            String line = "run " + run + " of " + name + " from " + started + " to " + finished
                    + " by pid " + ProcessHandle.current().pid();
            Files.writeString(log, line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            return new JobResult(name, run, line, started, finished);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What {@code POST /jobs/NAME} answers with 200. */
    public record JobResult(String job, long run, String line, Instant started, Instant finished) {}
}
