package io.github.locket.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The name-to-key derivation is an API: these values must never change. */
final class KeyTest {
    // SHA-256 of the UTF-8 name, first 8 bytes big-endian, computed independently (Python's hashlib).
    private static final List<Object[]> PINNED = List.of(
            new Object[] {"nightly-report", 7440995589958059143L},
            new Object[] {"a", -3848465438864589366L},
            new Object[] {"jobs/42", -7738369607789768037L},
            new Object[] {"\u00fcn\u00efc\u00f8d\u00e9 \uD83D\uDD12", 8594418021261681494L});

    @Test
    void keysArePinned() {
        for (Object[] p : PINNED) {
            assertThat(PostgresLocket.key((String) p[0])).as("key(%s)", p[0]).isEqualTo(p[1]);
        }
    }

    @Test
    void theDocumentedSqlExpressionGivesTheSameKeys() throws Exception {
        try (Connection c = TestPostgres.jdbc(); PreparedStatement s = c.prepareStatement(
                "SELECT ('x' || left(encode(sha256(convert_to(?, 'UTF8')), 'hex'), 16))::bit(64)::bigint")) {
            for (Object[] p : PINNED) {
                s.setString(1, (String) p[0]);
                try (ResultSet r = s.executeQuery()) {
                    r.next();
                    assertThat(r.getLong(1)).as("SQL key of %s", p[0]).isEqualTo(p[1]);
                }
            }
        }
    }

    @Test
    void badNamesFailAtOnceNamingTheProblem() {
        assertThatThrownBy(() -> PostgresLocket.key("")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty");
        assertThatThrownBy(() -> PostgresLocket.key("x\uD800")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("U+D800");
        assertThatThrownBy(() -> PostgresLocket.key(null)).isInstanceOf(NullPointerException.class)
                .hasMessage("name");
        assertThatThrownBy(() -> PostgresLocket.lock(TestPostgres.factory(), "n", java.time.Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout < 0: PT-0.001S")
                .hasMessageContaining("n");
    }
}
