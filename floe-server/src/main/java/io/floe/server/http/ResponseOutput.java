package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Response;

/**
 * A response body written in blocks: bytes collect in a buffer that goes out (as one HTTP chunk)
 * when full, and the rest at {@link #finish()}. {@link #flush()} does nothing, so writers may flush
 * freely without producing small chunks. Until the first block goes out the response is not
 * committed, and {@link #discard()} can still drop what was written.
 */
final class ResponseOutput extends OutputStream {
  private final Response response;
  private final byte[] buffer;
  private int count;
  private boolean sent;
  private volatile boolean writing;

  ResponseOutput(Response response, int bufferSize) {
    this.response = requireNonNull(response, "response is null");
    this.buffer = new byte[bufferSize];
  }

  @Override
  public void write(int b) throws IOException {
    if (count == buffer.length) {
      send(buffer, 0, count, false);
      count = 0;
    }
    buffer[count++] = (byte) b;
  }

  @Override
  public void write(byte[] bytes, int offset, int length) throws IOException {
    if (length > buffer.length - count) {
      send(buffer, 0, count, false);
      count = 0;
    }
    if (length >= buffer.length) {
      send(bytes, offset, length, false);
      return;
    }
    System.arraycopy(bytes, offset, buffer, count, length);
    count += length;
  }

  @Override
  public void flush() {
    // Blocks go out when full; see finish().
  }

  /** Sends what is buffered as the last content of the response. */
  void finish() throws IOException {
    send(buffer, 0, count, true);
    count = 0;
  }

  /** Whether any block went out, committing the response. */
  boolean sent() {
    return sent;
  }

  /** Drops what is buffered. */
  void discard() {
    count = 0;
  }

  /** Whether a block is being written now, i.e. the client is being waited for. */
  boolean writing() {
    return writing;
  }

  private void send(byte[] bytes, int offset, int length, boolean last) throws IOException {
    if (length == 0 && !last) {
      return;
    }
    writing = true;
    try {
      Content.Sink.write(response, last, ByteBuffer.wrap(bytes, offset, length));
      sent = true;
    } finally {
      writing = false;
    }
  }
}
