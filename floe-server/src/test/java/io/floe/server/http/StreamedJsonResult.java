package io.floe.server.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads a JSON query result as it arrives, a row at a time, through reads of at most {@value
 * #READ_SIZE} bytes.
 */
final class StreamedJsonResult implements AutoCloseable {
  static final int READ_SIZE = 512;

  private final JsonParser parser;
  private final String queryId;
  private final JsonNode columns;

  StreamedJsonResult(InputStream in) throws IOException {
    parser = TestServer.JSON.createParser(new SmallReads(in));
    expect(JsonToken.START_OBJECT);
    String id = null;
    JsonNode names = null;
    while (true) {
      expect(JsonToken.FIELD_NAME);
      String name = parser.currentName();
      parser.nextToken();
      if (name.equals("rows")) {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
          throw new AssertionError("rows is not an array");
        }
        break;
      }
      JsonNode value = parser.readValueAsTree();
      if (name.equals("queryId")) {
        id = value.asText();
      } else if (name.equals("columns")) {
        names = value;
      }
    }
    queryId = id;
    columns = names;
  }

  String queryId() {
    return queryId;
  }

  JsonNode columns() {
    return columns;
  }

  /** The next row, or null after the last. */
  JsonNode nextRow() throws IOException {
    JsonToken token = parser.nextToken();
    if (token == JsonToken.END_ARRAY) {
      return null;
    }
    return parser.readValueAsTree();
  }

  /** The members after the rows: {@code stats} or {@code error}. */
  ObjectNode rest() throws IOException {
    ObjectNode rest = TestServer.JSON.createObjectNode();
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String name = parser.currentName();
      parser.nextToken();
      rest.set(name, parser.readValueAsTree());
    }
    return rest;
  }

  private void expect(JsonToken expected) throws IOException {
    JsonToken token = parser.nextToken();
    if (token != expected) {
      throw new AssertionError("expected " + expected + " but read " + token);
    }
  }

  @Override
  public void close() throws IOException {
    parser.close();
  }

  /** Hands out at most {@link #READ_SIZE} bytes per read. */
  private static final class SmallReads extends FilterInputStream {
    SmallReads(InputStream in) {
      super(in);
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
      return super.read(bytes, offset, Math.min(length, READ_SIZE));
    }
  }
}
