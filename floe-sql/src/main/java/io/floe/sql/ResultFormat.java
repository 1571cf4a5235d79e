package io.floe.sql;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/** Output formats of query results. */
public enum ResultFormat {
  TABLE,
  CSV,
  JSON;

  /** A handler writing rows in this format; call {@link Writer#finish()} at the end. */
  public Writer writer(PrintStream out) {
    switch (this) {
      case CSV:
        return new CsvWriter(out);
      case JSON:
        return new JsonWriter(out);
      default:
        return new TableWriter(out);
    }
  }

  /** Writes a result. */
  public abstract static class Writer implements QueryEngine.ResultHandler {
    protected final PrintStream out;
    protected List<String> names = List.of();
    protected long rows;

    Writer(PrintStream out) {
      this.out = out;
    }

    @Override
    public void columns(List<SqlColumn> columns) {
      this.names = columns.stream().map(SqlColumn::name).toList();
    }

    public long rows() {
      return rows;
    }

    public abstract void finish();
  }

  private static final class CsvWriter extends Writer {
    CsvWriter(PrintStream out) {
      super(out);
    }

    @Override
    public void columns(List<SqlColumn> columns) {
      super.columns(columns);
      List<String> header = new ArrayList<>();
      names.forEach(name -> header.add(SqlValues.csvField(name)));
      out.println(String.join(",", header));
    }

    @Override
    public void row(Object[] row) {
      StringBuilder line = new StringBuilder();
      for (int i = 1; i <= names.size(); i++) {
        if (i > 1) {
          line.append(',');
        }
        String value = SqlValues.text(row[i - 1]);
        if (value != null) {
          line.append(SqlValues.csvField(value));
        }
      }
      out.println(line);
      rows++;
    }

    @Override
    public void finish() {
      out.flush();
    }
  }

  private static final class JsonWriter extends Writer {
    private final JsonGenerator generator;

    JsonWriter(PrintStream out) {
      super(out);
      try {
        generator = new JsonFactory().createGenerator(out);
        generator.writeStartArray();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void row(Object[] row) {
      try {
        generator.writeStartObject();
        for (int i = 1; i <= names.size(); i++) {
          generator.writeFieldName(names.get(i - 1));
          SqlValues.writeJson(generator, row[i - 1]);
        }
        generator.writeEndObject();
        rows++;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void finish() {
      try {
        generator.writeEndArray();
        generator.flush();
        out.println();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static final class TableWriter extends Writer {
    private final List<String[]> buffered = new ArrayList<>();

    TableWriter(PrintStream out) {
      super(out);
    }

    @Override
    public void row(Object[] row) {
      String[] values = new String[names.size()];
      for (int i = 1; i <= names.size(); i++) {
        String value = SqlValues.text(row[i - 1]);
        values[i - 1] = value == null ? "NULL" : value;
      }
      buffered.add(values);
      rows++;
    }

    @Override
    public void finish() {
      int[] widths = new int[names.size()];
      for (int i = 0; i < widths.length; i++) {
        widths[i] = names.get(i).length();
      }
      for (String[] row : buffered) {
        for (int i = 0; i < widths.length; i++) {
          widths[i] = Math.max(widths[i], row[i].length());
        }
      }
      out.println(line(names.toArray(new String[0]), widths));
      StringBuilder separator = new StringBuilder();
      for (int i = 0; i < widths.length; i++) {
        separator.append(i == 0 ? "" : "-+-").append("-".repeat(widths[i]));
      }
      out.println(separator);
      for (String[] row : buffered) {
        out.println(line(row, widths));
      }
      out.println("(" + rows + (rows == 1 ? " row)" : " rows)"));
      out.flush();
    }

    private static String line(String[] values, int[] widths) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < values.length; i++) {
        if (i > 0) {
          line.append(" | ");
        }
        line.append(values[i]).append(" ".repeat(widths[i] - values[i].length()));
      }
      return line.toString().stripTrailing();
    }
  }
}
