package io.floe.bench;

import static java.util.Objects.requireNonNull;

import io.floe.catalog.Authorizer;
import io.floe.catalog.RestCatalogServer;
import io.floe.core.catalog.CatalogDatabase;
import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.PrincipalConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.storage.LocalFileIO;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SessionCatalog;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.HTTPClient;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.rest.RESTCatalogProperties;
import org.apache.iceberg.rest.RESTUtil;
import org.apache.iceberg.types.Types;

/**
 * What Floe's Iceberg REST catalog costs over Iceberg's JDBC catalog used directly: the latency of
 * {@code loadTable} and of small commits, and commits per second, through Iceberg's {@link
 * RESTCatalog} client, Floe's {@link RestCatalogServer} on loopback, and the {@link JdbcCatalog} on
 * SQLite behind it (path {@code rest}), against that {@link JdbcCatalog} opened directly with
 * {@link FloeCatalog#open} (path {@code jdbc}), for one table and for many tables that the clients
 * take in turns, with one client thread and with several sharing one catalog.
 *
 * <p>Each repeat runs both paths, each on a fresh warehouse (the order alternates between repeats),
 * after one untimed warm-up round of both at a fifth of the size. Figures are medians over the
 * repeats; ratios are REST over JDBC of those medians.
 *
 * <p>Arguments: {@code [loads=300] [commits=60] [repeats=3] [tables=100] [threads=8]}.
 */
public final class RestCatalogBenchmark {
  private static final Namespace NAMESPACE = Namespace.of("bench");
  private static final String PRINCIPAL = "bench";
  private static final String SECRET = "bench-secret";
  private static final boolean METRICS_REPORTING =
      Boolean.parseBoolean(System.getProperty("floe.bench.restMetricsReporting", "true"));
  private static final Schema SCHEMA =
      new Schema(
          Types.NestedField.required(1, "id", Types.LongType.get()),
          Types.NestedField.optional(2, "name", Types.StringType.get()));

  /**
   * Several writers of one table conflict, and Iceberg retries a conflicting commit 4 times by
   * default; more retries keep every measured commit a success (both paths retry alike).
   */
  private static final Map<String, String> TABLE_PROPERTIES =
      Map.of(TableProperties.FORMAT_VERSION, "2", TableProperties.COMMIT_NUM_RETRIES, "50");

  /** How the benchmark reaches the catalog. */
  enum Access {
    REST,
    JDBC;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What a cell measures. */
  enum Operation {
    /** {@code catalog.loadTable(identifier)}. */
    LOAD("load", "loads"),
    /** An append of one tiny data file (no Parquet behind it) through a table the client holds. */
    APPEND("commit-append", "commits"),
    /** {@code updateProperties().set(...)} through a table the client holds. */
    PROPERTIES("commit-properties", "commits");

    private final String label;
    private final String unit;

    Operation(String label, String unit) {
      this.label = label;
      this.unit = unit;
    }
  }

  /**
   * One measurement: an operation on a set of tables by a number of client threads. {@code name}
   * tells cells on the same operation and sizes apart (a load of tables that have grown).
   */
  record Cell(String name, Operation operation, List<String> tables, int threads, int count) {
    Cell {
      requireNonNull(name, "name is null");
      requireNonNull(operation, "operation is null");
      tables = List.copyOf(tables);
    }

    String key() {
      return name + " tables=" + tables.size() + " threads=" + threads;
    }
  }

  /** What one run of a cell measured. */
  record Measured(
      double p50Millis,
      double p99Millis,
      double perSecond,
      long failures,
      CountingRestClient.Snapshot requests) {}

  /** The sizes of one round. */
  record Sizes(int loads, int commits, int tables, int threads) {}

  private RestCatalogBenchmark() {}

