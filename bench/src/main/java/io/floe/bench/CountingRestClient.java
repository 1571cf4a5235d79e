package io.floe.bench;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.apache.iceberg.rest.ParserContext;
import org.apache.iceberg.rest.RESTClient;
import org.apache.iceberg.rest.RESTRequest;
import org.apache.iceberg.rest.RESTResponse;
import org.apache.iceberg.rest.auth.AuthSession;
import org.apache.iceberg.rest.responses.ErrorResponse;

/**
 * Iceberg's own HTTP client of the REST catalog, counting and timing the requests it sends by kind,
 * and the error responses it gets. The benchmark checks with it that every measured {@code
 * loadTable} went to the server (the client caches a table only when the server sends an ETag), and
 * says what a commit costs in requests.
 */
final class CountingRestClient implements RESTClient {
  /** What a request does, from its method and path. */
  enum Kind {
    LOAD_TABLE,
    COMMIT_TABLE,
    REPORT_METRICS,
    OTHER
  }

  /** Requests, their time and conflicts, shared by a client and the clients it derives. */
  static final class Counts {
    private final Map<Kind, LongAdder> requests = new EnumMap<>(Kind.class);
    private final Map<Kind, LongAdder> nanos = new EnumMap<>(Kind.class);
    private final LongAdder conflicts = new LongAdder();
    private final LongAdder errors = new LongAdder();

    Counts() {
      for (Kind kind : Kind.values()) {
        requests.put(kind, new LongAdder());
        nanos.put(kind, new LongAdder());
      }
    }

    Snapshot snapshot() {
      Map<Kind, Long> requestCounts = new EnumMap<>(Kind.class);
      Map<Kind, Long> requestNanos = new EnumMap<>(Kind.class);
      for (Kind kind : Kind.values()) {
        requestCounts.put(kind, requests.get(kind).sum());
        requestNanos.put(kind, nanos.get(kind).sum());
      }
      return new Snapshot(requestCounts, requestNanos, conflicts.sum(), errors.sum());
    }

    private void record(Kind kind, long startedNanos) {
      requests.get(kind).increment();
      nanos.get(kind).add(System.nanoTime() - startedNanos);
    }
  }

  /** The counts at one moment; {@link #minus} gives those of an interval. */
  record Snapshot(Map<Kind, Long> requests, Map<Kind, Long> nanos, long conflicts, long errors) {
    Snapshot {
      requests = Map.copyOf(requests);
      nanos = Map.copyOf(nanos);
    }

    Snapshot minus(Snapshot earlier) {
      Map<Kind, Long> requestCounts = new EnumMap<>(Kind.class);
      Map<Kind, Long> requestNanos = new EnumMap<>(Kind.class);
      for (Kind kind : Kind.values()) {
        requestCounts.put(kind, requests.get(kind) - earlier.requests.get(kind));
        requestNanos.put(kind, nanos.get(kind) - earlier.nanos.get(kind));
      }
      return new Snapshot(
          requestCounts, requestNanos, conflicts - earlier.conflicts, errors - earlier.errors);
    }

    long requests(Kind kind) {
      return requests.get(kind);
    }

    /** Mean milliseconds of one request of this kind, NaN if there was none. */
    double meanMillis(Kind kind) {
      long count = requests.get(kind);
      return count == 0 ? Double.NaN : Bench.millis(nanos.get(kind)) / count;
    }
  }

  private final RESTClient delegate;
  private final Counts counts;

  CountingRestClient(RESTClient delegate, Counts counts) {
    this.delegate = requireNonNull(delegate, "delegate is null");
    this.counts = requireNonNull(counts, "counts is null");
  }

  /** Paths as the client sends them: {@code v1/namespaces/bench/tables/t}, no leading slash. */
  static Kind kind(String method, String path) {
    String[] segments = path.startsWith("/") ? path.substring(1).split("/") : path.split("/");
    boolean table =
        segments.length == 5 && segments[1].equals("namespaces") && segments[3].equals("tables");
    if (table && method.equals("GET")) {
      return Kind.LOAD_TABLE;
    } else if (table && method.equals("POST")) {
      return Kind.COMMIT_TABLE;
    } else if (segments.length == 6
        && segments[3].equals("tables")
        && segments[5].equals("metrics")) {
      return Kind.REPORT_METRICS;
    }
    return Kind.OTHER;
  }

  private Consumer<ErrorResponse> counting(Consumer<ErrorResponse> errorHandler) {
    return error -> {
      counts.errors.increment();
      if (error.code() == 409) {
        counts.conflicts.increment();
      }
      errorHandler.accept(error);
    };
  }

