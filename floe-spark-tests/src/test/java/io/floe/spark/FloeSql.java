package io.floe.spark;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Floe's own SQL, over the HTTP query API of {@code floe run} ({@code POST /v1/query}, CSV), with a
 * real HTTP client: what a user's script would do.
 */
final class FloeSql {
  private static final Duration TIMEOUT = Duration.ofMinutes(2);

  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private final URI queryUrl;
  private final String authorization;

  FloeSql(String queryUrl, String user, String password) {
    this.queryUrl = URI.create(requireNonNull(queryUrl, "queryUrl is null") + "?format=csv");
    this.authorization =
        "Basic "
            + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
  }

  /**
   * Runs {@code sql} and returns its rows (without the header line), each value as CSV gives it:
   * {@code null} for NULL.
   *
   * @throws AssertionError when the query fails, with Floe's response
   */
  List<List<String>> query(String sql) throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(queryUrl)
            .timeout(TIMEOUT)
            .header("Authorization", authorization)
            .header("Content-Type", "text/plain; charset=utf-8")
            .POST(HttpRequest.BodyPublishers.ofString(sql, StandardCharsets.UTF_8))
            .build();
    HttpResponse<String> response =
        client.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    if (response.statusCode() != 200) {
      throw new AssertionError(
          "Floe's query failed with HTTP "
              + response.statusCode()
              + ": "
              + sql
              + "\n"
              + response.body());
    }
    List<List<String>> rows = parseCsv(response.body());
    if (rows.isEmpty()) {
      throw new AssertionError("Floe's answer has no header line: " + response.body());
    }
    return rows.subList(1, rows.size());
  }

  /** RFC 4180 as the query API writes it: an empty field is NULL, {@code ""} the empty string. */
  static List<List<String>> parseCsv(String text) {
    List<List<String>> rows = new ArrayList<>();
    List<String> row = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    boolean wasQuoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
          field.append('"');
          i++;
        } else if (c == '"') {
          quoted = false;
        } else {
          field.append(c);
        }
      } else if (c == '"') {
        quoted = true;
        wasQuoted = true;
      } else if (c == ',' || c == '\n') {
        row.add(field.length() == 0 && !wasQuoted ? null : field.toString());
        field.setLength(0);
        wasQuoted = false;
        if (c == '\n') {
          rows.add(row);
          row = new ArrayList<>();
        }
      } else if (c != '\r') {
        field.append(c);
      }
    }
    if (field.length() > 0 || wasQuoted || !row.isEmpty()) {
      row.add(field.length() == 0 && !wasQuoted ? null : field.toString());
      rows.add(row);
    }
    return rows;
  }
}