  public static void main(String[] args) throws Exception {
    int loads = (int) Bench.argument(args, 0, 300);
    int commits = (int) Bench.argument(args, 1, 60);
    int repeats = (int) Bench.argument(args, 2, 3);
    int tables = (int) Bench.argument(args, 3, 100);
    int threads = (int) Bench.argument(args, 4, 8);
    if (loads < threads || commits < threads || repeats < 1 || tables < 2 || threads < 2) {
      throw new IllegalArgumentException(
          "Cannot run with loads="
              + loads
              + " commits="
              + commits
              + " repeats="
              + repeats
              + " tables="
              + tables
              + " threads="
              + threads
              + ": use 2 tables and 2 threads or more, at least as many loads and commits as"
              + " threads, and one repeat or more");
    }
    Sizes full = new Sizes(loads, commits, tables, threads);
    Sizes warmUp = new Sizes(loads, Math.max(threads, commits / 5), Math.min(tables, 10), threads);
    System.err.printf(
        Locale.ROOT,
        "rest-catalog: loads=%d commits=%d repeats=%d tables=%d threads=%d rest metrics reports %s,"
            + " load average %s%n",
        loads,
        commits,
        repeats,
        tables,
        threads,
        METRICS_REPORTING ? "on" : "off",
        MachineLoad.loadAverage());
    for (Access access : List.of(Access.REST, Access.JDBC)) {
      System.err.println("warm-up: " + access.label());
      round(access, warmUp);
    }
    Map<String, Cell> cells = new LinkedHashMap<>();
    Map<String, Map<Access, List<Measured>>> results = new LinkedHashMap<>();
    Map<String, Long> grownMetadataBytes = new HashMap<>();
    MachineLoad machine = MachineLoad.start();
    String loadBefore = MachineLoad.loadAverage();
    for (int repeat = 1; repeat <= repeats; repeat++) {
      List<Access> order =
          repeat % 2 == 1 ? List.of(Access.REST, Access.JDBC) : List.of(Access.JDBC, Access.REST);
      for (Access access : order) {
        System.err.printf(Locale.ROOT, "repeat %d of %d: %s%n", repeat, repeats, access.label());
        Round round = round(access, full);
        round.cells.forEach(cell -> cells.putIfAbsent(cell.key(), cell));
        round.measured.forEach(
            (key, measured) ->
                results
                    .computeIfAbsent(key, k -> new EnumMap<>(Access.class))
                    .computeIfAbsent(access, a -> new ArrayList<>())
                    .add(measured));
        grownMetadataBytes.putAll(round.metadataBytes);
      }
    }
    String cpu = machine.summary();
    report(cells, results, grownMetadataBytes, repeats);
    Bench.result(
        "rest-catalog-cpu %s load_average=%s -> %s", cpu, loadBefore, MachineLoad.loadAverage());
  }

  /** The cells of one round and what each measured, by cell key. */
  private record Round(
      List<Cell> cells, Map<String, Measured> measured, Map<String, Long> metadataBytes) {}

  /** Both kinds of table set, every cell, on a fresh warehouse through one access path. */
  private static Round round(Access access, Sizes sizes) throws Exception {
    Path warehouse = Files.createTempDirectory("floe-bench-rest-catalog-" + access.label());
    List<Cell> cells = new ArrayList<>();
    Map<String, Measured> measured = new LinkedHashMap<>();
    Map<String, Long> metadataBytes = new HashMap<>();
    try (Session session = Session.open(access, warehouse)) {
      List<String> serial = List.of("single_serial");
      List<String> concurrent = List.of("single_concurrent");
      List<String> many = new ArrayList<>();
      for (int index = 0; index < sizes.tables(); index++) {
        many.add(String.format(Locale.ROOT, "many_%03d", index));
      }
      long started = System.nanoTime();
      session.namespaces().createNamespace(NAMESPACE);
      for (String table : concat(serial, concurrent, many)) {
        session
            .catalog()
            .createTable(
                TableIdentifier.of(NAMESPACE, table),
                SCHEMA,
                PartitionSpec.unpartitioned(),
                TABLE_PROPERTIES);
      }
      System.err.printf(
          Locale.ROOT,
          "  created %d tables in %.1f s%n",
          many.size() + 2,
          Bench.seconds(System.nanoTime() - started));
      int threads = sizes.threads();
      cells.add(new Cell("load", Operation.LOAD, serial, 1, sizes.loads()));
      cells.add(new Cell("load", Operation.LOAD, serial, threads, sizes.loads()));
      cells.add(new Cell("load", Operation.LOAD, many, 1, sizes.loads()));
      cells.add(new Cell("load", Operation.LOAD, many, threads, sizes.loads()));
      for (Operation commit : List.of(Operation.APPEND, Operation.PROPERTIES)) {
        cells.add(new Cell(commit.label, commit, serial, 1, sizes.commits()));
        cells.add(new Cell(commit.label, commit, concurrent, threads, sizes.commits()));
        cells.add(new Cell(commit.label, commit, many, 1, sizes.commits()));
        cells.add(new Cell(commit.label, commit, many, threads, sizes.commits()));
      }
      // The one table after the commits: more snapshots and a larger metadata file to load.
      cells.add(new Cell("load-after-commits", Operation.LOAD, serial, 1, sizes.loads()));
      cells.add(new Cell("load-after-commits", Operation.LOAD, serial, threads, sizes.loads()));
      for (Cell cell : cells) {
        if (cell.name().equals("load-after-commits") && !metadataBytes.containsKey(cell.name())) {
          metadataBytes.put(cell.name(), session.metadataBytes(serial.get(0)));
        }
        Measured result = run(session, cell);
        measured.put(cell.key(), result);
        System.err.printf(
            Locale.ROOT,
            "  %-50s p50 %7.2f ms  p99 %7.2f ms  %8.1f %s/s%s%n",
            cell.key(),
            result.p50Millis(),
            result.p99Millis(),
            result.perSecond(),
            cell.operation().unit,
            result.failures() > 0 ? "  FAILED " + result.failures() : "");
      }
    } finally {
      if (Boolean.getBoolean("floe.bench.keep")) {
        System.err.println("  kept warehouse " + warehouse);
      } else {
        BenchEnvironment.deleteRecursively(warehouse);
      }
    }
    return new Round(cells, measured, metadataBytes);
  }

