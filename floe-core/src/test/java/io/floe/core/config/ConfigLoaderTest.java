package io.floe.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.entry;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
  private static final String MINIMAL =
      """
      pipelines:
        - name: shop
          source:
            type: postgres
            url: jdbc:postgresql://127.0.0.1:5432/shop
            user: floe
            tables: [orders]
      """;

  @TempDir Path directory;

  @Test
  void readsEveryKey() {
    FloeConfig config =
        parse(
            """
            warehouse: ../lake/./data
            pipelines:
              - name: shop
                source:
                  type: postgres
                  url: jdbc:postgresql://${PGHOST:-127.0.0.1}:5432/shop
                  user: floe
                  password: ${PGPASSWORD}
                  tables: [public.customers, sales.orders, items]
                  slot-name: shop_slot
                  publication: shop_publication
                  unbounded-numeric: string
                target:
                  namespace: raw
                commit-interval: 250ms
              - name: billing
                source:
                  type: postgres
                  url: jdbc:postgresql://db/billing
                  user: ${BILLING_USER:-floe}
                  tables: [invoices]
            """,
            Map.of("PGPASSWORD", "s3cr3t$", "BILLING_USER", "biller"));

    assertThat(config.warehouse().stateDirectory())
        .isEqualTo(directory.getParent().resolve("lake/data"));
    assertThat(config.pipelines()).hasSize(2);
    PipelineConfig shop = config.pipelines().get(0);
    assertThat(shop.name()).isEqualTo("shop");
    assertThat(shop.commitInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(shop.target()).isEqualTo(new TargetConfig("raw"));
    assertThat(shop.source())
        .isEqualTo(
            new PostgresSourceConfig(
                SourceType.POSTGRES,
                "jdbc:postgresql://127.0.0.1:5432/shop",
                "floe",
                "s3cr3t$",
                List.of("public.customers", "sales.orders", "public.items"),
                "shop_slot",
                "shop_publication",
                UnboundedNumeric.STRING));
    PipelineConfig billing = config.pipelines().get(1);
    assertThat(billing.name()).isEqualTo("billing");
    assertThat(billing.commitInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(billing.target()).isEqualTo(new TargetConfig("billing"));
    assertThat(billing.source())
        .isEqualTo(
            new PostgresSourceConfig(
                SourceType.POSTGRES,
                "jdbc:postgresql://db/billing",
                "biller",
                "",
                List.of("public.invoices"),
                "floe_billing",
                "floe_billing",
                UnboundedNumeric.DECIMAL));
  }

  @Test
  void appliesDefaults() {
    FloeConfig config = parse(MINIMAL);

    assertThat(config.warehouse().stateDirectory()).isEqualTo(directory.resolve("floe-data"));
    PipelineConfig pipeline = config.pipelines().get(0);
    assertThat(pipeline.commitInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(pipeline.target().namespace()).isEqualTo("shop");
    PostgresSourceConfig source = (PostgresSourceConfig) pipeline.source();
    assertThat(source.password()).isEmpty();
    assertThat(source.tables()).containsExactly("public.orders");
    assertThat(source.slotName()).isEqualTo("floe_shop");
    assertThat(source.publication()).isEqualTo("floe_shop");
    assertThat(source.unboundedNumeric()).isEqualTo(UnboundedNumeric.DECIMAL);
  }

  @Test
  void emptyFileYieldsDefaults() {
    FloeConfig expected =
        new FloeConfig(
            WarehouseConfig.local(directory.resolve("floe-data")),
            List.of(),
            SqlConfig.defaults(),
            MaintenanceConfig.defaults(),
            CatalogConfig.defaults(),
            List.of());
    assertThat(parse("")).isEqualTo(expected);
    assertThat(parse("# nothing configured yet\n")).isEqualTo(expected);
  }

  @Test
  void keepsValuesAsWritten() {
    // Plain YAML would read 0123 as the number 83 and yes as true.
    PostgresSourceConfig source =
        (PostgresSourceConfig)
            parse(MINIMAL.replace("user: floe", "user: yes\n      password: 0123"))
                .pipelines()
                .get(0)
                .source();

    assertThat(source.user()).isEqualTo("yes");
    assertThat(source.password()).isEqualTo("0123");
    assertThat(source.toString()).doesNotContain("0123");
  }

  @ParameterizedTest
  @CsvSource({"100ms, PT0.1S", "1s, PT1S", "2m, PT2M", "1h, PT1H", "PT1.5S, PT1.5S"})
  void readsDurations(String text, Duration expected) {
    assertThat(parse(MINIMAL + "    commit-interval: " + text).pipelines().get(0).commitInterval())
        .isEqualTo(expected);
  }

  @Test
  void usesDefaultWhenVariableIsEmpty() {
    String yaml =
        MINIMAL.replace("user: floe", "user: floe\n      password: ${PGPASSWORD:-fallback}");

    PostgresSourceConfig source =
        (PostgresSourceConfig) parse(yaml, Map.of("PGPASSWORD", "")).pipelines().get(0).source();
    assertThat(source.password()).isEqualTo("fallback");
  }

  @Test
  void loadsFileAndResolvesWarehouseAgainstItsDirectory() throws Exception {
    Path file = Files.createDirectories(directory.resolve("etc")).resolve("floe.yaml");
    Files.writeString(file, "warehouse: data\n");

    assertThat(FloeConfigLoader.load(file).warehouse().stateDirectory())
        .isEqualTo(directory.resolve("etc/data"));
  }

  @Test
  void rejectsMissingFile() {
    Path file = directory.resolve("missing.yaml");

    FloeException exception =
        catchThrowableOfType(FloeException.class, () -> FloeConfigLoader.load(file));

    assertThat(exception.code()).isEqualTo(ErrorCode.CONFIG_UNREADABLE);
    assertThat(exception.getMessage())
        .isEqualTo("Cannot read configuration " + file + ": the file does not exist");
  }

  @Test
  void rejectsYamlSyntaxError() {
    FloeException exception =
        catchThrowableOfType(FloeException.class, () -> parse("warehouse: data\n  pipelines: [\n"));

    assertThat(exception.code()).isEqualTo(ErrorCode.CONFIG_UNREADABLE);
    assertThat(exception.getMessage())
        .isEqualTo(
            "Cannot read configuration floe.yaml: line 2, column 12:"
                + " mapping values are not allowed here");
  }

  @Test
  void rejectsDuplicateKeysAndAliases() {
    assertThat(unreadable("warehouse: a\nwarehouse: b\n"))
        .isEqualTo(
            "Cannot read configuration floe.yaml: line 2, column 1: duplicate key 'warehouse'");
    assertThat(unreadable("warehouse: &dir data\npipelines: *dir\n"))
        .startsWith("Cannot read configuration floe.yaml: line 2, column 12:")
        .endsWith("YAML aliases such as *dir are not supported; repeat the value");
  }

  @Test
  void rejectsUnknownTopLevelKey() {
    assertThat(problems("warehous: data\n"))
        .contains(
            "warehous: unknown key; allowed keys: warehouse, state-directory, storage, pipelines, sql");
  }

  @Test
  void rejectsUnknownNestedKey() {
    assertThat(problems(MINIMAL.replace("tables:", "tabels:")))
        .contains(
            "pipelines[0].source.tabels: unknown key; allowed keys: type, url, user, password,"
                + " tables, keys, change-log, slot-name, publication, unbounded-numeric");
  }

  @Test
  void doesNotSubstituteVariablesInKeys() {
    assertThat(problems("${KEY}: data\n", Map.of("KEY", "warehouse")))
        .contains(
            "${KEY}: unknown key; allowed keys: warehouse, state-directory, storage, pipelines, sql");
  }

  @Test
  void rejectsWrongEnumValues() {
    assertThat(problems(MINIMAL.replace("type: postgres", "type: mysql")))
        .contains("pipelines[0].source.type: invalid value 'mysql'; allowed values: postgres");
    assertThat(
            problems(MINIMAL.replace("user: floe", "user: floe\n      unbounded-numeric: float")))
        .contains(
            "pipelines[0].source.unbounded-numeric: invalid value 'float';"
                + " allowed values: decimal, string");
  }

  @Test
  void rejectsBadDuration() {
    assertThat(problems(MINIMAL + "    commit-interval: 5 seconds"))
        .contains(
            "pipelines[0].commit-interval: invalid value '5 seconds'; write a number followed by"
                + " ms, s, m, h or d (such as 250ms, 1s, 2m, 1h, 5d) or an ISO-8601 duration (such as"
                + " PT1S)");
  }

  @Test
  void rejectsDurationOutOfRange() {
    assertThat(problems(MINIMAL + "    commit-interval: 50ms"))
        .contains("pipelines[0].commit-interval: must be between 100ms and 1h");
    assertThat(problems(MINIMAL + "    commit-interval: 2h"))
        .contains("pipelines[0].commit-interval: must be between 100ms and 1h");
  }

  @Test
  void rejectsMissingRequiredKeyAndSection() {
    assertThat(problems(MINIMAL.replace("      url: jdbc:postgresql://127.0.0.1:5432/shop\n", "")))
        .isEqualTo(
            "Cannot load configuration floe.yaml: pipelines[0].source.url: missing required key");
    assertThat(problems("pipelines:\n  - name: shop\n"))
        .isEqualTo(
            "Cannot load configuration floe.yaml: pipelines[0].source: missing required section");
  }

  @Test
  void rejectsBadNames() {
    assertThat(problems(MINIMAL.replace("name: shop", "name: Shop")))
        .contains(
            "pipelines[0].name: invalid value 'Shop'; must start with a lowercase letter followed"
                + " by at most 39 lowercase letters, digits or underscores");
    assertThat(problems(MINIMAL.replace("user: floe", "user: floe\n      slot-name: shop-slot")))
        .contains(
            "pipelines[0].source.slot-name: invalid value 'shop-slot'; must be 1 to 63 lowercase"
                + " letters, digits or underscores");
  }

  @Test
  void rejectsDuplicatePipelineNames() {
    String pipeline = MINIMAL.substring(MINIMAL.indexOf("  - name"));

    assertThat(problems(MINIMAL + pipeline + pipeline))
        .contains("pipelines[1].name: duplicate pipeline name 'shop', already used by pipelines[0]")
        .contains(
            "pipelines[2].name: duplicate pipeline name 'shop', already used by pipelines[0]");
  }

  @Test
  void rejectsBadTables() {
    assertThat(problems(MINIMAL.replace("[orders]", "[orders, sales.orders, public.orders]")))
        .contains(
            "pipelines[0].source.tables[2]: duplicate entry 'public.orders', already listed at"
                + " pipelines[0].source.tables[0]");
    assertThat(problems(MINIMAL.replace("[orders]", "[public.order-lines]")))
        .contains(
            "pipelines[0].source.tables[0]: invalid value 'public.order-lines'; must be"
                + " schema.table, or table for a table in schema public, where each name starts"
                + " with a letter or underscore followed by letters, digits, underscores or $");
    assertThat(problems(MINIMAL.replace("[orders]", "[]")))
        .contains("pipelines[0].source.tables: must list at least one table");
  }

  @Test
  void rejectsBadUrlAndEmptyUser() {
    assertThat(problems(MINIMAL.replace("jdbc:postgresql:", "jdbc:mysql:").replace("floe", "''")))
        .contains("pipelines[0].source.url: must start with jdbc:postgresql://")
        .contains("pipelines[0].source.user: must not be empty");
  }

  @Test
  void readsAMariaDbSource() {
    FloeConfig config =
        parse(
            """
            pipelines:
              - name: shop
                source:
                  type: mariadb
                  url: jdbc:mariadb://127.0.0.1:3306/shop
                  user: floe
                  tables: [shop.orders, crm.customers]
              - name: other
                source:
                  type: mariadb
                  url: jdbc:mariadb://127.0.0.1:3306/
                  user: floe
                  tables: [shop.orders, shop.events]
                  keys: ["shop.events (device, seq)"]
                  server-id: 77
              - name: pg
                source:
                  type: postgres
                  url: jdbc:postgresql://127.0.0.1:5432/shop
                  user: floe
                  tables: [log]
                  keys: [log(id)]
            """);
    MariaDbSourceConfig source = (MariaDbSourceConfig) config.pipelines().get(0).source();
    assertThat(source.tables()).containsExactly("shop.orders", "crm.customers");
    assertThat(source.password()).isEmpty();
    assertThat(source.serverId()).isBetween(100_000, 999_999);
    assertThat(source.streaming()).isFalse();
    MariaDbSourceConfig other = (MariaDbSourceConfig) config.pipelines().get(1).source();
    assertThat(other.serverId()).isEqualTo(77);
    assertThat(other.keys()).containsExactly(Map.entry("shop.events", List.of("device", "seq")));
    assertThat(source.keys()).isEmpty();
    assertThat(((PostgresSourceConfig) config.pipelines().get(2).source()).keys())
        .containsExactly(Map.entry("public.log", List.of("id")));
    assertThat(config.pipelines().get(0).target().namespace()).isEqualTo("shop");
  }

  @Test
  void readsTablePartitioningsOfADatabaseSource() {
    FloeConfig config =
        parse(
            """
            pipelines:
              - name: pg
                source:
                  type: postgres
                  url: jdbc:postgresql://127.0.0.1:5432/shop
                  user: floe
                  tables: [orders, audit.events, log]
                target:
                  partition-by:
                    - "orders (day(created_at), bucket(16, id))"
                    - "audit.events(truncate(4, kind), region)"
                    - "log ()"
            """);
    TargetConfig target = config.pipelines().get(0).target();
    assertThat(target.partitionBy("public.orders").orElseThrow())
        .containsExactly(
            new StreamTableConfig.PartitionField("day", 0, "created_at"),
            new StreamTableConfig.PartitionField("bucket", 16, "id"));
    assertThat(target.partitionBy("audit.events").orElseThrow())
        .containsExactly(
            new StreamTableConfig.PartitionField("truncate", 4, "kind"),
            new StreamTableConfig.PartitionField("identity", 0, "region"));
    assertThat(target.partitionBy("public.log")).contains(List.of());
    assertThat(target.partitionBy("public.other")).isEmpty();
  }

  @Test
  void rejectsBadTablePartitionings() {
    String yaml =
        """
        pipelines:
          - name: pg
            source:
              type: postgres
              url: jdbc:postgresql://127.0.0.1:5432/shop
              user: floe
              tables: [orders]
            target:
              partition-by: ["day(created_at)", "other (id)", "orders (id)", "orders (day(at))"]
        """;
    assertThat(problems(yaml))
        .contains(
            "pipelines[0].target.partition-by[0]: table public.day is not in source.tables; list"
                + " it there, or remove its partitioning (write each entry as table (transform,"
                + " ...), such as 'orders (day(created_at))')")
        .contains("pipelines[0].target.partition-by[1]: table public.other is not in source.tables")
        .contains(
            "pipelines[0].target.partition-by[3]: table public.orders is partitioned twice; keep"
                + " one entry for it")
        .doesNotContain("partition-by[2]");
    assertThat(problems(yaml.replace("orders (day(at))", "orders (week(created_at))")))
        .contains(
            "pipelines[0].target.partition-by[3]: invalid value 'orders (week(created_at))'; must"
                + " be a transform: column, identity(column), year(column), month(column),"
                + " day(column), hour(column), bucket(n, column) or truncate(n, column); or, for a"
                + " database source, a table and its transforms, such as 'orders (day(created_at),"
                + " bucket(16, id))'");
    String stream =
        """
        pipelines:
          - name: clicks
            source:
              type: http
              stream: clicks
            target:
              columns: [at timestamptz]
              partition-by: ["clicks (day(at))"]
        """;
    assertThat(problems(stream))
        .contains(
            "pipelines[0].target.partition-by: 'clicks (day(at))' names a table, as a database"
                + " source's partition-by does; a stream has one table: list its transforms, such"
                + " as [day(event_time)]");
  }

  @Test
  void readsAndChecksChangeLogTables() {
    FloeConfig config =
        parse(
            """
            pipelines:
              - name: pg
                source:
                  type: postgres
                  url: jdbc:postgresql://127.0.0.1:5432/shop
                  user: floe
                  tables: [log, orders]
                  change-log: [log]
            """);
    assertThat(((PostgresSourceConfig) config.pipelines().get(0).source()).changeLog())
        .containsExactly("public.log");
    String bad =
        """
        pipelines:
          - name: pg
            source:
              type: postgres
              url: jdbc:postgresql://127.0.0.1:5432/shop
              user: floe
              tables: [log]
              keys: ["log (id)"]
              change-log: [log, other]
          - name: maria
            source:
              type: mariadb
              url: jdbc:mariadb://127.0.0.1:3306/
              user: floe
              tables: [shop.log]
              change-log: [shop.log]
        """;
    assertThat(problems(bad))
        .contains(
            "pipelines[0].source.change-log[0]: table public.log is in source.keys too; a change"
                + " log has no key: remove one of the entries")
        .contains(
            "pipelines[0].source.change-log[1]: table public.other is not in source.tables; list"
                + " it there, or remove it here")
        .contains(
            "pipelines[1].source.change-log[0]: change logs are written from PostgreSQL sources"
                + " only so far; give table shop.log a key in source.keys");
  }

  @Test
  void rejectsBadMariaDbSources() {
    String yaml =
        """
        pipelines:
          - name: shop
            source:
              type: mariadb
              url: jdbc:postgresql://127.0.0.1:3306/shop
              user: floe
              tables: [orders, shop.order-lines]
              server-id: 0
              slot-name: floe_shop
              keys: ["shop.other (a)", "shop.orders a, b"]
        """;
    assertThat(problems(yaml))
        .contains("pipelines[0].source.url: must start with jdbc:mariadb://")
        .contains("pipelines[0].source.tables[0]: invalid value 'orders'; must be database.table")
        .contains("pipelines[0].source.tables[1]: invalid value 'shop.order-lines'")
        .contains("pipelines[0].source.server-id")
        .contains("pipelines[0].source.slot-name")
        .contains(
            "pipelines[0].source.keys[1]: invalid value 'shop.orders a, b'; must be table"
                + " (column, ...), such as shop.events (event_id, seq)");
    String unlisted =
        """
        pipelines:
          - name: shop
            source:
              type: mariadb
              url: jdbc:mariadb://127.0.0.1:3306/shop
              user: floe
              tables: [shop.orders]
              keys: ["shop.other (a)"]
        """;
    assertThat(problems(unlisted))
        .contains(
            "pipelines[0].source.keys[0]: table shop.other is not in source.tables; list it there,"
                + " or remove its key");
  }

  @Test
  void rejectsUnsetEnvironmentVariable() {
    assertThat(problems(MINIMAL.replace("user: floe", "user: floe\n      password: ${PGPASSWORD}")))
        .contains(
            "pipelines[0].source.password: environment variable PGPASSWORD is not set;"
                + " export it or write ${PGPASSWORD:-value}");
  }

  @Test
  void rejectsWrongShapes() {
    assertThat(problems("pipelines:\n  - name: shop\n    source: [postgres]\n"))
        .contains("pipelines[0].source: expected a section of keys but found a list");
    assertThat(problems("pipelines:\n  name: shop\n"))
        .contains("pipelines: expected a list of sections but found a section");
    assertThat(problems("warehouse: [a, b]\n"))
        .contains("warehouse: expected a single value but found a list");
  }

  @Test
  void reportsAllProblemsTogether() {
    String yaml =
        """
        warehous: data
        pipelines:
          - name: shop
            commit-interval: 1 s
            source:
              type: postgres
              url: jdbc:postgresql://db/shop
              user: floe
              tabels: [orders]
        """;

    assertThat(problems(yaml).lines())
        .containsExactly(
            "Cannot load configuration floe.yaml: warehous: unknown key; allowed keys: warehouse,"
                + " state-directory, storage,"
                + " pipelines, sql, maintenance, catalog, principals",
            "pipelines[0].commit-interval: invalid value '1 s'; write a number followed by ms, s,"
                + " m, h or d (such as 250ms, 1s, 2m, 1h, 5d) or an ISO-8601 duration (such as PT1S)",
            "pipelines[0].source.tabels: unknown key; allowed keys: type, url, user, password,"
                + " tables, keys, change-log, slot-name, publication, unbounded-numeric",
            "pipelines[0].source.tables: missing required key");
  }

  @Test
  void sqlDefaultsWhenSectionIsAbsent() {
    SqlConfig expected =
        new SqlConfig(
            "127.0.0.1",
            5433,
            8080,
            Duration.ofMinutes(5),
            1_000_000,
            10L * 1024 * 1024 * 1024,
            1L << 30,
            List.of(),
            List.of());

    assertThat(SqlConfig.defaults()).isEqualTo(expected);
    assertThat(parse(MINIMAL).sql()).isEqualTo(expected);
    assertThat(parse("sql:\n").sql()).isEqualTo(expected);
    assertThat(parse("sql: {}\n").sql()).isEqualTo(expected);
  }

  @Test
  void readsSqlSection() {
    SqlConfig sql =
        parse(
                """
                sql:
                  listen-address: 0.0.0.0
                  postgres-port: 0
                  http-port: "9090"
                  query-timeout: 90s
                  max-query-length: 5000
                  cache-size: 512mb
                  resident-size: 256mb
                  users:
                    - name: analyst
                      password: ${ANALYST_PASSWORD}
                      workgroup: adhoc
                    - name: admin
                      password: 0123
                  workgroups:
                    - name: adhoc
                      bytes-scanned-limit: 1GB
                      result-reuse: 10m
                    - name: reports
                """,
                Map.of("ANALYST_PASSWORD", "s3cr3t"))
            .sql();

    assertThat(sql)
        .isEqualTo(
            new SqlConfig(
                "0.0.0.0",
                0,
                9090,
                Duration.ofSeconds(90),
                5000,
                512L * 1024 * 1024,
                256L * 1024 * 1024,
                List.of(
                    new SqlUserConfig("analyst", "s3cr3t", "adhoc"),
                    new SqlUserConfig("admin", "0123", "primary")),
                List.of(
                    new WorkgroupConfig("adhoc", 1L << 30, Duration.ofMinutes(10)),
                    new WorkgroupConfig("reports", Long.MAX_VALUE, Duration.ZERO))));
    assertThat(sql.workgroup("adhoc").limited()).isTrue();
    assertThat(sql.workgroup("reports").limited()).isFalse();
    assertThat(sql.workgroup("primary"))
        .isEqualTo(new WorkgroupConfig("primary", Long.MAX_VALUE, Duration.ZERO));
    assertThatThrownBy(() -> sql.workgroup("etl"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("unknown workgroup 'etl'");
  }

  @Test
  void undeclaredPrimaryWorkgroupMatchesDeclaredDefaults() {
    SqlConfig sql = parse("sql:\n  workgroups:\n    - name: primary\n").sql();

    assertThat(SqlConfig.defaults().workgroup("primary")).isEqualTo(sql.workgroup("primary"));
  }

  @Test
  void declaredPrimaryWorkgroupOverridesBuiltIn() {
    SqlConfig sql =
        parse("sql:\n  workgroups:\n    - name: primary\n      bytes-scanned-limit: 10TB\n").sql();

    assertThat(sql.workgroup("primary").bytesScannedLimit()).isEqualTo(10L << 40);
  }

  @ParameterizedTest
  @CsvSource({
    "0, 0",
    "1024, 1024",
    "1B, 1",
    "2kb, 2048",
    "3Kb, 3072",
    "512MB, 536870912",
    "10GB, 10737418240",
    "1TB, 1099511627776",
    "4KiB, 4096",
    "128mib, 134217728",
    "1GiB, 1073741824",
    "2TiB, 2199023255552"
  })
  void readsByteSizes(String text, long expected) {
    assertThat(parse("sql:\n  cache-size: " + text + "\n").sql().cacheSize()).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"0s, PT0S", "PT0S, PT0S", "10m, PT10M", "168h, PT168H", "P7D, PT168H"})
  void readsResultReuseFromZeroToSevenDays(String text, Duration expected) {
    String yaml = "sql:\n  workgroups:\n    - name: adhoc\n      result-reuse: " + text + "\n";

    assertThat(parse(yaml).sql().workgroup("adhoc").resultReuse()).isEqualTo(expected);
  }

  @Test
  void rejectsBadPorts() {
    assertThat(problems("sql:\n  postgres-port: 70000\n  http-port: http\n"))
        .contains(
            "sql.postgres-port: invalid value '70000'; must be an integer between 0 and 65535")
        .contains("sql.http-port: invalid value 'http'; must be an integer between 0 and 65535");
    assertThat(problems("sql:\n  postgres-port: -1\n"))
        .contains("sql.postgres-port: invalid value '-1'; must be an integer between 0 and 65535");
    assertThat(problems("sql:\n  max-query-length: 0\n"))
        .contains(
            "sql.max-query-length: invalid value '0'; must be an integer between 1 and 10000000");
  }

  @Test
  void rejectsBadByteSizes() {
    assertThat(problems("sql:\n  cache-size: 12XB\n"))
        .contains(
            "sql.cache-size: invalid value '12XB'; write a whole number of bytes, optionally"
                + " followed by B, KB, MB, GB or TB (or KiB, MiB, GiB, TiB) in any case (binary"
                + " multiples: 1KB = 1KiB = 1024 bytes), such as 512MB, 1GiB or 10GB");
    assertThat(problems("sql:\n  cache-size: 1.5GB\n"))
        .contains("sql.cache-size: invalid value '1.5GB'");
    assertThat(problems("sql:\n  cache-size: unlimited\n"))
        .contains("sql.cache-size: invalid value 'unlimited'");
    assertThat(problems("sql:\n  cache-size: 99999999999TB\n"))
        .contains("sql.cache-size: invalid value '99999999999TB'");
    assertThat(
            problems("sql:\n  workgroups:\n    - name: adhoc\n      bytes-scanned-limit: lots\n"))
        .contains(
            "sql.workgroups[0].bytes-scanned-limit: invalid value 'lots'; write unlimited or a"
                + " whole number of bytes, optionally followed by B, KB, MB, GB or TB (or KiB, MiB,"
                + " GiB, TiB) in any case (binary multiples: 1KB = 1KiB = 1024 bytes), such as"
                + " 512MB, 1GiB or 10GB");
  }

  @Test
  void rejectsQueryTimeoutOutOfRange() {
    for (String timeout : List.of("0s", "500ms", "PT-5S", "25h")) {
      assertThat(problems("sql:\n  query-timeout: " + timeout + "\n"))
          .as(timeout)
          .isEqualTo(
              "Cannot load configuration floe.yaml: sql.query-timeout: must be between 1s and 24h");
    }
    assertThat(problems("sql:\n  query-timeout: -5s\n"))
        .contains("sql.query-timeout: invalid value '-5s'; write a number followed by ms");
  }

  @Test
  void rejectsResultReuseOutOfRange() {
    for (String reuse : List.of("PT-1S", "169h", "P8D")) {
      assertThat(problems("sql:\n  workgroups:\n    - name: adhoc\n      result-reuse: " + reuse))
          .as(reuse)
          .isEqualTo(
              "Cannot load configuration floe.yaml: sql.workgroups[0].result-reuse: must be"
                  + " between 0s and 168h (7 days)");
    }
  }

  @Test
  void rejectsBadUsers() {
    String yaml =
        """
        sql:
          users:
            - name: Analyst
              password: ''
              workgroup: Adhoc
            - workgroup: primary
        """;

    assertThat(problems(yaml).lines())
        .containsExactly(
            "Cannot load configuration floe.yaml: sql.users[0].name: invalid value 'Analyst'; must"
                + " start with a lowercase letter followed by at most 39 lowercase letters,"
                + " digits or underscores",
            "sql.users[0].password: must not be empty",
            "sql.users[0].workgroup: invalid value 'Adhoc'; must start with a lowercase letter"
                + " followed by at most 39 lowercase letters, digits or underscores",
            "sql.users[1].name: missing required key",
            "sql.users[1].password: missing required key");
  }

  @Test
  void rejectsDuplicateUsersAndWorkgroups() {
    String yaml =
        """
        sql:
          users:
            - {name: analyst, password: a}
            - {name: admin, password: b}
            - {name: analyst, password: c}
          workgroups:
            - name: adhoc
            - name: adhoc
        """;

    assertThat(problems(yaml).lines())
        .containsExactly(
            "Cannot load configuration floe.yaml: sql.users[2].name: duplicate user name"
                + " 'analyst', already used by sql.users[0]",
            "sql.workgroups[1].name: duplicate workgroup name 'adhoc', already used by"
                + " sql.workgroups[0]");
  }

  @Test
  void rejectsUnknownWorkgroup() {
    String yaml =
        """
        sql:
          users:
            - {name: analyst, password: a, workgroup: adhoc}
            - {name: etl, password: b, workgroup: batch}
          workgroups:
            - name: adhoc
            - name: reports
        """;

    assertThat(problems(yaml))
        .isEqualTo(
            "Cannot load configuration floe.yaml: sql.users[1].workgroup: unknown workgroup"
                + " 'batch'; allowed workgroups: primary, adhoc, reports");
    assertThat(problems("sql:\n  users:\n    - {name: etl, password: b, workgroup: batch}\n"))
        .isEqualTo(
            "Cannot load configuration floe.yaml: sql.users[0].workgroup: unknown workgroup"
                + " 'batch'; allowed workgroups: primary");
  }

  @Test
  void rejectsUnknownSqlKeys() {
    assertThat(problems("sql:\n  port: 5433\n  users:\n    - {name: a, password: b, role: x}\n"))
        .contains(
            "sql.port: unknown key; allowed keys: listen-address, postgres-port, http-port,"
                + " query-timeout, max-query-length, cache-size, resident-size, users, workgroups")
        .contains("sql.users[0].role: unknown key; allowed keys: name, password, workgroup");
  }

  @Test
  void hidesSqlPasswords() {
    SqlConfig sql =
        parse("sql:\n  users:\n    - {name: analyst, password: \"t0p-s3cr3t\"}\n").sql();

    assertThat(sql.users().get(0).password()).isEqualTo("t0p-s3cr3t");
    assertThat(sql.users().get(0).toString())
        .isEqualTo("SqlUserConfig[name=analyst, password=***, workgroup=primary]");
    assertThat(sql.toString()).doesNotContain("t0p-s3cr3t");
  }

  @Test
  void readsCatalogAndPrincipals() {
    FloeConfig config =
        parse(
            """
            catalog:
              port: 0
              database: jdbc:postgresql://db.internal:5432/floe
              database-user: floe
              database-password: ${CATALOG_PASSWORD}
              token-lifetime: 10m
            principals:
              - name: spark
                secret: ${SPARK_SECRET}
            """,
            Map.of("CATALOG_PASSWORD", "db-s3cr3t", "SPARK_SECRET", "sp4rk-s3cr3t"));

    CatalogConfig catalog = config.catalog();
    assertThat(catalog.enabled()).isTrue();
    assertThat(catalog.listenAddress()).isEqualTo("127.0.0.1");
    assertThat(catalog.port()).isZero();
    assertThat(catalog.database()).contains("jdbc:postgresql://db.internal:5432/floe");
    assertThat(catalog.databasePassword()).isEqualTo("db-s3cr3t");
    assertThat(catalog.tokenLifetime()).isEqualTo(Duration.ofMinutes(10));
    assertThat(catalog.anonymousAccess()).isFalse();
    assertThat(config.principals())
        .containsExactly(new PrincipalConfig("spark", "sp4rk-s3cr3t", "primary"));
    assertThat(catalog + " " + config.principals())
        .doesNotContain("db-s3cr3t")
        .doesNotContain("sp4rk-s3cr3t");
    assertThat(CatalogConfig.defaults().port()).isEqualTo(8181);
    assertThat(CatalogConfig.defaults().database()).isEmpty();
  }

  @Test
  void reportsPrincipalProblems() {
    String yaml =
        """
        catalog:
          database: jdbc:mysql://db/floe
          token-lifetime: 5s
        sql:
          users:
            - name: analyst
              password: x
        principals:
          - name: analyst
            secret: abcd
          - name: spark
            secret: ab
            workgroup: nightly
          - name: spark
            secret: abcdef
        """;

    assertThat(problems(yaml).lines())
        .containsExactly(
            "Cannot load configuration floe.yaml: catalog.database: must be empty or start with"
                + " jdbc:postgresql://",
            "catalog.token-lifetime: must be between 1m and 24h",
            "principals[1].secret: must have at least 4 characters",
            "principals[2].name: duplicate principal name 'spark', already used by principals[1]",
            "principals[0].name: 'analyst' is also a user in sql.users; principals log in to the"
                + " SQL endpoints too, so remove one of the two",
            "principals[1].workgroup: unknown workgroup 'nightly'; allowed workgroups: primary");
  }

  @Test
  void readsWarehouseInObjectStorage() {
    WarehouseConfig warehouse =
        parse(
                """
                warehouse: s3://lake-bucket/floe/prod/
                state-directory: state
                storage:
                  endpoint: http://127.0.0.1:9000
                  region: eu-central-1
                  path-style-access: true
                  access-key-id: floe
                  secret-access-key: ${S3_SECRET}
                """,
                Map.of("S3_SECRET", "s3-s3cr3t"))
            .warehouse();

    assertThat(warehouse.location()).isEqualTo("s3://lake-bucket/floe/prod");
    assertThat(warehouse.isLocal()).isFalse();
    assertThat(warehouse.stateDirectory()).isEqualTo(directory.resolve("state"));
    assertThat(warehouse.storage())
        .isEqualTo(
            new StorageConfig(
                Optional.of("http://127.0.0.1:9000"), "eu-central-1", true, "floe", "s3-s3cr3t"));
    assertThat(warehouse.clientProperties(false))
        .containsExactly(
            entry("s3.endpoint", "http://127.0.0.1:9000"),
            entry("s3.path-style-access", "true"),
            entry("client.region", "eu-central-1"));
    assertThat(warehouse.clientProperties(true))
        .containsEntry("s3.access-key-id", "floe")
        .containsEntry("s3.secret-access-key", "s3-s3cr3t")
        .hasSize(5);
    assertThat(warehouse.toString()).contains("secretAccessKey=***").doesNotContain("s3-s3cr3t");
  }

  @Test
  void objectStorageDefaults() {
    WarehouseConfig warehouse = parse("warehouse: s3://lake-bucket\n").warehouse();

    assertThat(warehouse.location()).isEqualTo("s3://lake-bucket");
    assertThat(warehouse.stateDirectory()).isEqualTo(directory.resolve("floe-data"));
    assertThat(warehouse.storage()).isEqualTo(StorageConfig.defaults());
    assertThat(warehouse.storage().endpoint()).isEmpty();
    assertThat(warehouse.storage().region()).isEqualTo("us-east-1");
    assertThat(warehouse.storage().pathStyleAccess()).isFalse();
    assertThat(warehouse.storage().hasCredentials()).isFalse();
    assertThat(warehouse.clientProperties(true))
        .containsExactly(
            entry("s3.path-style-access", "false"), entry("client.region", "us-east-1"));
  }

  @Test
  void localWarehouseHasNoClientProperties() {
    WarehouseConfig warehouse = parse("warehouse: lake\n").warehouse();

    assertThat(warehouse.isLocal()).isTrue();
    assertThat(warehouse.location()).isEqualTo(directory.resolve("lake").toString());
    assertThat(warehouse.stateDirectory()).isEqualTo(directory.resolve("lake"));
    assertThat(warehouse.clientProperties(true)).isEmpty();
    assertThat(warehouse).isEqualTo(WarehouseConfig.local(directory.resolve("lake")));
  }

  @Test
  void reportsStorageProblems() {
    assertThat(problems("warehouse: gs://lake/floe\n"))
        .isEqualTo(
            "Cannot load configuration floe.yaml: warehouse: invalid value 'gs://lake/floe'; must"
                + " be a directory path, or s3://bucket/prefix for S3-compatible object storage"
                + " (other schemes are not supported; reach other stores through their S3 API)");
    assertThat(problems("warehouse: s3://Lake_Bucket/x\n"))
        .startsWith(
            "Cannot load configuration floe.yaml: warehouse: invalid value 's3://Lake_Bucket/x';");
    assertThat(
            problems(
                    """
                warehouse: s3://lake
                storage:
                  endpoint: 127.0.0.1:9000
                  region: ""
                  access-key-id: floe
                  path-style-access: yes
                """)
                .lines())
        .containsExactly(
            "Cannot load configuration floe.yaml: storage.endpoint: must be empty or start with"
                + " http:// or https://",
            "storage.region: must not be empty",
            "storage.path-style-access: invalid value 'yes'; write true or false",
            "storage.secret-access-key: missing while storage.access-key-id is set; set both"
                + " keys, or neither to use the AWS SDK's default credentials");
    assertThat(problems("warehouse: s3://lake\nstorage:\n  secret-access-key: x\n"))
        .isEqualTo(
            "Cannot load configuration floe.yaml: storage.access-key-id: missing while"
                + " storage.secret-access-key is set; set both keys, or neither to use the AWS"
                + " SDK's default credentials");
    assertThat(
            problems(
                    """
                warehouse: ./lake
                state-directory: ./state
                storage:
                  region: us-east-1
                """)
                .lines())
        .containsExactly(
            "Cannot load configuration floe.yaml: state-directory: only a warehouse in object"
                + " storage (warehouse: s3://bucket/prefix) has a separate state directory; the"
                + " local warehouse ./lake keeps its state in its own directory, so remove"
                + " state-directory",
            "storage.region: only a warehouse in object storage (warehouse: s3://bucket/prefix)"
                + " uses the storage section; the local warehouse ./lake does not, so remove the"
                + " key or set warehouse to an s3:// location");
    assertThat(problems("warehouse: s3://lake\nstorage:\n  secret-access-key: ${NOPE}\n"))
        .contains(
            "storage.secret-access-key: environment variable NOPE is not set; export it or write"
                + " ${NOPE:-value}");
  }

  private FloeConfig parse(String yaml) {
    return parse(yaml, Map.of());
  }

  private FloeConfig parse(String yaml, Map<String, String> environment) {
    return FloeConfigLoader.parse(yaml, directory, environment, "floe.yaml");
  }

  private String problems(String yaml) {
    return problems(yaml, Map.of());
  }

  private String problems(String yaml, Map<String, String> environment) {
    FloeException exception =
        catchThrowableOfType(FloeException.class, () -> parse(yaml, environment));
    assertThat(exception.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
    assertThat(exception.getMessage()).startsWith("Cannot load configuration floe.yaml: ");
    return exception.getMessage();
  }

  private String unreadable(String yaml) {
    FloeException exception = catchThrowableOfType(FloeException.class, () -> parse(yaml));
    assertThat(exception.code()).isEqualTo(ErrorCode.CONFIG_UNREADABLE);
    return exception.getMessage();
  }
}
