package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.catalog.RequestBody;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.server.DurationParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Fields;

/**
 * The body of {@code POST /v1/query}: either JSON {@code {"sql": "...", "format": "json"|"csv",
 * "timeout": "30s"}} ({@code Content-Type: application/json}, or no content type), or the query
 * itself ({@code Content-Type: text/plain}) with {@code ?format=} and {@code ?timeout=} as query
 * parameters. Query parameters also apply to a JSON body that leaves those members out.
 *
 * @param sql the query text
 * @param format the result format
 * @param timeout how long the query may run: the request's, or the server's {@code
 *     sql.query-timeout}
 */
record QueryRequest(String sql, ResultFormat format, Duration timeout) {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Set<String> MEMBERS = Set.of("sql", "format", "timeout");

  QueryRequest {
    requireNonNull(sql, "sql is null");
    requireNonNull(format, "format is null");
    requireNonNull(timeout, "timeout is null");
  }

  /** Result formats of the API. */
  enum ResultFormat {
    JSON,
    CSV;

    static ResultFormat parse(String text) {
      try {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw invalid("Cannot use format \"" + text + "\": choose json or csv");
      }
    }
  }

  /**
   * Reads and checks the request body.
   *
   * @param bodyLimit largest accepted body, in bytes; a larger body is refused with 413
   * @param maxTimeout the server's query timeout: the default and the largest a request may ask
   * @throws RequestRejected when the body is too large or malformed
   */
  static QueryRequest read(Request request, long bodyLimit, Duration maxTimeout) {
    String contentType = mediaType(request.getHeaders().get(HttpHeader.CONTENT_TYPE));
    boolean json = contentType.isEmpty() || contentType.equals("application/json");
    if (!json && !contentType.equals("text/plain")) {
      throw new RequestRejected(
          HttpStatus.UNSUPPORTED_MEDIA_TYPE_415,
          new FloeException(
              ErrorCode.SQL_INVALID,
              "Cannot read a query sent as "
                  + contentType
                  + ": send Content-Type: application/json with {\"sql\": \"...\"}, or"
                  + " Content-Type: text/plain with the query as the body"));
    }
    byte[] body = RequestBody.read(request, bodyLimit, size -> tooLarge(bodyLimit));
    Fields parameters = Request.extractQueryParameters(request);
    String format = parameters.getValue("format");
    String timeout = parameters.getValue("timeout");
    String sql;
    if (json) {
      JsonNode root = parse(body);
      sql = text(root, "sql");
      if (sql == null) {
        throw invalid(
            "Cannot run query: the request has no \"sql\" member; send {\"sql\": \"...\"}");
      }
      format = root.has("format") ? text(root, "format") : format;
      timeout = root.has("timeout") ? text(root, "timeout") : timeout;
    } else {
      sql = new String(body, charset(request));
    }
    return new QueryRequest(
        sql,
        format == null ? ResultFormat.JSON : ResultFormat.parse(format),
        timeout(timeout, maxTimeout));
  }

  private static String mediaType(String contentType) {
    if (contentType == null) {
      return "";
    }
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
        .trim()
        .toLowerCase(Locale.ROOT);
  }

  private static RequestRejected tooLarge(long limit) {
    return new RequestRejected(
        HttpStatus.PAYLOAD_TOO_LARGE_413,
        new FloeException(
            ErrorCode.SQL_LIMIT_EXCEEDED,
            "Cannot read the request: its body is larger than "
                + limit
                + " bytes, the limit derived from sql.max-query-length; send a shorter query"));
  }

  private static Charset charset(Request request) {
    try {
      Charset charset = Request.getCharset(request);
      return charset == null ? StandardCharsets.UTF_8 : charset;
    } catch (IllegalArgumentException e) {
      throw invalid("Cannot read the request: " + e.getMessage() + "; send the query in UTF-8");
    }
  }

  private static JsonNode parse(byte[] body) {
    JsonNode root;
    try {
      root = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw invalid(
          "Cannot read the request: the body is not valid JSON ("
              + e.getOriginalMessage()
              + "); send {\"sql\": \"...\"} or use Content-Type: text/plain");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (root == null || !root.isObject()) {
      throw invalid("Cannot read the request: send a JSON object such as {\"sql\": \"SELECT 1\"}");
    }
    for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!MEMBERS.contains(name)) {
        throw invalid(
            "Cannot read the request: unknown member \""
                + name
                + "\"; the members are sql, format and timeout");
      }
    }
    return root;
  }

  private static String text(JsonNode root, String member) {
    JsonNode value = root.get(member);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      throw invalid("Cannot read the request: \"" + member + "\" must be a string");
    }
    return value.asText();
  }

  private static Duration timeout(String text, Duration maxTimeout) {
    if (text == null) {
      return maxTimeout;
    }
    Duration timeout =
        DurationParser.tryParse(text)
            .orElseThrow(
                () ->
                    invalid(
                        "Cannot use timeout \""
                            + text
                            + "\": write a duration like 500ms, 10s, 2m or 1h"));
    if (timeout.isZero()) {
      throw invalid("Cannot use timeout " + text + ": it must be longer than zero");
    }
    if (timeout.compareTo(maxTimeout) > 0) {
      throw invalid(
          "Cannot use timeout "
              + text
              + ": the server allows at most "
              + DurationParser.format(maxTimeout)
              + " (sql.query-timeout)");
    }
    return timeout;
  }

  private static RequestRejected invalid(String message) {
    return new RequestRejected(
        HttpStatus.BAD_REQUEST_400, new FloeException(ErrorCode.SQL_INVALID, message));
  }
}