  /**
   * Runs a cell: {@code threads} client threads share the session's catalog; operation {@code i}
   * goes to client {@code i % threads} and to table {@code i % tables}. Commits go through tables
   * each client loaded before the clock started, as a writer holds its tables; Iceberg refreshes
   * them as part of a commit.
   */
  private static Measured run(Session session, Cell cell) throws Exception {
    int threads = cell.threads();
    double[] millis = new double[cell.count()];
    LongAdder failures = new LongAdder();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    // Clients get ready (load the tables they hold), then the requests are counted and the clock
    // starts for all of them at once.
    CountDownLatch ready = new CountDownLatch(threads);
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> clients = new ArrayList<>();
    for (int client = 0; client < threads; client++) {
      int first = client;
      Thread thread =
          new Thread(
              () -> {
                try {
                  Map<String, Table> held = new HashMap<>();
                  try {
                    if (cell.operation() != Operation.LOAD) {
                      for (int i = first; i < cell.count(); i += threads) {
                        String name = cell.tables().get(i % cell.tables().size());
                        held.computeIfAbsent(name, session::load);
                      }
                    }
                  } finally {
                    ready.countDown();
                  }
                  go.await();
                  if (failure.get() != null) {
                    return;
                  }
                  for (int i = first; i < cell.count(); i += threads) {
                    String name = cell.tables().get(i % cell.tables().size());
                    long began = System.nanoTime();
                    try {
                      operate(session, cell, name, held.get(name), i);
                      millis[i] = Bench.millis(System.nanoTime() - began);
                    } catch (CommitFailedException e) {
                      millis[i] = Double.NaN;
                      failures.increment();
                    }
                  }
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
              },
              "bench-client-" + client);
      clients.add(thread);
      thread.start();
    }
    ready.await();
    CountingRestClient.Snapshot before = session.requests();
    long began = System.nanoTime();
    go.countDown();
    for (Thread thread : clients) {
      thread.join();
    }
    long elapsed = System.nanoTime() - began;
    CountingRestClient.Snapshot requests =
        before == null ? null : requireNonNull(session.requests()).minus(before);
    if (failure.get() != null) {
      throw new IllegalStateException(
          "Cannot finish benchmark: cell " + cell.key() + " failed: " + failure.get(),
          failure.get());
    }
    double[] succeeded = Arrays.stream(millis).filter(m -> !Double.isNaN(m)).toArray();
    return new Measured(
        Bench.percentile(succeeded, 50),
        Bench.percentile(succeeded, 99),
        succeeded.length / Bench.seconds(elapsed),
        failures.sum(),
        requests);
  }

  private static void operate(Session session, Cell cell, String name, Table held, int index) {
    switch (cell.operation()) {
      case LOAD -> session.load(name);
      case APPEND -> {
        DataFile file =
            DataFiles.builder(held.spec())
                .withPath(held.location() + "/data/bench-" + UUID.randomUUID() + ".parquet")
                .withFormat(FileFormat.PARQUET)
                .withFileSizeInBytes(10)
                .withRecordCount(1)
                .build();
        held.newFastAppend().appendFile(file).commit();
      }
      // A value no earlier cell set: setting a property to the value it has commits nothing.
      case PROPERTIES ->
          held.updateProperties().set("bench.commit", cell.key() + "/" + index).commit();
    }
  }

  private static void report(
      Map<String, Cell> cells,
      Map<String, Map<Access, List<Measured>>> results,
      Map<String, Long> grownMetadataBytes,
      int repeats) {
    boolean everyLoadServed = true;
    long failures = 0;
    for (Map.Entry<String, Map<Access, List<Measured>>> entry : results.entrySet()) {
      Cell cell = cells.get(entry.getKey());
      List<Measured> rest = entry.getValue().get(Access.REST);
      List<Measured> jdbc = entry.getValue().get(Access.JDBC);
      double restP50 = median(rest, Measured::p50Millis);
      double restP99 = median(rest, Measured::p99Millis);
      double restRate = median(rest, Measured::perSecond);
      double jdbcP50 = median(jdbc, Measured::p50Millis);
      double jdbcP99 = median(jdbc, Measured::p99Millis);
      double jdbcRate = median(jdbc, Measured::perSecond);
      String unit = cell.operation().unit;
      String extra =
          cell.name().equals("load-after-commits")
              ? Bench.format(" metadata_bytes=%d", grownMetadataBytes.get(cell.name()))
              : "";
      Bench.result(
          "rest-catalog-%s tables=%d threads=%d %s=%d%s rest: p50_ms=%.2f p99_ms=%.2f %s_per_s=%.1f"
              + " jdbc: p50_ms=%.2f p99_ms=%.2f %s_per_s=%.1f rest/jdbc: p50=%.2f p99=%.2f"
              + " %s_per_s=%.2f (p50 runs rest %s, jdbc %s)",
          cell.name(),
          cell.tables().size(),
          cell.threads(),
          unit,
          cell.count(),
          extra,
          restP50,
          restP99,
          unit,
          restRate,
          jdbcP50,
          jdbcP99,
          unit,
          jdbcRate,
          restP50 / jdbcP50,
          restP99 / jdbcP99,
          unit,
          restRate / jdbcRate,
          runs(rest),
          runs(jdbc));
      // What the REST client sent, summed over the repeats.
      long operations = (long) cell.count() * rest.size();
      CountingRestClient.Snapshot requests = rest.get(0).requests();
      for (Measured measured : rest.subList(1, rest.size())) {
        requests = sum(requests, measured.requests());
      }
      Bench.result(
          "rest-catalog-%s-requests tables=%d threads=%d per_%s: load_table=%.2f commit_table=%.2f"
              + " report_metrics=%.2f other=%.2f conflicts_409=%.2f errors=%.2f mean_ms:"
              + " load_table=%.2f commit_table=%.2f report_metrics=%.2f",
          cell.name(),
          cell.tables().size(),
          cell.threads(),
          cell.operation() == Operation.LOAD ? "load" : "commit",
          perOperation(requests.requests(CountingRestClient.Kind.LOAD_TABLE), operations),
          perOperation(requests.requests(CountingRestClient.Kind.COMMIT_TABLE), operations),
          perOperation(requests.requests(CountingRestClient.Kind.REPORT_METRICS), operations),
          perOperation(requests.requests(CountingRestClient.Kind.OTHER), operations),
          perOperation(requests.conflicts(), operations),
          perOperation(requests.errors(), operations),
          requests.meanMillis(CountingRestClient.Kind.LOAD_TABLE),
          requests.meanMillis(CountingRestClient.Kind.COMMIT_TABLE),
          requests.meanMillis(CountingRestClient.Kind.REPORT_METRICS));
      if (cell.operation() == Operation.LOAD) {
        for (Measured measured : rest) {
          CountingRestClient.Snapshot counted = measured.requests();
          everyLoadServed &=
              counted.requests(CountingRestClient.Kind.LOAD_TABLE) == cell.count()
                  && counted.errors() == 0;
        }
      }
      for (Measured measured : rest) {
        failures += measured.failures();
      }
      for (Measured measured : jdbc) {
        failures += measured.failures();
      }
    }
    Bench.result(
        "rest-catalog-verify every_rest_load_was_one_get_answered_by_the_server=%s"
            + " failed_commits=%d repeats=%d rest_metrics_reporting=%s %s",
        everyLoadServed,
        failures,
        repeats,
        METRICS_REPORTING,
        Bench.verdict(everyLoadServed && failures == 0));
  }

  private static CountingRestClient.Snapshot sum(
      CountingRestClient.Snapshot left, CountingRestClient.Snapshot right) {
    Map<CountingRestClient.Kind, Long> requests = new EnumMap<>(CountingRestClient.Kind.class);
    Map<CountingRestClient.Kind, Long> nanos = new EnumMap<>(CountingRestClient.Kind.class);
    for (CountingRestClient.Kind kind : CountingRestClient.Kind.values()) {
      requests.put(kind, left.requests().get(kind) + right.requests().get(kind));
      nanos.put(kind, left.nanos().get(kind) + right.nanos().get(kind));
    }
    return new CountingRestClient.Snapshot(
        requests, nanos, left.conflicts() + right.conflicts(), left.errors() + right.errors());
  }

  private static double perOperation(long count, long operations) {
    return (double) count / operations;
  }

  private static double median(List<Measured> measured, ToDoubleFunction<Measured> figure) {
    return Bench.median(measured.stream().mapToDouble(figure).toArray());
  }

  private static String runs(List<Measured> measured) {
    return measured.stream()
        .map(m -> Bench.format("%.2f", m.p50Millis()))
        .collect(Collectors.joining(" "));
  }

  @SafeVarargs
  private static List<String> concat(List<String>... lists) {
    List<String> all = new ArrayList<>();
    for (List<String> list : lists) {
      all.addAll(list);
    }
    return all;
  }

  /**
   * The catalog of one path on its warehouse: the JDBC catalog alone, or the REST catalog server
   * over it with a REST client.
   */
  private static final class Session implements AutoCloseable {
    private final JdbcCatalog jdbc;
    private final RestCatalogServer server;
    private final RESTCatalog client;
    private final CountingRestClient.Counts counts;

    private Session(
        JdbcCatalog jdbc,
        RestCatalogServer server,
        RESTCatalog client,
        CountingRestClient.Counts counts) {
      this.jdbc = jdbc;
      this.server = server;
      this.client = client;
      this.counts = counts;
    }

    static Session open(Access access, Path warehouse) {
      JdbcCatalog jdbc =
          FloeCatalog.open(WarehouseConfig.local(warehouse), CatalogConfig.defaults());
      if (access == Access.JDBC) {
        return new Session(jdbc, null, null, null);
      }
      RestCatalogServer server =
          RestCatalogServer.start(
              jdbc,
              FloeCatalog.NAME,
              () -> CatalogDatabase.embedded(warehouse).connect(),
              CatalogConfig.defaults().withEndpoint("127.0.0.1", 0),
              List.of(new PrincipalConfig(PRINCIPAL, SECRET, "primary")),
              Map.of(),
              Authorizer.AUTHENTICATED,
              Clock.systemUTC());
      CountingRestClient.Counts counts = new CountingRestClient.Counts();
      // RESTCatalog's own client, as its no-argument constructor builds it, counted.
      RESTCatalog client =
          new RESTCatalog(
              SessionCatalog.SessionContext.createEmpty(),
              config ->
                  new CountingRestClient(
                      HTTPClient.builder(config)
                          .uri(config.get(CatalogProperties.URI))
                          .withHeaders(RESTUtil.configHeaders(config))
                          .build(),
                      counts));
      client.initialize(
          "bench",
          Map.of(
              CatalogProperties.URI,
              server.uri(),
              "credential",
              PRINCIPAL + ":" + SECRET,
              CatalogProperties.FILE_IO_IMPL,
              LocalFileIO.class.getName(),
              RESTCatalogProperties.METRICS_REPORTING_ENABLED,
              Boolean.toString(METRICS_REPORTING)));
      return new Session(jdbc, server, client, counts);
    }

    Catalog catalog() {
      return client != null ? client : jdbc;
    }

    SupportsNamespaces namespaces() {
      return client != null ? client : jdbc;
    }

    Table load(String name) {
      return catalog().loadTable(TableIdentifier.of(NAMESPACE, name));
    }

    /** The counts of the REST client so far; null for the JDBC path. */
    CountingRestClient.Snapshot requests() {
      return counts == null ? null : counts.snapshot();
    }

    /** The size of a table's current metadata file, read through the JDBC catalog. */
    long metadataBytes(String name) throws IOException {
      Table table = jdbc.loadTable(TableIdentifier.of(NAMESPACE, name));
      String location = ((HasTableOperations) table).operations().current().metadataFileLocation();
      return Files.size(
          location.startsWith("file:") ? Path.of(URI.create(location)) : Path.of(location));
    }

    @Override
    public void close() throws IOException {
      if (client != null) {
        client.close();
      }
      if (server != null) {
        server.close();
      }
      jdbc.close();
    }
  }
}
