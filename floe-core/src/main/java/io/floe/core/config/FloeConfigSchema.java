package io.floe.core.config;

import static io.floe.core.config.ConfigKey.derived;
import static io.floe.core.config.ConfigKey.optional;
import static io.floe.core.config.ConfigKey.required;

import io.floe.core.config.ConfigSection.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/** Every key of the configuration file, declared once, and how the values become records. */
final class FloeConfigSchema {
  private static final ValueType<String> NAME =
      ValueType.matching(
          "[a-z][a-z0-9_]{0,39}",
          "must start with a lowercase letter followed by at most 39 lowercase letters,"
              + " digits or underscores");
  private static final ValueType<String> POSTGRES_NAME =
      ValueType.matching(
          "[a-z0-9_]{1,63}", "must be 1 to 63 lowercase letters, digits or underscores");
  private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");
  private static final ValueType<String> TABLE =
      ValueType.parsed(
          "table",
          FloeConfigSchema::qualifiedTable,
          "must be schema.table, or table for a table in schema public, where each name starts"
              + " with a letter or underscore followed by letters, digits, underscores or $");
  private static final Duration MINIMUM_COMMIT_INTERVAL = Duration.ofMillis(100);
  private static final Duration MAXIMUM_COMMIT_INTERVAL = Duration.ofHours(1);

  static final ConfigKey<Path> WAREHOUSE =
      optional(
          "warehouse",
          ValueType.path(),
          "./floe-data",
          "Directory where Floe keeps its Iceberg tables and catalog. A relative path resolves"
              + " against the directory of the configuration file.");

  static final ConfigKey<String> PIPELINE_NAME =
      required(
          "name",
          NAME,
          "Name of the pipeline, used in logs and as the base of default names. Unique within the"
              + " file.");
  static final ConfigKey<Duration> COMMIT_INTERVAL =
      optional(
          "commit-interval",
          ValueType.duration()
              .where(
                  interval ->
                      interval.compareTo(MINIMUM_COMMIT_INTERVAL) >= 0
                          && interval.compareTo(MAXIMUM_COMMIT_INTERVAL) <= 0,
                  "must be between 100ms and 1h"),
          "1s",
          "How often captured changes are committed to the Iceberg tables. Shorter intervals give"
              + " fresher data but more, smaller files.");

  static final ConfigKey<SourceType> SOURCE_TYPE =
      required("type", ValueType.enumeration(SourceType.class), "Kind of source database.");
  static final ConfigKey<String> URL =
      required(
          "url",
          ValueType.string()
              .where(
                  url -> url.startsWith("jdbc:postgresql://"),
                  "must start with jdbc:postgresql://"),
          "JDBC URL of the database, such as `jdbc:postgresql://127.0.0.1:5432/shop`.");
  static final ConfigKey<String> USER =
      required(
          "user",
          ValueType.string().where(user -> !user.isEmpty(), "must not be empty"),
          "Database user; it needs the REPLICATION attribute and SELECT on the captured tables.");
  static final ConfigKey<String> PASSWORD =
      optional(
          "password",
          ValueType.string(),
          "",
          "Password of the user. Write `${PGPASSWORD}` to keep it out of the file.");
  static final ConfigKey<List<String>> TABLES =
      required(
          "tables",
          ValueType.distinctList("list of tables", TABLE)
              .where(tables -> !tables.isEmpty(), "must list at least one table"),
          "Tables to capture, each written `schema.table` or `table`.");
  static final ConfigKey<String> SLOT_NAME =
      derived(
          "slot-name",
          POSTGRES_NAME,
          "`floe_` + pipeline name",
          prefixedPipelineName("floe_"),
          "Logical replication slot Floe reads changes from; it holds the pipeline's position in"
              + " the write-ahead log.");
  static final ConfigKey<String> PUBLICATION =
      derived(
          "publication",
          POSTGRES_NAME,
          "`floe_` + pipeline name",
          prefixedPipelineName("floe_"),
          "PostgreSQL publication that lists the captured tables.");
  static final ConfigKey<UnboundedNumeric> UNBOUNDED_NUMERIC =
      optional(
          "unbounded-numeric",
          ValueType.enumeration(UnboundedNumeric.class),
          "decimal",
          "How PostgreSQL `numeric` columns declared without precision are stored: `decimal` ="
              + " Iceberg `decimal(38,10)` (a value that does not fit exactly stops the pipeline"
              + " with an error naming the column), `string` = exact text.");

