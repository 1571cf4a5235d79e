package io.floe.sql.pgwire;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a client's messages, and tells from another thread whether the client closed the connection
 * while the session is busy. The session thread holds the lock while it waits for the next message,
 * so the check never reads at the same time; bytes the check reads are put back.
 */
final class ClientWatch {
  private static final Logger LOG = LoggerFactory.getLogger(ClientWatch.class);

  private final Socket socket;
  private final BufferedInputStream input;
  private final DataInputStream in;
  private final ReentrantLock lock = new ReentrantLock();

  ClientWatch(Socket socket) throws IOException {
    this.socket = socket;
    this.input = new BufferedInputStream(socket.getInputStream(), 8192);
    this.in = new DataInputStream(input);
  }

  /** The stream startup reads from; after startup, read with {@link #next()}. */
  DataInputStream in() {
    return in;
  }

  /** The client's next message, or null when it closed the connection. */
  PgMessage next() throws IOException {
    lock.lock();
    try {
      return PgMessage.read(in);
    } finally {
      lock.unlock();
    }
  }

  /** True when the client closed the connection; false when it is there or the session reads. */
  boolean clientGone() {
    if (!lock.tryLock()) {
      return false;
    }
    try {
      if (input.available() > 0) {
        return false; // the client sent more: it is there
      }
      socket.setSoTimeout(1);
      input.mark(1);
      if (input.read() < 0) {
        return true;
      }
      input.reset();
      return false;
    } catch (SocketTimeoutException e) {
      return false; // nothing to read: the client waits for its result
    } catch (IOException e) {
      return true;
    } finally {
      restoreTimeout();
      lock.unlock();
    }
  }

  private void restoreTimeout() {
    try {
      socket.setSoTimeout(0);
    } catch (IOException e) {
      LOG.debug("Could not reset the read timeout of {}: {}", socket, e.toString());
    }
  }
}
