package io.github.locket.examples.readme;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The top-level README's Java snippets are exactly those that {@link ReadmeSnippets} compiles, in
 * the same order: a snippet edited in one place and not the other fails the build.
 */
final class ReadmeSnippetsTest {
    // Surefire runs in the module's directory, examples/webflux-service.
    private static final Path README = Path.of("../../README.md");
    private static final Path SNIPPETS = Path.of("src/test/java/io/github/locket/examples/readme/ReadmeSnippets.java");

    private static final Pattern FENCED_JAVA = Pattern.compile("^```java\\n(.*?)^```$", Pattern.DOTALL | Pattern.MULTILINE);
    private static final Pattern MARKED = Pattern.compile("^[ ]*// README snippet\\n(.*?)^[ ]*// end$", Pattern.DOTALL | Pattern.MULTILINE);

    @Test
    void everyJavaSnippetOfTheReadmeIsCompiledVerbatim() throws IOException {
        List<String> readme = matches(FENCED_JAVA, Files.readString(README, StandardCharsets.UTF_8));
        List<String> compiled = matches(MARKED, Files.readString(SNIPPETS, StandardCharsets.UTF_8)).stream()
                .map(ReadmeSnippetsTest::outdent)
                .toList();
        assertThat(readme).as("README.md has Java snippets").isNotEmpty();
        assertThat(compiled).as("the Java snippets of %s, in order, are those of %s", README, SNIPPETS)
                .containsExactlyElementsOf(readme);
    }

    private static List<String> matches(Pattern pattern, String text) {
        List<String> found = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    /** Removes the indentation that all non-blank lines share. */
    private static String outdent(String block) {
        int indent = block.lines().filter(l -> !l.isBlank())
                .mapToInt(l -> l.length() - l.stripLeading().length()).min().orElse(0);
        StringBuilder out = new StringBuilder();
        block.lines().forEach(l -> out.append(l.isBlank() ? "" : l.substring(indent)).append('\n'));
        return out.toString();
    }
}
