package io.floe.catalog;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.function.Function;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;

/**
 * Reads a request's body within a limit, for the HTTP endpoints that take one whole (the REST
 * catalog's, and the query and stream endpoints of {@code floe run}).
 */
public final class RequestBody {
  /** Most bytes of a refused body read before answering 413 (see {@link #drain}). */
  private static final long DRAIN_BYTES = 16L << 20;

  private RequestBody() {}

  /**
   * The body, refused as soon as it is known to be larger than {@code limit} bytes: by its
   * Content-Length, or while reading a chunked one.
   *
   * @param tooLarge the refusal to throw (a 413), given the body's size as far as it is known
   *     ("1234 bytes", "more than 1000 bytes")
   */
  public static byte[] read(
      Request request, long limit, Function<String, ? extends RuntimeException> tooLarge) {
    int readLimit = (int) Math.min(limit + 1, Integer.MAX_VALUE - 8);
    try (InputStream in = Content.Source.asInputStream(request)) {
      if (request.getLength() > limit) {
        drain(in);
        throw tooLarge.apply(request.getLength() + " bytes");
      }
      byte[] bytes = in.readNBytes(readLimit);
      if (bytes.length > limit) {
        drain(in);
        throw tooLarge.apply("more than " + limit + " bytes");
      }
      return bytes;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the request body", e);
    }
  }

  /**
   * Reads and drops up to {@link #DRAIN_BYTES} of a refused body before the refusal is sent: a
   * client still sending its body would otherwise see the connection reset before it reads the
   * answer. Past that, the server closes the connection.
   */
  private static void drain(InputStream in) throws IOException {
    byte[] buffer = new byte[8192];
    long drained = 0;
    for (int read; drained < DRAIN_BYTES && (read = in.read(buffer)) >= 0; ) {
      drained += read;
    }
  }
}
