package io.github.locket.postgres;

import io.github.locket.Lock;
import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * The other JVM of the crash tests: {@code PostgresChild PORT NAME} acquires the lock, prints
 * {@code HELD}, prints {@code LOST <message>} if it learns that the lock was lost, and holds it
 * until stdin closes (or it is killed).
 */
public final class PostgresChild {
    private PostgresChild() {}

    public static void main(String[] args) throws Exception {
        PostgresqlConnectionFactory factory = new PostgresqlConnectionFactory(PostgresqlConnectionConfiguration.builder()
                .host("localhost").port(Integer.parseInt(args[0])).username("postgres").database("postgres")
                .applicationName("locket-child").build());
        Lock lock = PostgresLocket.lock(factory, args[1]).acquire();
        PostgresLocket.lost(lock).subscribe(null, e -> say("LOST " + e.getMessage()), () -> say("CLOSED"));
        say("HELD");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        while (in.readLine() != null) {
            // hold until stdin closes
        }
        lock.close();
    }

    private static synchronized void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
