package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.MaintenanceConfig;
import io.floe.core.config.SqlConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.TableWriterRegistry;
import io.floe.maintenance.MaintenanceHistory;
import io.floe.maintenance.WarehouseMaintenance;
import io.floe.sql.QueryEngine;
import io.floe.sql.QueryOptions;
import io.floe.sql.ResultFormat;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class InterruptibleQueryTest {
  @TempDir Path warehouse;
  private JdbcCatalog catalog;
  private QueryEngine engine;

  @BeforeEach
  void setUp() {
    catalog = FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
    engine =
        QueryEngines.open(
            catalog,
            WarehouseConfig.local(warehouse),
            SqlConfig.defaults(),
            new WarehouseMaintenance(
                catalog,
                MaintenanceConfig.defaults(),
                MaintenanceHistory.of(CatalogDatabase.embedded(warehouse)),
                new TableWriterRegistry()));
  }

  @AfterEach
  void tearDown() throws Exception {
    catalog.close();
  }

  @Test
  void completesWhenNotInterrupted() {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);
    boolean completed =
        new InterruptibleQuery()
            .run(
                engine,
                "SELECT 1 AS one UNION ALL SELECT 2 ORDER BY 1",
                QueryOptions.local(),
                ResultFormat.CSV.writer(out));
    assertThat(completed).isTrue();
    assertThat(buffer.toString(StandardCharsets.UTF_8)).isEqualTo("one\n1\n2\n");
  }

  @Test
  void stopsWhenInterruptedWhileRowsAreWritten() {
    InterruptibleQuery query = new InterruptibleQuery();
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    // Ctrl-C arrives once the first line is printed: the shutdown hook calls interrupt().
    OutputStream interrupting =
        new OutputStream() {
          @Override
          public void write(int b) {
            buffer.write(b);
            if (b == '\n') {
              query.interrupt();
            }
          }
        };
    boolean completed =
        query.run(
            engine,
            "SELECT * FROM range(100000) t(i)",
            QueryOptions.local(),
            ResultFormat.CSV.writer(new PrintStream(interrupting, true, StandardCharsets.UTF_8)));
    assertThat(completed).isFalse();
    String output = buffer.toString(StandardCharsets.UTF_8);
    assertThat(output).startsWith("i\n");
    assertThat(output.lines().count()).isLessThan(100_001);
  }

  @Test
  void cancelsAQueryInterruptedBeforeItsFirstRow() {
    InterruptibleQuery query = new InterruptibleQuery();
    query.interrupt();
    boolean completed =
        query.run(
            engine,
            "SELECT 1",
            QueryOptions.local(),
            ResultFormat.CSV.writer(
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)));
    assertThat(completed).isFalse();
  }

  @Test
  void reportsOtherFailures() {
    InterruptibleQuery query = new InterruptibleQuery();
    assertThatThrownBy(
            () ->
                query.run(
                    engine,
                    "SELECT * FROM nowhere.nothing",
                    QueryOptions.local(),
                    ResultFormat.CSV.writer(
                        new PrintStream(
                            new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))))
        .isInstanceOfSatisfying(
            FloeException.class, e -> assertThat(e.code()).isNotEqualTo(ErrorCode.SQL_CANCELLED));
  }
}
