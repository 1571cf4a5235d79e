package io.floe.server.http;

import com.fasterxml.jackson.core.JsonGenerator;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.sql.QueryException;
import java.io.IOException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Error bodies of the API: {@code {"error": {"code": "FLOE-300", "sqlState": "42601", "message":
 * "...", "position": 15}}}. {@code position} (1-based, in characters of the query) is present only
 * when the error points into the query text.
 */
final class ErrorResponses {
  static final String AUTHENTICATE = "Basic realm=\"floe\"";

  private ErrorResponses() {}

  /**
   * The status for an error: 401 for authentication, 400 for user errors, 502 for a system Floe
   * depends on (storage, the catalog; retriable or not), 500 for Floe's own.
   */
  static int status(FloeException error) {
    if (error.code() == ErrorCode.AUTHENTICATION_FAILED) {
      return HttpStatus.UNAUTHORIZED_401;
    }
    switch (error.type()) {
      case USER:
        return HttpStatus.BAD_REQUEST_400;
      case EXTERNAL:
      case EXTERNAL_RETRIABLE:
        return HttpStatus.BAD_GATEWAY_502;
      default:
        return HttpStatus.INTERNAL_SERVER_ERROR_500;
    }
  }

  /** Writes the {@code "error"} member's value: the object with code, SQLSTATE and message. */
  static void writeError(JsonGenerator json, FloeException error) throws IOException {
    writeError(json, error, true);
  }

  private static void writeError(JsonGenerator json, FloeException error, boolean sqlState)
      throws IOException {
    json.writeStartObject();
    json.writeStringField("code", error.code().label());
    if (sqlState) {
      json.writeStringField("sqlState", QueryException.sqlState(error));
    }
    json.writeStringField("message", error.getMessage());
    if (error instanceof QueryException && ((QueryException) error).position() > 0) {
      json.writeNumberField("position", ((QueryException) error).position());
    }
    json.writeEndObject();
  }

  static byte[] body(FloeException error) {
    return body(error, true);
  }

  private static byte[] body(FloeException error, boolean sqlState) {
    return Responses.json(
        json -> {
          json.writeStartObject();
          json.writeFieldName("error");
          writeError(json, error, sqlState);
          json.writeEndObject();
        });
  }

  /** Answers with the error's status and body, completing {@code callback}. */
  static void send(Response response, Callback callback, FloeException error) {
    send(response, callback, status(error), error);
  }

  static void send(Response response, Callback callback, int status, FloeException error) {
    send(response, callback, status, error, true);
  }

  /**
   * Answers with {@code status} and the error's body; with {@code sqlState} false, the body has no
   * {@code sqlState} (errors of the maintenance endpoints, which run no SQL).
   */
  static void send(
      Response response, Callback callback, int status, FloeException error, boolean sqlState) {
    if (status == HttpStatus.UNAUTHORIZED_401) {
      response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, AUTHENTICATE);
    }
    Responses.json(response, callback, status, body(error, sqlState));
  }
}
