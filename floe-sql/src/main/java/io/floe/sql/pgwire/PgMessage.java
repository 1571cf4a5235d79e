package io.floe.sql.pgwire;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** One frontend message: its type byte and body, read field by field. */
final class PgMessage {
  /** The largest message accepted; PostgreSQL's own limit is 1 GiB. */
  static final int MAX_LENGTH = 256 << 20;

  /** The largest startup packet accepted, as in PostgreSQL. */
  static final int MAX_STARTUP_LENGTH = 10_000;

  private final char type;
  private final ByteBuffer body;

  PgMessage(char type, byte[] body) {
    this.type = type;
    this.body = ByteBuffer.wrap(body);
  }

  /** The next message, or null when the client closed the connection between messages. */
  static PgMessage read(DataInputStream in) throws IOException {
    int type = in.read();
    if (type < 0) {
      return null;
    }
    return new PgMessage((char) type, body(in, in.readInt(), MAX_LENGTH));
  }

  /** A startup packet (the first message, which has no type byte). */
  static PgMessage readStartup(DataInputStream in) throws IOException {
    int length;
    try {
      length = in.readInt();
    } catch (EOFException e) {
      return null;
    }
    return new PgMessage('\0', body(in, length, MAX_STARTUP_LENGTH));
  }

  private static byte[] body(DataInputStream in, int length, int limit) throws IOException {
    if (length < 4 || length > limit) {
      throw PgErrors.protocol(
          "Cannot read message: its length "
              + length
              + " is not between 4 and "
              + limit
              + " bytes; is this a PostgreSQL client?");
    }
    byte[] body = new byte[length - 4];
    in.readFully(body);
    return body;
  }

  char type() {
    return type;
  }

  int remaining() {
    return body.remaining();
  }

  int int16() {
    check(2);
    return body.getShort();
  }

  int int32() {
    check(4);
    return body.getInt();
  }

  byte int8() {
    check(1);
    return body.get();
  }

  byte[] bytes(int count) {
    if (count < 0) {
      throw PgErrors.protocol("Cannot read message '" + type + "': negative length " + count);
    }
    check(count);
    byte[] bytes = new byte[count];
    body.get(bytes);
    return bytes;
  }

  /** A value of {@code int32 length, bytes}, null for length -1. */
  byte[] lengthPrefixed() {
    int length = int32();
    return length == -1 ? null : bytes(length);
  }

  /** A NUL-terminated UTF-8 string. */
  String cstring() {
    int start = body.position();
    int end = start;
    while (end < body.limit() && body.get(end) != 0) {
      end++;
    }
    if (end == body.limit()) {
      throw PgErrors.protocol("Cannot read message '" + type + "': a string is not terminated");
    }
    String text =
        new String(body.array(), body.arrayOffset() + start, end - start, StandardCharsets.UTF_8);
    body.position(end + 1);
    return text;
  }

  /** The rest of the body as UTF-8 text. */
  String rest() {
    return new String(bytes(body.remaining()), StandardCharsets.UTF_8);
  }

  private void check(int count) {
    if (body.remaining() < count) {
      throw PgErrors.protocol("Cannot read message '" + type + "': it ends early");
    }
  }
}
