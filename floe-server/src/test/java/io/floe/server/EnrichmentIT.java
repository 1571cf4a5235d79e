package io.floe.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.FloeCatalog;
import io.floe.core.config.CatalogConfig;
import io.floe.core.config.WarehouseConfig;
import io.floe.core.writer.ParquetRows;
import io.floe.demo.EmbeddedPostgres;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seed 004's scenario end to end: a PostgreSQL table of products replicated by a database pipeline
 * of {@code floe run} into {@code shop.products}, and a stream of clicks POSTed over HTTP, enriched
 * against it, while the products are updated, inserted and deleted, and {@code floe run} is killed
 * with SIGKILL at random moments. At the end every click is in {@code raw.clicks} once, and each
 * click's product columns equal the join of the click with {@code shop.products} at the snapshot
 * the row names, which its commit's summary names too, computed here from the two tables' history
 * with time travel; that snapshot was the reference's current one at most a few commit intervals
 * before the click's commit.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class EnrichmentIT {
  private static final Logger LOG = LoggerFactory.getLogger(EnrichmentIT.class);
  private static final int KILLS = 3;
  private static final int BATCHES = 120;
  private static final int RECORDS_PER_BATCH = 25;
  private static final int PRODUCTS = 40;
  private static final TableIdentifier CLICKS = TableIdentifier.of("raw", "clicks");
  private static final TableIdentifier PRODUCTS_TABLE = TableIdentifier.of("shop", "products");

  /** How stale the reference snapshot of a click may be at the click's commit. */
  private static final Duration STALENESS_BOUND = Duration.ofSeconds(4);

  @TempDir Path directory;

  private final Set<String> sent = ConcurrentHashMap.newKeySet();
  private final AtomicInteger retries = new AtomicInteger();

  @Test
  void everyClickEqualsItsJoinWithTheReferenceAtItsSnapshotAcrossKills() throws Exception {
    long seed = Long.getLong("floe.seed", System.nanoTime());
    LOG.info("EnrichmentIT seed {} (repeat with -Dfloe.seed={})", seed, seed);
    Random random = new Random(seed);
    try (EmbeddedPostgres postgres = EmbeddedPostgres.start()) {
      postgres.createDatabase("shop");
      try (Connection setup = postgres.connect("shop");
          Statement statement = setup.createStatement()) {
        statement.execute(
            "CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2))");
        for (int id = 1; id <= PRODUCTS; id++) {
          statement.execute(
              "INSERT INTO products VALUES (" + id + ", 'product " + id + "', " + id + ".00)");
        }
      }
      int port = freePort();
      Path config = writeConfig(postgres, port);

      AtomicBoolean running = new AtomicBoolean(true);
      AtomicInteger referenceChanges = new AtomicInteger();
      long workloadSeed = random.nextLong();
      Thread workload =
          new Thread(
              () -> changeProducts(postgres, workloadSeed, running, referenceChanges),
              "products-workload");
      workload.setDaemon(true);
      long clientSeed = random.nextLong();
      Thread client = new Thread(() -> send(port, clientSeed), "clicks-client");
      client.setDaemon(true);

      Process process = FloeRunProcess.start(config, log(0));
      awaitHealthy(port, 0);
      workload.start();
      client.start();
      for (int kill = 0; kill < KILLS; kill++) {
        Thread.sleep(1500 + random.nextInt(3000));
        if (!process.isAlive()) {
          throw new AssertionError(
              "floe run " + kill + " exited early:\n" + Files.readString(log(kill).toPath()));
        }
        process.destroyForcibly(); // SIGKILL
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        LOG.info(
            "Killed floe run #{}; {} clicks sent, {} reference changes so far",
            kill,
            sent.size(),
            referenceChanges.get());
        process = FloeRunProcess.start(config, log(kill + 1));
        awaitHealthy(port, kill + 1);
      }
      client.join(TimeUnit.MINUTES.toMillis(3));
      assertThat(client.isAlive()).as("the client finished").isFalse();
      running.set(false);
      workload.join(TimeUnit.SECONDS.toMillis(30));
      assertThat(sent).hasSize(BATCHES * RECORDS_PER_BATCH);

      try (JdbcCatalog catalog =
          FloeCatalog.open(
              WarehouseConfig.local(FloeRunProcess.warehouse(directory)),
              CatalogConfig.defaults())) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (clickCount(catalog) < sent.size() && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        verify(catalog, referenceChanges.get());
      } finally {
        process.destroy(); // SIGTERM: a clean stop
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
      }
    }
  }

  private void verify(JdbcCatalog catalog, int referenceChanges) {
    Table clicks = catalog.loadTable(CLICKS);
    Table products = catalog.loadTable(PRODUCTS_TABLE);
    Map<String, Integer> seen = new HashMap<>();
    Map<Long, Map<Integer, Record>> referenceAt = new HashMap<>();
    int matched = 0;
    for (Record row : read(clicks)) {
      String id = (String) row.getField("click_id");
      seen.merge(id, 1, Integer::sum);
      // Null while the reference had no snapshot yet (its full load had not committed).
      Long snapshot = (Long) row.getField("products_snapshot");
      Map<Integer, Record> reference =
          snapshot == null
              ? Map.of()
              : referenceAt.computeIfAbsent(snapshot, at -> productsAt(products, at));
      Record product = reference.get(((Long) row.getField("product_id")).intValue());
      assertThat(row.getField("product_name"))
          .as("the product name of click %s at snapshot %s", id, snapshot)
          .isEqualTo(product == null ? null : product.getField("name"));
      assertThat(row.getField("price"))
          .as("the price of click %s at snapshot %s", id, snapshot)
          .isEqualTo(product == null ? null : (BigDecimal) product.getField("price"));
      if (product != null) {
        matched++;
      }
    }
    Map<String, Integer> once = new TreeMap<>();
    sent.forEach(id -> once.put(id, 1));
    assertThat(new TreeMap<>(seen)).as("every click once").isEqualTo(once);

    // Each commit of clicks names the reference snapshot its rows were enriched with, which was
    // current at most STALENESS_BOUND before the commit.
    List<Snapshot> history = new ArrayList<>();
    products.snapshots().forEach(history::add);
    history.sort((a, b) -> Long.compare(a.sequenceNumber(), b.sequenceNumber()));
    long worstStalenessMillis = 0;
    int commits = 0;
    for (Snapshot commit : clicks.snapshots()) {
      List<Record> added = rowsAddedBy(clicks, commit);
      if (added.isEmpty()) {
        continue;
      }
      commits++;
      String summary = commit.summary().get("floe.enrich.shop.products.snapshot");
      Long used = summary == null ? null : Long.parseLong(summary);
      for (Record row : added) {
        assertThat(row.getField("products_snapshot")).isEqualTo(used);
      }
      long sequence = 0;
      if (used != null) {
        Snapshot reference = products.snapshot(used);
        assertThat(reference.timestampMillis()).isLessThanOrEqualTo(commit.timestampMillis());
        sequence = reference.sequenceNumber();
      }
      // The next reference snapshot, if any, came after the commit, or not long before it.
      for (Snapshot later : history) {
        if (later.sequenceNumber() > sequence
            && later.timestampMillis() < commit.timestampMillis()) {
          long staleness = commit.timestampMillis() - later.timestampMillis();
          worstStalenessMillis = Math.max(worstStalenessMillis, staleness);
          break;
        }
      }
    }
    assertThat(worstStalenessMillis)
        .as("how long a newer reference snapshot existed before a commit that did not use it")
        .isLessThanOrEqualTo(STALENESS_BOUND.toMillis());
    LOG.info(
        "After {} kills: {} clicks once each in {} commits, {} with a product; {} reference"
            + " changes over {} reference snapshots used; worst staleness {} ms; {} retries",
        KILLS,
        seen.size(),
        commits,
        matched,
        referenceChanges,
        referenceAt.size(),
        worstStalenessMillis,
        retries.get());
    assertThat(referenceAt).as("reference snapshots used").hasSizeGreaterThan(2);
  }

  /** Updates, inserts and deletes products, a few a second, until told to stop. */
  private static void changeProducts(
      EmbeddedPostgres postgres, long seed, AtomicBoolean running, AtomicInteger changes) {
    Random random = new Random(seed);
    try (Connection connection = postgres.connect("shop");
        PreparedStatement update =
            connection.prepareStatement("UPDATE products SET name = ?, price = ? WHERE id = ?");
        PreparedStatement insert =
            connection.prepareStatement(
                "INSERT INTO products VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING");
        PreparedStatement delete =
            connection.prepareStatement("DELETE FROM products WHERE id = ?")) {
      int round = 0;
      while (running.get()) {
        int id = 1 + random.nextInt(PRODUCTS + 10);
        switch (random.nextInt(4)) {
          case 0, 1 -> {
            update.setString(1, "product " + id + " v" + round);
            update.setBigDecimal(2, BigDecimal.valueOf(random.nextInt(100_000), 2));
            update.setInt(3, id);
            update.executeUpdate();
          }
          case 2 -> {
            insert.setInt(1, id);
            insert.setString(2, "product " + id + " new " + round);
            insert.setBigDecimal(3, BigDecimal.valueOf(random.nextInt(100_000), 2));
            insert.executeUpdate();
          }
          default -> {
            delete.setInt(1, id);
            delete.executeUpdate();
          }
        }
        changes.incrementAndGet();
        round++;
        Thread.sleep(50);
      }
    } catch (Exception e) {
      throw new IllegalStateException("The products workload failed", e);
    }
  }

  /** Sends the batches in order, each until it is accepted. */
  private void send(int port, long seed) {
    Random random = new Random(seed);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    String auth =
        "Basic "
            + Base64.getEncoder().encodeToString("ingest:secret".getBytes(StandardCharsets.UTF_8));
    for (int batch = 0; batch < BATCHES; batch++) {
      StringBuilder body = new StringBuilder();
      List<String> ids = new ArrayList<>();
      for (int index = 0; index < RECORDS_PER_BATCH; index++) {
        String id = "click-" + batch + "-" + index;
        ids.add(id);
        body.append(
                "{\"click_id\":\"%s\",\"product_id\":%d,\"user_id\":%d}"
                    .formatted(id, 1 + random.nextInt(PRODUCTS + 10), random.nextInt(1000)))
            .append('\n');
      }
      HttpRequest request =
          HttpRequest.newBuilder(
                  URI.create("http://127.0.0.1:" + port + "/v1/streams/clicks/records"))
              .timeout(Duration.ofSeconds(10))
              .header("Authorization", auth)
              .header("Content-Type", "application/x-ndjson")
              .header("Floe-Batch-Id", "batch-" + batch)
              .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
              .build();
      while (true) {
        try {
          HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
          if (response.statusCode() == 200) {
            break;
          }
          if (response.statusCode() != 429 && response.statusCode() != 503) {
            throw new AssertionError(
                "Batch refused with " + response.statusCode() + ": " + response.body());
          }
        } catch (IOException e) {
          // floe run was killed or is starting: send the same batch again.
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        retries.incrementAndGet();
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      sent.addAll(ids);
      try {
        Thread.sleep(80);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private Path writeConfig(EmbeddedPostgres postgres, int port) throws IOException {
    String yaml =
        String.join(
            "\n",
            "warehouse: " + FloeRunProcess.warehouse(directory),
            "pipelines:",
            "  - name: clicks",
            "    source:",
            "      type: http",
            "    target:",
            "      namespace: raw",
            "      mode: append",
            "    commit-interval: 300ms",
            "    enrich:",
            "      - table: shop.products",
            "        key: [id]",
            "        on: [product_id]",
            "        columns: [name AS product_name, price]",
            "        snapshot-column: products_snapshot",
            "        memory: 4MB",
            // Second: the clicks pipeline starts before its reference table exists, and waits.
            "  - name: shop",
            "    source:",
            "      type: postgres",
            "      url: " + postgres.jdbcUrl("shop"),
            "      user: " + postgres.user(),
            "      password: " + postgres.password(),
            "      tables: [public.products]",
            "    target:",
            "      namespace: shop",
            "    commit-interval: 300ms",
            "sql:",
            "  postgres-port: 0",
            "  http-port: " + port,
            "  users:",
            "    - name: ingest",
            "      password: secret",
            "catalog:",
            "  port: 0",
            "");
    Path config = directory.resolve("floe.yaml");
    Files.writeString(config, yaml, StandardCharsets.UTF_8);
    return config;
  }

  private static int clickCount(JdbcCatalog catalog) {
    if (!catalog.tableExists(CLICKS)) {
      return 0;
    }
    Table clicks = catalog.loadTable(CLICKS);
    return clicks.currentSnapshot() == null ? 0 : read(clicks).size();
  }

  private static Map<Integer, Record> productsAt(Table products, long snapshotId) {
    Map<Integer, Record> rows = new HashMap<>();
    try (CloseableIterable<Record> records =
        IcebergGenerics.read(products).useSnapshot(snapshotId).build()) {
      records.forEach(row -> rows.put((Integer) row.getField("id"), row.copy()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  /** The rows of the data files a commit of the append-only clicks table added. */
  private static List<Record> rowsAddedBy(Table table, Snapshot snapshot) {
    List<Record> rows = new ArrayList<>();
    for (DataFile file :
        org.apache.iceberg.SnapshotChanges.builderFor(table)
            .snapshot(snapshot)
            .build()
            .addedDataFiles()) {
      try (CloseableIterable<Record> records =
          ParquetRows.read(table.io(), file.location(), table.schemas().get(snapshot.schemaId()))) {
        records.forEach(row -> rows.add(row.copy()));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return rows;
  }

  private static List<Record> read(Table table) {
    table.refresh();
    List<Record> rows = new ArrayList<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      records.forEach(record -> rows.add(record.copy()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return rows;
  }

  private void awaitHealthy(int port, int run) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (System.nanoTime() < deadline) {
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/streams"))
                    .header(
                        "Authorization",
                        "Basic "
                            + Base64.getEncoder()
                                .encodeToString("ingest:secret".getBytes(StandardCharsets.UTF_8)))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200 && response.body().contains("clicks")) {
          return;
        }
      } catch (IOException e) {
        // Not listening yet.
      }
      Thread.sleep(100);
    }
    throw new AssertionError(
        "floe run " + run + " never served its stream:\n" + Files.readString(log(run).toPath()));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private File log(int run) {
    return directory.resolve("floe-run-" + run + ".log").toFile();
  }
}
