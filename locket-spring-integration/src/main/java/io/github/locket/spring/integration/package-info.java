/**
 * A Spring Integration {@code LockRegistry} backed by Locket. Start at {@link
 * io.github.locket.spring.integration.LocketLockRegistry}.
 */
package io.github.locket.spring.integration;
