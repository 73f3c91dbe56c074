package io.github.locket.stress;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** Appends a test's figures to target/stress-figures.txt (and stdout): the source of docs/guarantees.md. */
public final class Figures {
    private Figures() {}

    public static synchronized void record(String summary, List<String> details) throws IOException {
        StringBuilder text = new StringBuilder(summary).append('\n');
        for (String d : details) {
            text.append("  ").append(d).append('\n');
        }
        System.out.print(text);
        String file = System.getProperty("locket.stress.figures");
        if (file != null) {
            Path path = Path.of(file);
            Files.createDirectories(path.getParent());
            Files.writeString(path, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }
}
