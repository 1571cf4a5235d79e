package io.floe.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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

    assertThat(config.warehouse()).isEqualTo(directory.getParent().resolve("lake/data"));
    assertThat(config.pipelines()).hasSize(2);
    PipelineConfig shop = config.pipelines().get(0);
    assertThat(shop.name()).isEqualTo("shop");
    assertThat(shop.commitInterval()).isEqualTo(Duration.ofMillis(250));
    assertThat(shop.target()).isEqualTo(new TargetConfig("raw"));
    assertThat(shop.source())
        .isEqualTo(
            new SourceConfig(
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
            new SourceConfig(
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

    assertThat(config.warehouse()).isEqualTo(directory.resolve("floe-data"));
    PipelineConfig pipeline = config.pipelines().get(0);
    assertThat(pipeline.commitInterval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(pipeline.target().namespace()).isEqualTo("shop");
    assertThat(pipeline.source().password()).isEmpty();
    assertThat(pipeline.source().tables()).containsExactly("public.orders");
    assertThat(pipeline.source().slotName()).isEqualTo("floe_shop");
    assertThat(pipeline.source().publication()).isEqualTo("floe_shop");
    assertThat(pipeline.source().unboundedNumeric()).isEqualTo(UnboundedNumeric.DECIMAL);
  }

  @Test
  void emptyFileYieldsDefaults() {
    FloeConfig expected = new FloeConfig(directory.resolve("floe-data"), List.of());
    assertThat(parse("")).isEqualTo(expected);
    assertThat(parse("# nothing configured yet\n")).isEqualTo(expected);
  }

  @Test
  void keepsValuesAsWritten() {
    // Plain YAML would read 0123 as the number 83 and yes as true.
    SourceConfig source =
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

    assertThat(parse(yaml, Map.of("PGPASSWORD", "")).pipelines().get(0).source().password())
        .isEqualTo("fallback");
  }

  @Test
  void loadsFileAndResolvesWarehouseAgainstItsDirectory() throws Exception {
    Path file = Files.createDirectories(directory.resolve("etc")).resolve("floe.yaml");
    Files.writeString(file, "warehouse: data\n");

    assertThat(FloeConfigLoader.load(file).warehouse()).isEqualTo(directory.resolve("etc/data"));
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
        .contains("warehous: unknown key; allowed keys: warehouse, pipelines");
  }

  @Test
  void rejectsUnknownNestedKey() {
    assertThat(problems(MINIMAL.replace("tables:", "tabels:")))
        .contains(
            "pipelines[0].source.tabels: unknown key; allowed keys: type, url, user, password,"
                + " tables, slot-name, publication, unbounded-numeric");
  }

  @Test
  void doesNotSubstituteVariablesInKeys() {
    assertThat(problems("${KEY}: data\n", Map.of("KEY", "warehouse")))
        .contains("${KEY}: unknown key; allowed keys: warehouse, pipelines");
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
                + " ms, s, m or h (such as 250ms, 1s, 2m, 1h) or an ISO-8601 duration (such as"
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
                + " pipelines",
            "pipelines[0].commit-interval: invalid value '1 s'; write a number followed by ms, s,"
                + " m or h (such as 250ms, 1s, 2m, 1h) or an ISO-8601 duration (such as PT1S)",
            "pipelines[0].source.tabels: unknown key; allowed keys: type, url, user, password,"
                + " tables, slot-name, publication, unbounded-numeric",
            "pipelines[0].source.tables: missing required key");
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
