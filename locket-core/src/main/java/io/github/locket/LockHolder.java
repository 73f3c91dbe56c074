package io.github.locket;

import java.io.Serializable;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A process that holds a lock file's lock, or waits for it in the kernel, as the operating system
 * reports it: see {@link LockFile#holders()} and {@link LockFile#waiters()}. A snapshot: by the
 * time you read it, that process may have let go.
 *
 * <p>Immutable and thread-safe.
 */
public final class LockHolder implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long pid;
    private final boolean shared;
    private final Set<LockProtocol> protocols;
    private final @Nullable String command; // null if unreadable

    LockHolder(long pid, boolean shared, Set<LockProtocol> protocols, @Nullable String command) {
        this.pid = pid;
        this.shared = shared;
        this.protocols = Collections.unmodifiableSet(EnumSet.copyOf(protocols));
        this.command = command;
    }

    /**
     * Returns the process id, or -1 when the system does not say (an open-file-description lock of
     * a process whose descriptors this user may not inspect).
     *
     * @return the process id, or -1
     */
    public long pid() {
        return pid;
    }

    /**
     * Tells whether the lock is held (or wanted) in shared mode.
     *
     * @return true if shared, false if exclusive
     */
    public boolean isShared() {
        return shared;
    }

    /**
     * Returns the locking protocols through which this process holds the lock: both {@link
     * LockProtocol#FCNTL} and {@link LockProtocol#FLOCK} for a Locket process on Linux, one of
     * them for other programs.
     *
     * @return an unmodifiable, non-empty set
     */
    public Set<LockProtocol> protocols() {
        return protocols;
    }

    /**
     * Returns the process's command line, where readable ({@code /proc/PID/cmdline} on Linux).
     *
     * @return the command line, arguments separated by spaces, or empty
     */
    public Optional<String> command() {
        return Optional.ofNullable(command);
    }

    /** Whether this is this JVM's own process. */
    boolean isThisProcess() {
        return pid == ProcessHandle.current().pid();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LockHolder h && h.pid == pid && h.shared == shared && h.protocols.equals(protocols)
                && Objects.equals(h.command, command);
    }

    @Override
    public int hashCode() {
        return Objects.hash(pid, shared, protocols, command);
    }

    /** Returns {@code pid 4242 (python3 nightly.py), exclusive, [FLOCK]}, as messages show it. */
    @Override
    public String toString() {
        String who = pid < 0 ? "an unknown process" : "pid " + pid;
        String what = isThisProcess() ? "this JVM" : command;
        return who + (what == null ? "" : " (" + what + ")") + (shared ? ", shared, " : ", exclusive, ") + protocols;
    }
}
