package io.floe.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.sql.QueryException;
import io.floe.sql.QueryStats;
import io.floe.sql.SqlColumn;
import io.floe.sql.SqlValues;
import io.floe.sql.TableScan;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResultStreamTest {
  private static final List<SqlColumn> COLUMNS =
      List.of(new SqlColumn("a", "ANY"), new SqlColumn("b, \"quoted\"", "ANY"));
  private static final QueryStats STATS =
      new QueryStats(
          "q-000007",
          List.of(new TableScan("raw.sales", "raw.sales", 42, "true", 1, 2, 0, 100, 200)),
          100,
          3,
          false);

  @Test
  void writesJsonValuesAsNumbersStringsBooleansAndNull() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ResultStream json = ResultStream.open(QueryRequest.ResultFormat.JSON, out);
    json.begin("q-000007", COLUMNS);
    json.row(new Object[] {1L, new BigDecimal("1E+3")});
    json.row(new Object[] {new BigInteger("170141183460469231731687303715884105727"), 1.5d});
    json.row(new Object[] {Double.NaN, Float.NEGATIVE_INFINITY});
    json.row(new Object[] {true, null});
    json.row(new Object[] {LocalDate.of(2026, 1, 2), LocalDateTime.of(2026, 1, 2, 3, 4, 5)});
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("k", "v");
    json.row(new Object[] {List.of(1, 2), new SqlValues.SqlStruct(fields)});
    json.end(STATS, 6, 12);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "{\"queryId\":\"q-000007\",\"columns\":[{\"name\":\"a\",\"type\":\"ANY\"},"
                + "{\"name\":\"b, \\\"quoted\\\"\",\"type\":\"ANY\"}],\"rows\":["
                + "[1,1000],"
                + "[170141183460469231731687303715884105727,1.5],"
                + "[\"NaN\",\"-Infinity\"],"
                + "[true,null],"
                + "[\"2026-01-02\",\"2026-01-02 03:04:05\"],"
                + "[\"[1, 2]\",\"{'k': 'v'}\"]],"
                + "\"stats\":{\"rows\":6,\"bytesScanned\":100,\"elapsedMillis\":12,"
                + "\"planningMillis\":3,\"reused\":false,\"scans\":[{\"reference\":\"raw.sales\","
                + "\"table\":\"raw.sales\",\"snapshotId\":42,\"filter\":\"true\",\"dataFiles\":1,"
                + "\"totalDataFiles\":2,\"deleteFiles\":0,\"bytes\":100,\"totalBytes\":200}]}}\n");
  }

  @Test
  void endsAFailedJsonResultWithTheError() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ResultStream json = ResultStream.open(QueryRequest.ResultFormat.JSON, out);
    json.begin("q-000007", COLUMNS);
    json.row(new Object[] {1, "x"});
    assertThat(
            json.fail(
                new QueryException(
                    ErrorCode.SQL_CANCELLED,
                    QueryException.SqlState.QUERY_CANCELED,
                    "Query q-000007 was cancelled on request")))
        .isTrue();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .endsWith(
            "\"rows\":[[1,\"x\"]],\"error\":{\"code\":\"FLOE-303\",\"sqlState\":\"57014\","
                + "\"message\":\"Query q-000007 was cancelled on request\"}}\n");
  }

  @Test
  void writesCsvAsRfc4180() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ResultStream csv = ResultStream.open(QueryRequest.ResultFormat.CSV, out);
    csv.begin("q-000007", COLUMNS);
    csv.row(new Object[] {"plain", "with, comma"});
    csv.row(new Object[] {"", null});
    csv.row(new Object[] {"line\nbreak", "say \"hi\""});
    csv.row(new Object[] {new BigDecimal("10.50"), List.of("a", "b")});
    csv.end(STATS, 4, 1);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "a,\"b, \"\"quoted\"\"\"\r\n"
                + "plain,\"with, comma\"\r\n"
                + "\"\",\r\n"
                + "\"line\nbreak\",\"say \"\"hi\"\"\"\r\n"
                + "10.50,\"[a, b]\"\r\n");
    assertThat(csv.fail(new FloeException(ErrorCode.SQL_FAILED, "Cannot run query: boom")))
        .isFalse();
  }
}
