/**
 * The {@code locket} command: runs a command while holding a file lock, like util-linux {@code
 * flock(1)}, on Linux, macOS and Windows. See {@link io.github.locket.cli.LocketCommand}.
 */
package io.github.locket.cli;
