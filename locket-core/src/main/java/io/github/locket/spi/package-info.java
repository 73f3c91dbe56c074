/**
 * For implementations of {@link io.github.locket.NamedLock} outside {@code locket-core}: how they
 * hand out {@link io.github.locket.Lock}s. Applications do not need this package.
 */
package io.github.locket.spi;
