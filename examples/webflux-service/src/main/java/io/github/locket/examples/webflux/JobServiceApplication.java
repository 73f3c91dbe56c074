package io.github.locket.examples.webflux;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;

/**
 * A WebFlux service that runs named jobs, one at a time per name across every process that shares
 * its job directory: {@code POST /jobs/{name}}. See {@link JobController}.
 */
@SpringBootApplication
@EnableConfigurationProperties(JobsProperties.class)
public class JobServiceApplication {
    /**
     * Starts the service.
     *
     * @param args Spring Boot's arguments, e.g. {@code --server.port=8080 --locket.jobs.dir=/var/lib/jobs}
     */
    public static void main(String[] args) {
        SpringApplication.run(JobServiceApplication.class, args);
    }
}