  @Override
  public RESTClient withAuthSession(AuthSession session) {
    return new CountingRestClient(delegate.withAuthSession(session), counts);
  }

  @Override
  public void head(String path, Map<String, String> headers, Consumer<ErrorResponse> errorHandler) {
    long started = System.nanoTime();
    try {
      delegate.head(path, headers, counting(errorHandler));
    } finally {
      counts.record(kind("HEAD", path), started);
    }
  }

  @Override
  public <T extends RESTResponse> T delete(
      String path,
      Class<T> responseType,
      Map<String, String> headers,
      Consumer<ErrorResponse> errorHandler) {
    long started = System.nanoTime();
    try {
      return delegate.delete(path, responseType, headers, counting(errorHandler));
    } finally {
      counts.record(kind("DELETE", path), started);
    }
  }

  @Override
  public <T extends RESTResponse> T delete(
      String path,
      Map<String, String> queryParams,
      Class<T> responseType,
      Map<String, String> headers,
      Consumer<ErrorResponse> errorHandler) {
    long started = System.nanoTime();
    try {
      return delegate.delete(path, queryParams, responseType, headers, counting(errorHandler));
    } finally {
      counts.record(kind("DELETE", path), started);
    }
  }

  @Override
  public <T extends RESTResponse> T get(
      String path,
      Map<String, String> queryParams,
      Class<T> responseType,
      Map<String, String> headers,
      Consumer<ErrorResponse> errorHandler) {
    long started = System.nanoTime();
    try {
      return delegate.get(path, queryParams, responseType, headers, counting(errorHandler));
    } finally {
      counts.record(kind("GET", path), started);
    }
  }

  @Override
  public <T extends RESTResponse> T get(
      String path,
      Map<String, String> queryParams,
      Class<T> responseType,
      Map<String, String> headers,
      Consumer<ErrorResponse> errorHandler,
      ParserContext parserContext) {
    long started = System.nanoTime();
    try {
      return delegate.get(
          path, queryParams, responseType, headers, counting(errorHandler), parserContext);
    } finally {
      counts.record(kind("GET", path), started);
    }
  }

  @Override
  public <T extends RESTResponse> T get(
      String path,
      Map<String, String> queryParams,
      Class<T> responseType,
      Map<String, String> headers,
      Consumer<ErrorResponse> errorHandler,
      Consumer<Map<String, String>> responseHeaders) {
    long started = System.nanoTime();
    try {
      return delegate.get(
          path, queryParams, responseType, headers, counting(errorHandler), responseHeaders);
    } finally {
      counts.record(kind("GET", path), started);
    }
  }

  @Override
  public <T extends RESTResponse> T post(
      String path,
      RESTRequest body,
      Class<T> responseType,
      Map<String, String> headers,
      Consumer<ErrorResponse> errorHandler) {
    long started = System.nanoTime();
    try {
      return delegate.post(path, body, responseType, headers, counting(errorHandler));
    } finally {
      counts.record(kind("POST", path), started);
    }
  }

  @Override
  public <T extends RESTResponse> T post(
      String path,
      RESTRequest body,
      Class<T> responseType,
      Map<String, String> headers,
      Consumer<ErrorResponse> errorHandler,
      Consumer<Map<String, String>> responseHeaders) {
    long started = System.nanoTime();
    try {
      return delegate.post(
          path, body, responseType, headers, counting(errorHandler), responseHeaders);
    } finally {
      counts.record(kind("POST", path), started);
    }
  }

  @Override
  public <T extends RESTResponse> T post(
      String path,
      RESTRequest body,
      Class<T> responseType,
      Map<String, String> headers,
      Consumer<ErrorResponse> errorHandler,
      Consumer<Map<String, String>> responseHeaders,
      ParserContext parserContext) {
    long started = System.nanoTime();
    try {
      return delegate.post(
          path,
          body,
          responseType,
          headers,
          counting(errorHandler),
          responseHeaders,
          parserContext);
    } finally {
      counts.record(kind("POST", path), started);
    }
  }

  @Override
  public <T extends RESTResponse> T postForm(
      String path,
      Map<String, String> formData,
      Class<T> responseType,
      Map<String, String> headers,
      Consumer<ErrorResponse> errorHandler) {
    long started = System.nanoTime();
    try {
      return delegate.postForm(path, formData, responseType, headers, counting(errorHandler));
    } finally {
      counts.record(Kind.OTHER, started);
    }
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
