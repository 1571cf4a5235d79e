package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.floe.catalog.RequestBody;
import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.ingest.http.HttpSource;
import io.floe.ingest.http.HttpStreams;
import io.floe.ingest.http.IngestRefusedException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP stream endpoints of the HTTP API, served by {@link QueryApi} after authentication:
 *
 * <ul>
 *   <li>{@code POST /v1/streams/{stream}/records}: takes records of a stream ({@code source.type:
 *       http}). The body is a JSON array ({@code Content-Type: application/json}), each element one
 *       record, or NDJSON ({@code application/x-ndjson}), each non-blank line one record; the exact
 *       bytes of each become the record. An array that does not parse is refused whole (400); a
 *       line of NDJSON that is not JSON is taken, and goes to the dead-letter table. An optional
 *       batch id ({@code Floe-Batch-Id} header or {@code ?batch-id=}; 1 to 128 printable ASCII
 *       characters, no spaces) makes retries idempotent: a batch id seen before is answered with
 *       that batch's sequence numbers and {@code "duplicate": true}, and nothing is appended. The
 *       answer, once the records are durable in the stream's log (or with {@code ?wait=commit} once
 *       the table committed them): {@code {"stream": .., "accepted": n, "first_sequence": ..,
 *       "last_sequence": .., "duplicate": false, "durable": "log"|"commit"}}. A commit that takes
 *       longer than {@link HttpSource#commitWait} is answered with 202 and {@code "durable":
 *       "log"}.
 *   <li>{@code GET /v1/streams}: the streams that run here: {@code {"streams": [{"stream": ..,
 *       "pipeline": .., "buffered_records": n}]}}
 * </ul>
 *
 * Refusals: 400 for a bad body, batch id or parameter; 404 for an unknown stream (naming those that
 * exist); 413 for a body larger than the stream's {@code max-request-bytes}; 415 for another
 * content type; 429 with {@code Retry-After} while the stream's buffer is full; 503 with {@code
 * Retry-After} while its pipeline is not running. Nothing of a refused request is accepted.
 */
final class StreamsApi {
  static final String PATH = "/v1/streams";
  static final String RECORDS = "records";
  static final String BATCH_ID_HEADER = "Floe-Batch-Id";
  static final String NDJSON_TYPE = "application/x-ndjson";
  static final int MAX_BATCH_ID_LENGTH = 128;

  private static final Logger LOG = LoggerFactory.getLogger(StreamsApi.class);

  private final HttpStreams streams;

  StreamsApi(HttpStreams streams) {
    this.streams = requireNonNull(streams, "streams is null");
  }

  /** Whether {@code path} is one of this API's. */
  static boolean serves(String path) {
    return path.equals(PATH) || path.startsWith(PATH + "/");
  }

  /** The methods a path allows, for the {@code Allow} header of a 405. */
  static String allowed(String path) {
    return path.equals(PATH) ? "GET" : "POST";
  }

  /**
   * Serves a request whose path {@link #serves} accepts, completing {@code callback}.
   *
   * @throws RequestRejected for an unknown path or stream, a wrong method, or a refused request
   */
  void serve(Request request, Response response, Callback callback, String path) {
    String method = request.getMethod();
    if (path.equals(PATH)) {
      RequestRejected.requireMethod(method, "GET", ErrorCode.STREAM_REQUEST_INVALID);
      list(response, callback);
      return;
    }
    String[] parts = path.substring(PATH.length() + 1).split("/", -1);
    if (parts.length != 2 || parts[0].isEmpty() || !parts[1].equals(RECORDS)) {
      throw new RequestRejected(
          HttpStatus.NOT_FOUND_404,
          invalid(
              "Cannot serve "
                  + method
                  + " "
                  + path
                  + ": no such endpoint; POST records to /v1/streams/{stream}/records, GET"
                  + " /v1/streams lists the streams"));
    }
    RequestRejected.requireMethod(method, "POST", ErrorCode.STREAM_REQUEST_INVALID);
    ingest(request, response, callback, parts[0]);
  }

  private void list(Response response, Callback callback) {
    byte[] body =
        Responses.json(
            json -> {
              json.writeStartObject();
              json.writeArrayFieldStart("streams");
              for (HttpSource source : streams.all()) {
                json.writeStartObject();
                json.writeStringField("stream", source.stream());
                json.writeStringField("pipeline", source.pipeline());
                json.writeNumberField("buffered_records", source.bufferedRecords());
                json.writeEndObject();
              }
              json.writeEndArray();
              json.writeEndObject();
            });
    Responses.json(response, callback, HttpStatus.OK_200, body);
  }

