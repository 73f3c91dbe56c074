package io.github.locket;

import java.io.IOException;

/** An {@link OsLock} that does what another does; tests override the call they fail or count. */
class DelegatingOsLock extends OsLock {
    final OsLock delegate;

    DelegatingOsLock(OsLock delegate) {
        this.delegate = delegate;
    }

    @Override
    Object key() {
        return delegate.key();
    }

    @Override
    int tryLock(boolean shared) throws IOException {
        return delegate.tryLock(shared);
    }

    @Override
    void unlock() throws IOException {
        delegate.unlock();
    }

    @Override
    OsWait newWait(FileEntry entry, boolean shared) {
        return delegate.newWait(entry, shared);
    }

    @Override
    boolean safeToClose() {
        return delegate.safeToClose();
    }

    @Override
    void endProbe() {
        delegate.endProbe();
    }

    @Override
    boolean closingDropsOurLocks() {
        return delegate.closingDropsOurLocks();
    }

    @Override
    void close() {
        delegate.close();
    }

    @Override
    int fd() {
        return delegate.fd();
    }
}
