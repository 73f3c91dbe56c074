/**
 * A ShedLock {@code LockProvider} backed by Locket. Start at {@link
 * io.github.locket.shedlock.LocketLockProvider}.
 */
package io.github.locket.shedlock;