  private void ingest(Request request, Response response, Callback callback, String name) {
    if (streams.find(name).isEmpty() && streams.expected(name)) {
      response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
      throw new RequestRejected(
          HttpStatus.SERVICE_UNAVAILABLE_503,
          new FloeException(
              ErrorCode.STREAM_UNAVAILABLE,
              "Cannot take records of stream "
                  + name
                  + " yet: its pipeline is starting (or starting again after a failure); send"
                  + " them again, with the same batch id, in a second"));
    }
    HttpSource source =
        streams
            .find(name)
            .orElseThrow(
                () ->
                    new RequestRejected(
                        HttpStatus.NOT_FOUND_404,
                        invalid(
                            "Cannot take records of stream "
                                + name
                                + ": no such stream runs here; "
                                + (streams.names().isEmpty()
                                    ? "none does (a pipeline with source.type http runs one)"
                                    : "the streams are " + String.join(", ", streams.names())))));
    Fields parameters = Request.extractQueryParameters(request);
    String batchId = batchId(request, parameters);
    boolean waitForCommit = waitForCommit(parameters.getValue("wait"));
    boolean ndjson = ndjson(request.getHeaders().get(HttpHeader.CONTENT_TYPE));
    byte[] body;
    try {
      body = RequestBody.read(request, source.maxRequestBytes(), size -> tooLarge(source, size));
    } catch (UncheckedIOException e) {
      LOG.debug("Cannot read the body of records for stream {}: {}", name, e.getCause().toString());
      callback.failed(e.getCause());
      return;
    }
    List<byte[]> records = ndjson ? lines(body) : array(body);
    if (waitForCommit) {
      // Nothing is written while the commit is awaited: an idle connection is expected.
      request.addIdleTimeoutListener(timeout -> false);
    }
    HttpSource.Result result;
    boolean committed = false;
    try {
      result = source.submit(batchId, records, false).join();
      if (waitForCommit) {
        try {
          result =
              source.committed(result).get(source.commitWait().toMillis(), TimeUnit.MILLISECONDS);
          committed = true;
        } catch (TimeoutException e) {
          // Durable in the log all the same: answer so, with 202 for the commit still to come.
          LOG.debug("Stream {}: no commit of {} within {}", name, result, source.commitWait());
        }
      }
    } catch (IngestRefusedException e) {
      throw refused(response, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IngestRefusedException refused) {
        throw refused(response, refused);
      }
      throw new IllegalStateException("Cannot wait for the commit of stream " + name, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RequestRejected(
          HttpStatus.SERVICE_UNAVAILABLE_503,
          new FloeException(
              ErrorCode.STREAM_UNAVAILABLE,
              "Cannot tell whether stream "
                  + name
                  + " committed the records: Floe is stopping; they are durable in its log,"
                  + " send them again with the same batch id to learn when they are committed"));
    } catch (FloeException e) {
      throw new RequestRejected(HttpStatus.INTERNAL_SERVER_ERROR_500, e);
    }
    HttpSource.Result answer = result;
    boolean durableCommit = committed;
    byte[] json =
        Responses.json(
            out -> {
              out.writeStartObject();
              out.writeStringField("stream", answer.stream());
              out.writeNumberField("accepted", answer.accepted());
              if (answer.accepted() > 0) {
                out.writeNumberField("first_sequence", answer.firstSequence());
                out.writeNumberField("last_sequence", answer.lastSequence());
              } else {
                out.writeNullField("first_sequence");
                out.writeNullField("last_sequence");
              }
              out.writeBooleanField("duplicate", answer.duplicate());
              out.writeStringField("durable", durableCommit ? "commit" : "log");
              out.writeEndObject();
            });
    Responses.json(
        response,
        callback,
        waitForCommit && !committed ? HttpStatus.ACCEPTED_202 : HttpStatus.OK_200,
        json);
  }

  private static RequestRejected refused(Response response, IngestRefusedException e) {
    response
        .getHeaders()
        .put(HttpHeader.RETRY_AFTER, Long.toString(Math.max(1, e.retryAfterSeconds())));
    return new RequestRejected(
        e.code() == ErrorCode.STREAM_BUSY
            ? HttpStatus.TOO_MANY_REQUESTS_429
            : HttpStatus.SERVICE_UNAVAILABLE_503,
        e);
  }

  /** The request's batch id, from the header or the query parameter, or null. */
  private static String batchId(Request request, Fields parameters) {
    String header = request.getHeaders().get(BATCH_ID_HEADER);
    String parameter = parameters.getValue("batch-id");
    if (header != null && parameter != null && !header.equals(parameter)) {
      throw badRequest(
          "Cannot take the records: the "
              + BATCH_ID_HEADER
              + " header ("
              + header
              + ") and ?batch-id= ("
              + parameter
              + ") differ; send one of them");
    }
    String id = header != null ? header : parameter;
    if (id == null) {
      return null;
    }
    boolean printable = !id.isEmpty() && id.length() <= MAX_BATCH_ID_LENGTH;
    for (int i = 0; printable && i < id.length(); i++) {
      char c = id.charAt(i);
      printable = c > 0x20 && c < 0x7f;
    }
    if (!printable) {
      throw badRequest(
          "Cannot take the records: the batch id must be 1 to "
              + MAX_BATCH_ID_LENGTH
              + " printable ASCII characters without spaces, such as a UUID or"
              + " producer-17-000042; it has "
              + id.length()
              + " characters");
    }
    return id;
  }

  private static boolean waitForCommit(String wait) {
    if (wait == null || wait.equals("log")) {
      return false;
    }
    if (wait.equals("commit")) {
      return true;
    }
    throw badRequest(
        "Cannot use wait="
            + wait
            + ": use wait=commit to be answered once the table committed the records, or leave it"
            + " out to be answered once they are durable in the stream's log");
  }

  private static boolean ndjson(String contentType) {
    String type = "";
    if (contentType != null) {
      int semicolon = contentType.indexOf(';');
      type =
          (semicolon < 0 ? contentType : contentType.substring(0, semicolon))
              .trim()
              .toLowerCase(Locale.ROOT);
    }
    if (type.equals(NDJSON_TYPE)) {
      return true;
    }
    if (type.isEmpty() || type.equals(Responses.JSON_TYPE)) {
      return false;
    }
    throw new RequestRejected(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE_415,
        invalid(
            "Cannot take records sent as "
                + type
                + ": send a JSON array of records with Content-Type: application/json, or one"
                + " record per line with Content-Type: application/x-ndjson"));
  }

  private static RequestRejected tooLarge(HttpSource source, String size) {
    return new RequestRejected(
        HttpStatus.PAYLOAD_TOO_LARGE_413,
        invalid(
            "Cannot take records of stream "
                + source.stream()
                + ": the body has "
                + size
                + ", more than its max-request-bytes of "
                + source.maxRequestBytes()
                + "; send fewer records per request, or raise max-request-bytes of pipeline "
                + source.pipeline()));
  }

  /** The records of an NDJSON body: its non-blank lines, without surrounding whitespace. */
  static List<byte[]> lines(byte[] body) {
    List<byte[]> records = new ArrayList<>();
    int start = 0;
    while (start <= body.length) {
      int end = start;
      while (end < body.length && body[end] != '\n') {
        end++;
      }
      int from = start;
      int to = end;
      while (from < to && whitespace(body[from])) {
        from++;
      }
      while (to > from && whitespace(body[to - 1])) {
        to--;
      }
      if (to > from) {
        records.add(Arrays.copyOfRange(body, from, to));
      }
      start = end + 1;
    }
    return records;
  }

  private static boolean whitespace(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  /** The records of a JSON array body: the exact bytes of each element. */
  static List<byte[]> array(byte[] body) {
    List<byte[]> records = new ArrayList<>();
    try (JsonParser parser = Responses.JSON.createParser(body)) {
      JsonToken token = parser.nextToken();
      if (token != JsonToken.START_ARRAY) {
        throw badRequest(
            "Cannot take the records: the body must be a JSON array of records, such as"
                + " [{\"id\": 1}, {\"id\": 2}]"
                + (token == null ? " (it is empty)" : "")
                + ", or send one record per line with Content-Type: application/x-ndjson");
      }
      for (JsonToken element = parser.nextToken();
          element != JsonToken.END_ARRAY;
          element = parser.nextToken()) {
        if (element == null) {
          throw badRequest("Cannot take the records: the body ends inside its JSON array");
        }
        long start = parser.currentTokenLocation().getByteOffset();
        parser.skipChildren();
        parser.finishToken();
        long end = parser.currentLocation().getByteOffset();
        records.add(Arrays.copyOfRange(body, (int) start, (int) end));
      }
      JsonToken after = parser.nextToken();
      if (after != null) {
        JsonLocation location = parser.currentTokenLocation();
        throw badRequest(
            "Cannot take the records: the body has more after its JSON array, at line "
                + location.getLineNr()
                + ", column "
                + location.getColumnNr()
                + "; send one array");
      }
    } catch (JsonProcessingException e) {
      JsonLocation location = e.getLocation();
      throw badRequest(
          "Cannot take the records: the body is not a valid JSON array"
              + (location == null
                  ? ""
                  : " at line " + location.getLineNr() + ", column " + location.getColumnNr())
              + ": "
              + e.getOriginalMessage()
              + "; nothing was accepted: fix the body and send it again");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return records;
  }

  private static RequestRejected badRequest(String message) {
    return new RequestRejected(HttpStatus.BAD_REQUEST_400, invalid(message));
  }

  private static FloeException invalid(String message) {
    return new FloeException(ErrorCode.STREAM_REQUEST_INVALID, message);
  }
}
