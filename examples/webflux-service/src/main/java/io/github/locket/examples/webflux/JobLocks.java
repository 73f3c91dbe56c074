package io.github.locket.examples.webflux;

import io.github.locket.Locket;
import io.github.locket.NamedLock;
import io.github.locket.postgres.PostgresLocket;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Profile;

/**
 * Which lock job NAME takes. The handler asks for a {@link NamedLock} and does not care which:
 *
 * <ul>
 *   <li>by default, the lock file {@code NAME.lock} in the job directory: one host;
 *   <li>with the Spring profile {@code postgres}, the PostgreSQL advisory lock named {@code
 *       locket-jobs/NAME} in the database at {@code locket.jobs.postgres-url} (an R2DBC URL such as
 *       {@code r2dbc:postgresql://jobs@db.example:5432/jobs}): every host using that database.
 * </ul>
 */
@FunctionalInterface
public interface JobLocks {
    /**
     * Returns job {@code name}'s lock.
     *
     * @param name the job name
     * @param timeout how long an acquisition waits; {@link Duration#ZERO} for one attempt
     * @return the lock
     */
    NamedLock lock(String name, Duration timeout);

    /** The two choices, by profile. */
    @Configuration(proxyBeanMethods = false)
    class Choice {
        @Bean
        @Profile("!postgres")
        JobLocks fileLocks(Jobs jobs) {
            return (name, timeout) -> Locket.lockFile(jobs.lockFile(name), timeout);
        }

        @Bean
        @Profile("postgres")
        JobLocks postgresLocks(@Value("${locket.jobs.postgres-url}") String url) {
            // Each acquisition opens a session of its own for as long as it waits and holds; in
            // production, a session-mode pool (r2dbc-pool) here saves the connects.
            ConnectionFactory factory = ConnectionFactories.get(url);
            return (name, timeout) -> PostgresLocket.lock(factory, "locket-jobs/" + name, timeout);
        }
    }
}
