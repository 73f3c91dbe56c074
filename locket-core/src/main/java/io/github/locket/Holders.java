package io.github.locket;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Who holds a lock file, and who waits for it in the kernel, read from Linux's {@code /proc/locks}
 * (every {@code fcntl}, open-file-description and {@code flock} lock of the system, with its
 * holder's pid, and the requests blocked on them). An open-file-description lock is listed with
 * pid -1; its process is found by the {@code lock:} lines of {@code /proc/PID/fdinfo}. Only locks
 * that cover byte 0, the byte Locket locks, count. Elsewhere nothing is known: empty lists.
 *
 * <p>Diagnostics only: it reads files, and is never on an acquisition's path.
 */
final class Holders {
    private Holders() {}

    private static final Path PROC_LOCKS = Path.of("/proc/locks");
    private static final Pattern FIELDS = Pattern.compile("\\s+");
    private static final Pattern COLON = Pattern.compile(":");

    /** Holders (false) or waiters (true) of the file at {@code path}; empty if it does not exist. */
    static List<LockHolder> of(Path path, boolean waiters) throws IOException {
        if (!Files.isReadable(PROC_LOCKS)) {
            return List.of();
        }
        long dev;
        long ino;
        try {
            dev = ((Number) Files.getAttribute(path, "unix:dev")).longValue();
            ino = ((Number) Files.getAttribute(path, "unix:ino")).longValue();
        } catch (NoSuchFileException missing) {
            return List.of();
        } catch (UnsupportedOperationException | IllegalArgumentException noUnixView) {
            return List.of();
        }
        return parse(Files.readAllLines(PROC_LOCKS, StandardCharsets.US_ASCII), major(dev), minor(dev), ino, waiters);
    }

    /** glibc's gnu_dev_major/minor: the numbers {@code /proc/locks} prints in hexadecimal. */
    static long major(long dev) {
        return ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
    }

    static long minor(long dev) {
        return (dev & 0xff) | ((dev >>> 12) & ~0xffL);
    }

    /** One line: {@code "1: [-> ]FLOCK  ADVISORY  WRITE 4242 fe:00:2146801 0 EOF"}. */
    private record Entry(boolean waiting, String kind, boolean shared, long pid, long major, long minor, long ino,
            long start) {}

    static List<LockHolder> parse(List<String> lines, long major, long minor, long ino, boolean waiters) {
        List<Entry> exact = new ArrayList<>();
        List<Entry> sameInode = new ArrayList<>(); // some file systems (btrfs, overlay) report another device
        for (String line : lines) {
            Entry e = entry(line);
            if (e == null || e.ino != ino || e.waiting != waiters || e.start != 0) {
                continue;
            }
            (e.major == major && e.minor == minor ? exact : sameInode).add(e);
        }
        List<Entry> mine = exact.isEmpty() ? sameInode : exact;
        Map<Long, List<Entry>> byPid = new LinkedHashMap<>();
        List<Entry> unknown = new ArrayList<>();
        for (Entry e : mine) {
            if (e.pid < 0) {
                unknown.add(e);
            } else {
                byPid.computeIfAbsent(e.pid, p -> new ArrayList<>()).add(e);
            }
        }
        if (!unknown.isEmpty()) {
            attribute(unknown, byPid, major, minor, ino);
        }
        List<LockHolder> holders = new ArrayList<>();
        for (Map.Entry<Long, List<Entry>> p : byPid.entrySet()) {
            holders.add(holder(p.getKey(), p.getValue()));
        }
        for (Entry e : unknown) {
            holders.add(holder(-1, List.of(e)));
        }
        return holders;
    }

    private static LockHolder holder(long pid, List<Entry> entries) {
        Set<LockProtocol> protocols = EnumSet.noneOf(LockProtocol.class);
        boolean shared = true;
        for (Entry e : entries) {
            protocols.add(e.kind.equals("FLOCK") ? LockProtocol.FLOCK : LockProtocol.FCNTL);
            shared &= e.shared;
        }
        return new LockHolder(pid, shared, protocols, pid < 0 ? null : command(pid));
    }

    private static @Nullable Entry entry(String line) {
        String[] f = FIELDS.split(line.trim(), -1);
        int i = 1; // after "N:"
        boolean waiting = f.length > i && f[i].equals("->");
        if (waiting) {
            i++;
        }
        if (f.length < i + 7) {
            return null;
        }
        String kind = f[i];
        if (!kind.equals("POSIX") && !kind.equals("FLOCK") && !kind.equals("OFDLCK")) {
            return null; // leases, delegations
        }
        String mode = f[i + 2];
        String[] id = COLON.split(f[i + 4], -1);
        if (id.length != 3) {
            return null;
        }
        try {
            return new Entry(waiting, kind, mode.equals("READ"), Long.parseLong(f[i + 3]), Long.parseLong(id[0], 16),
                    Long.parseLong(id[1], 16), Long.parseLong(id[2]), Long.parseLong(f[i + 5]));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * Open-file-description locks have no pid in {@code /proc/locks}: find the processes whose
     * descriptors carry them ({@code lock:} lines of {@code /proc/PID/fdinfo/FD}), as far as this
     * user may look. Each one found is moved from {@code unknown} to {@code byPid}.
     */
    private static void attribute(List<Entry> unknown, Map<Long, List<Entry>> byPid, long major, long minor, long ino) {
        String id = String.format("%02x:%02x:%d", major, minor, ino);
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                if (unknown.isEmpty()) {
                    return;
                }
                long pid = Long.parseLong(proc.getFileName().toString());
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(proc.resolve("fdinfo"))) {
                    for (Path fd : fds) {
                        for (String line : Files.readAllLines(fd, StandardCharsets.US_ASCII)) {
                            if (line.startsWith("lock:") && line.contains("OFDLCK") && line.contains(id)
                                    && !line.contains("->")) {
                                boolean shared = line.contains("READ");
                                for (int k = 0; k < unknown.size(); k++) {
                                    if (unknown.get(k).shared == shared) {
                                        Entry e = unknown.remove(k);
                                        byPid.computeIfAbsent(pid, p -> new ArrayList<>()).add(e);
                                        break;
                                    }
                                }
                            }
                        }
                    }
                } catch (IOException | RuntimeException goneOrForbidden) {
                    // the process exited, or this user may not look
                }
            }
        } catch (IOException unreadable) {
            // leave them unknown
        }
    }

    /** {@code /proc/PID/cmdline}, arguments joined by spaces; null if unreadable or empty. */
    static @Nullable String command(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc/" + pid + "/cmdline"));
            String s = new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').trim();
            return s.isEmpty() ? null : s;
        } catch (IOException | RuntimeException unreadable) {
            return null;
        }
    }
}