  static final ConfigKey<String> NAMESPACE =
      derived(
          "namespace",
          NAME,
          "the pipeline name",
          prefixedPipelineName(""),
          "Iceberg namespace that receives one table per captured source table.");

  // The type is read first; a future source type (mysql) gets its own keys after it.
  static final ConfigSection SOURCE =
      new ConfigSection(
          "source",
          Kind.REQUIRED,
          "The database to capture changes from.",
          List.of(
              SOURCE_TYPE, URL, USER, PASSWORD, TABLES, SLOT_NAME, PUBLICATION, UNBOUNDED_NUMERIC),
          List.of());
  static final ConfigSection TARGET =
      new ConfigSection(
          "target",
          Kind.OPTIONAL,
          "Where the captured changes are written.",
          List.of(NAMESPACE),
          List.of());
  static final ConfigSection PIPELINES =
      new ConfigSection(
          "pipelines",
          Kind.LIST,
          "Pipelines to run, each copying changes from one source database into one Iceberg"
              + " namespace.",
          List.of(PIPELINE_NAME, COMMIT_INTERVAL),
          List.of(SOURCE, TARGET));
  static final ConfigSection ROOT = ConfigSection.root(List.of(WAREHOUSE), List.of(PIPELINES));

  /** A complete configuration file, shown in the reference documentation. */
  static final String EXAMPLE =
      """
      warehouse: ./floe-data
      pipelines:
        - name: shop
          source:
            type: postgres
            url: jdbc:postgresql://127.0.0.1:5432/shop
            user: floe
            password: ${PGPASSWORD}
            tables: [public.customers, public.orders]
          target:
            namespace: raw
          commit-interval: 1s
      """;

  private FloeConfigSchema() {}

  /**
   * Reports pipelines that share a name; names must be unique because defaults derive from them.
   */
  static void checkPipelineNames(ConfigValues root, ConfigReader reader) {
    Map<String, Integer> firstIndexes = new HashMap<>();
    List<ConfigValues> pipelines = root.list(PIPELINES);
    for (int index = 0; index < pipelines.size(); index++) {
      String name = pipelines.get(index).get(PIPELINE_NAME);
      Integer first = name == null ? null : firstIndexes.putIfAbsent(name, index);
      if (first != null) {
        reader.problem(
            "pipelines[" + index + "].name",
            "duplicate pipeline name '" + name + "', already used by pipelines[" + first + "]");
      }
    }
  }

  /** Builds the records from values read without problems. */
  static FloeConfig build(ConfigValues root, Path baseDirectory) {
    Path warehouse = baseDirectory.resolve(root.get(WAREHOUSE)).toAbsolutePath().normalize();
    return new FloeConfig(
        warehouse, root.list(PIPELINES).stream().map(FloeConfigSchema::pipeline).toList());
  }

  private static PipelineConfig pipeline(ConfigValues values) {
    ConfigValues source = values.section(SOURCE);
    return new PipelineConfig(
        values.get(PIPELINE_NAME),
        new SourceConfig(
            source.get(SOURCE_TYPE),
            source.get(URL),
            source.get(USER),
            source.get(PASSWORD),
            source.get(TABLES),
            source.get(SLOT_NAME),
            source.get(PUBLICATION),
            source.get(UNBOUNDED_NUMERIC)),
        new TargetConfig(values.section(TARGET).get(NAMESPACE)),
        values.get(COMMIT_INTERVAL));
  }

  private static Function<ConfigValues, String> prefixedPipelineName(String prefix) {
    return values -> {
      String name = values.parent().get(PIPELINE_NAME);
      return name == null ? null : prefix + name;
    };
  }

  private static Optional<String> qualifiedTable(String text) {
    String[] names = text.split("\\.", -1);
    if (names.length > 2
        || !Arrays.stream(names).allMatch(name -> IDENTIFIER.matcher(name).matches())) {
      return Optional.empty();
    }
    return Optional.of(names.length == 1 ? "public." + text : text);
  }
}
