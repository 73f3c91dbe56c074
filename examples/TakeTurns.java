import io.github.locket.Lock;
import io.github.locket.LockFile;
import io.github.locket.Locket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;

/**
 * Two of these, started together, take turns on one lock file:
 *
 * <pre>java -cp locket-core/target/classes examples/TakeTurns.java /tmp/demo.lock A</pre>
 */
public final class TakeTurns {
    public static void main(String[] args) throws Exception {
        LockFile lockFile = Locket.lockFile(Path.of(args[0]), Duration.ofSeconds(30));
        String name = args[1];
        for (int turn = 1; turn <= 3; turn++) {
            try (Lock lock = lockFile.acquire()) {
                System.out.printf("%s %s holds %s (turn %d)%n", LocalTime.now(), name, lock.path(), turn);
                Thread.sleep(300); // work while holding the lock
                System.out.printf("%s %s releases%n", LocalTime.now(), name);
            }
            Thread.sleep(50); // give the other process its turn
        }
    }
}
