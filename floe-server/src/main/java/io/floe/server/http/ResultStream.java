package io.floe.server.http;

import com.fasterxml.jackson.core.JsonGenerator;
import io.floe.core.FloeException;
import io.floe.sql.QueryStats;
import io.floe.sql.SqlColumn;
import io.floe.sql.SqlValues;
import io.floe.sql.TableScan;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Writes a query result in one of the API's formats, row by row. */
abstract class ResultStream {
  /** The stream for {@code format}, writing to {@code out}. */
  static ResultStream open(QueryRequest.ResultFormat format, OutputStream out) throws IOException {
    switch (format) {
      case CSV:
        return new Csv(out);
      default:
        return new Json(out);
    }
  }

  abstract String contentType();

  abstract void begin(String queryId, List<SqlColumn> columns) throws IOException;

  abstract void row(Object[] values) throws IOException;

  /** Ends a complete result. */
  abstract void end(QueryStats stats, long rows, long elapsedMillis) throws IOException;

  /**
   * Ends a result whose query failed after rows were sent. Returns false when the format has no way
   * to say so, and the response must be aborted instead.
   */
  abstract boolean fail(FloeException error) throws IOException;

  /**
   * {@code {"queryId": "...", "columns": [{"name": .., "type": ..}], "rows": [[...], ...], "stats":
   * {...}}}; a query failing after its first row ends with {@code "error": {...}} instead of {@code
   * "stats"}.
   */
  static final class Json extends ResultStream {
    private final JsonGenerator json;

    Json(OutputStream out) throws IOException {
      json = Responses.JSON.createGenerator(out);
      json.enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);
      json.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
    }

    @Override
    String contentType() {
      return Responses.JSON_TYPE;
    }

    @Override
    void begin(String queryId, List<SqlColumn> columns) throws IOException {
      json.writeStartObject();
      json.writeStringField("queryId", queryId);
      json.writeArrayFieldStart("columns");
      for (SqlColumn column : columns) {
        json.writeStartObject();
        json.writeStringField("name", column.name());
        json.writeStringField("type", column.type());
        json.writeEndObject();
      }
      json.writeEndArray();
      json.writeArrayFieldStart("rows");
    }

    @Override
    void row(Object[] values) throws IOException {
      json.writeStartArray();
      for (Object value : values) {
        SqlValues.writeJson(json, value);
      }
      json.writeEndArray();
    }

    @Override
    void end(QueryStats stats, long rows, long elapsedMillis) throws IOException {
      json.writeEndArray();
      json.writeObjectFieldStart("stats");
      json.writeNumberField("rows", rows);
      json.writeNumberField("bytesScanned", stats.bytesScanned());
      json.writeNumberField("elapsedMillis", elapsedMillis);
      json.writeNumberField("planningMillis", stats.planningMillis());
      json.writeBooleanField("reused", stats.reused());
      json.writeArrayFieldStart("scans");
      for (TableScan scan : stats.scans()) {
        json.writeStartObject();
        json.writeStringField("reference", scan.reference());
        json.writeStringField("table", scan.table());
        json.writeNumberField("snapshotId", scan.snapshotId());
        json.writeStringField("filter", scan.filter());
        json.writeNumberField("dataFiles", scan.dataFiles());
        json.writeNumberField("totalDataFiles", scan.totalDataFiles());
        json.writeNumberField("deleteFiles", scan.deleteFiles());
        json.writeNumberField("bytes", scan.bytes());
        json.writeNumberField("totalBytes", scan.totalBytes());
        json.writeEndObject();
      }
      json.writeEndArray();
      json.writeEndObject();
      json.writeEndObject();
      json.writeRaw('\n');
      json.flush();
    }

    @Override
    boolean fail(FloeException error) throws IOException {
      json.writeEndArray();
      json.writeFieldName("error");
      ErrorResponses.writeError(json, error);
      json.writeEndObject();
      json.writeRaw('\n');
      json.flush();
      return true;
    }
  }

  /**
   * RFC 4180 CSV: a header line of column names, then one line per row, lines ending in CRLF. NULL
   * is an empty field and the empty string is {@code ""}; other values are written as DuckDB prints
   * them.
   */
  static final class Csv extends ResultStream {
    private final Writer out;
    private int width;

    Csv(OutputStream out) {
      this.out = new OutputStreamWriter(out, StandardCharsets.UTF_8);
    }

    @Override
    String contentType() {
      return "text/csv; charset=utf-8; header=present";
    }

    @Override
    void begin(String queryId, List<SqlColumn> columns) throws IOException {
      width = columns.size();
      for (int i = 0; i < width; i++) {
        if (i > 0) {
          out.write(',');
        }
        out.write(SqlValues.csvField(columns.get(i).name()));
      }
      out.write("\r\n");
    }

    @Override
    void row(Object[] values) throws IOException {
      for (int i = 0; i < width; i++) {
        if (i > 0) {
          out.write(',');
        }
        String text = SqlValues.text(values[i]);
        if (text != null) {
          out.write(SqlValues.csvField(text));
        }
      }
      out.write("\r\n");
    }

    @Override
    void end(QueryStats stats, long rows, long elapsedMillis) throws IOException {
      out.flush();
    }

    @Override
    boolean fail(FloeException error) {
      return false;
    }
  }
}
