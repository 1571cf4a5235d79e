package io.floe.core.config;

import static io.floe.core.config.ConfigKey.derived;
import static io.floe.core.config.ConfigKey.optional;
import static io.floe.core.config.ConfigKey.required;

import io.floe.core.config.ConfigSection.Kind;
import io.floe.core.config.EnrichConfig.Missing;
import io.floe.core.config.QualityRuleConfig.Action;
import io.floe.core.config.QualityRuleConfig.Check;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The keys of what a pipeline does to records between its source and its tables: enrichment from
 * reference tables and SQL transforms (stream pipelines), and data quality rules (every pipeline);
 * part of {@link FloeConfigSchema}.
 */
final class ProcessingConfigSchema {
  private static final String COLUMN_PATTERN = "[A-Za-z_][A-Za-z0-9_]*";
  private static final Pattern ALIASED =
      Pattern.compile(
          "\\s*(" + COLUMN_PATTERN + ")(?:\\s+(?i:as)\\s+(" + COLUMN_PATTERN + "))?\\s*");
  private static final ValueType<String> COLUMN =
      ValueType.matching(
          COLUMN_PATTERN,
          "must be a column name: a letter or underscore, then letters, digits or underscores");
  private static final ValueType<List<String>> COLUMNS =
      ValueType.distinctList("list of columns", COLUMN);
  private static final ValueType<String> ICEBERG_TABLE =
      ValueType.matching(
          COLUMN_PATTERN + "\\." + COLUMN_PATTERN,
          "must be namespace.table, the Iceberg table as Floe's catalog names it (such as"
              + " shop.products)");
  private static final ValueType<Optional<BigDecimal>> BOUND =
      ValueType.parsed(
          "number",
          text -> {
            if (text.isBlank()) {
              return Optional.of(Optional.empty());
            }
            try {
              return Optional.of(Optional.of(new BigDecimal(text.trim())));
            } catch (NumberFormatException e) {
              return Optional.empty();
            }
          },
          "must be a number, such as 0 or 99.5");

  // Enrichment.
  static final ConfigKey<String> ENRICH_TABLE =
      required(
          "table",
          ICEBERG_TABLE,
          "Reference table whose rows enrich the records, as `namespace.table`: any table of"
              + " Floe's catalog, typically one a database pipeline keeps current.");
  static final ConfigKey<List<String>> ENRICH_KEY =
      required(
          "key",
          COLUMNS,
          "Columns of the reference table that identify a row, such as `[product_id]`; one row"
              + " per key is expected (with several, the last one read is used).");
  static final ConfigKey<List<String>> ENRICH_ON =
      optional(
          "on",
          COLUMNS,
          "[]",
          "Fields of the record matched to `key`, in the same order; each record's values are"
              + " converted to the key columns' types. Empty for fields named as `key`.");
  static final ConfigKey<List<String>> ENRICH_COLUMNS =
      required(
          "columns",
          ValueType.distinctList(
              "list of columns",
              ValueType.matching(
                  ALIASED.pattern(),
                  "must be `column` or `column AS name`, such as `price AS" + " list_price`")),
          "Reference columns added to each record, as `column` or `column AS name`; an added"
              + " column replaces a record field of the same name.");
  static final ConfigKey<Missing> ENRICH_MISSING =
      optional(
          "missing",
          ValueType.enumeration(Missing.class),
          "nulls",
          "What a record does when no reference row has its key: `nulls` writes it with null"
              + " in the added columns; `dead_letter` sends it to the dead-letter table as"
              + " `reference_missing`; `hold` keeps it in the dead-letter table as"
              + " `reference_pending` and replays it each time the reference changes, until its"
              + " row appears or `hold-for` has passed (then it stays as `reference_missing`).");
  static final ConfigKey<Duration> ENRICH_HOLD_FOR =
      optional(
          "hold-for",
          ValueType.duration()
              .where(
                  hold ->
                      hold.compareTo(Duration.ofSeconds(1)) >= 0
                          && hold.compareTo(Duration.ofDays(7)) <= 0,
                  "must be between 1s and 7d"),
          "5m",
          "How long a record with `missing: hold` waits for its reference row.");
  static final ConfigKey<String> ENRICH_SNAPSHOT_COLUMN =
      optional(
          "snapshot-column",
          ValueType.matching(
              "(" + COLUMN_PATTERN + ")?",
              "must be a column name: a letter or underscore, then letters, digits or"
                  + " underscores"),
          "",
          "Column (long) that receives the id of the reference table's snapshot each record was"
              + " enriched with, so that the join is reproducible with time travel"
              + " (`FOR VERSION AS OF`); empty for none. The snapshot ids of each commit are in"
              + " its snapshot summary as well (`floe.enrich.<namespace>.<table>.snapshot`).");
  static final ConfigKey<Long> ENRICH_MEMORY =
      optional(
          "memory",
          ValueType.byteSize()
              .where(
                  size -> size >= (1L << 20) && size <= (64L << 30),
                  "must be between 1MB and 64GB"),
          "64MB",
          "Memory for the reference table's lookup index. Half holds rows on the Java heap (about"
              + " 60 bytes per row plus its key and the added columns' values), where a lookup"
              + " costs under a microsecond; the other half is the cache of an embedded RocksDB in"
              + " the pipeline's state directory, which holds every row, so that a larger reference"
              + " spills to local disk (a lookup there costs 3-10 microseconds). Size it to twice"
              + " what the reference's rows take on the heap to keep all of them there: 256MB for a"
              + " million rows of three short columns.");
  static final ConfigSection ENRICH =
      new ConfigSection(
          "enrich",
          Kind.LIST,
          "Reference tables that add columns to a stream pipeline's records, looked up by key;"
              + " changes committed to a reference are used by the records processed after them.",
          List.of(
              ENRICH_TABLE,
              ENRICH_KEY,
              ENRICH_ON,
              ENRICH_COLUMNS,
              ENRICH_MISSING,
              ENRICH_HOLD_FOR,
              ENRICH_SNAPSHOT_COLUMN,
              ENRICH_MEMORY),
          List.of());

  // Transforms.
  static final ConfigKey<List<String>> SELECT =
      optional(
          "select",
          ValueType.distinctList("list of expressions", ValueType.string()),
          "[]",
          "Select-list items in DuckDB's SQL over the record's fields (after enrichment), such as"
              + " `[\"*\", \"lower(email) AS email\", \"price * qty AS total\"]`: the fields"
              + " written. `*` is every field; `* EXCLUDE (a)` and `* REPLACE (...)` work. Empty"
              + " for the record's own fields.");
  static final ConfigKey<String> WHERE =
      optional(
          "where",
          ValueType.string(),
          "",
          "Predicate in DuckDB's SQL, such as `status <> 'test'`: a record for which it is not"
              + " true is dropped (counted, not dead-lettered). Empty to keep every record.");
  static final ConfigSection TRANSFORM =
      new ConfigSection(
          "transform",
          Kind.OPTIONAL,
          "SQL applied to each record of a stream pipeline, in batches; a record whose"
              + " expressions fail goes to the dead-letter table as `transform_failed`.",
          List.of(SELECT, WHERE),
          List.of());

  // Quality rules.
  static final ConfigKey<Check> CHECK =
      required(
          "check",
          ValueType.enumeration(Check.class),
          "What the rule checks of each row: `not_null`, `unique`, `range`, `allowed`, `regex`,"
              + " `referential`, `freshness` or `sql`; each has its own keys.");
  static final ConfigKey<Action> ACTION =
      optional(
          "action",
          ValueType.enumeration(Action.class),
          "warn",
          "What a row that fails does: `block` stops the pipeline's commits at the last good"
              + " one and alerts (nothing is lost; it re-checks, and goes on once the rule passes"
              + " or a restart brings a changed rule); `quarantine` sends the row to the"
              + " dead-letter table as `quality_failed` and commits the others; `warn` commits"
              + " it and counts it.");
  static final ConfigKey<String> RULE_TABLE =
      optional(
          "table",
          ValueType.string(),
          "",
          "Source table (`schema.table`) of a database pipeline whose rows the rule checks;"
              + " empty in a stream pipeline, whose one table it checks.");
  static final ConfigKey<List<String>> RULE_COLUMNS =
      optional("columns", COLUMNS, "[]", "Columns checked: every one must hold a value.");
  static final ConfigKey<List<String>> UNIQUE_COLUMNS =
      required(
          "columns",
          COLUMNS,
          "Columns whose values together must be unique in the table (compared with the rows"
              + " committed before, and within each commit).");
  static final ConfigKey<String> RULE_COLUMN =
      required("column", COLUMN, "Column checked; a row where it is null passes.");
  static final ConfigKey<Optional<BigDecimal>> MIN =
      optional("min", BOUND, "", "Smallest allowed value; empty for no lower bound.");
  static final ConfigKey<Optional<BigDecimal>> MAX =
      optional("max", BOUND, "", "Largest allowed value; empty for no upper bound.");
  static final ConfigKey<List<String>> VALUES =
      required(
          "values",
          ValueType.distinctList("list of values", ValueType.string()),
          "Allowed values, compared as text with the column's value as text.");
  static final ConfigKey<String> PATTERN =
      required(
          "pattern",
          ValueType.parsed(
              "regular expression",
              text -> {
                try {
                  Pattern.compile(text);
                  return text.isEmpty() ? Optional.empty() : Optional.of(text);
                } catch (java.util.regex.PatternSyntaxException e) {
                  return Optional.empty();
                }
              },
              "must be a valid Java regular expression, such as `[A-Z]{2}-\\d{4}`"),
          "Regular expression (Java syntax) that the whole value, as text, must match.");
  static final ConfigKey<String> REFERENCE =
      required(
          "reference",
          ICEBERG_TABLE,
          "Table (`namespace.table`) that must hold each value, followed as it changes.");
  static final ConfigKey<String> REFERENCE_COLUMN =
      derived(
          "reference-column",
          COLUMN,
          "`column`",
          values -> values.get(RULE_COLUMN),
          "Column of `reference` that must hold the value.");
  static final ConfigKey<Duration> MAX_AGE =
      required(
          "max-age",
          ValueType.duration().where(age -> !age.isNegative() && !age.isZero(), "must be positive"),
          "Largest age of the column's timestamp when the row is written, such as `15m`.");
  static final ConfigKey<String> PREDICATE =
      required(
          "predicate",
          ValueType.string().where(text -> !text.isBlank(), "must not be empty"),
          "Predicate in DuckDB's SQL over the row's columns, such as `quantity * price < 100000`;"
              + " a row for which it is false or null fails.");

  static final ConfigKey<String> RULE_NAME =
      derived(
          "name",
          ValueType.lowercaseName(),
          "check + `_` + the first column",
          values -> {
            Check check = values.get(CHECK);
            if (check == null) {
              return null;
            }
            List<String> columns =
                check == Check.UNIQUE ? values.get(UNIQUE_COLUMNS) : values.get(RULE_COLUMNS);
            String column = values.get(RULE_COLUMN);
            String first =
                columns != null && !columns.isEmpty()
                    ? columns.get(0)
                    : column != null && !column.isEmpty() ? column : null;
            return (check.label() + (first == null ? "" : "_" + first))
                .toLowerCase(java.util.Locale.ROOT);
          },
          "Name of the rule in `system.quality_results`, dead letters and logs; unique in the"
              + " pipeline.");
  static final ConfigSection QUALITY =
      new ConfigSection(
          "quality",
          Kind.LIST,
          "Data quality rules of the pipeline's tables, checked on every row before its"
              + " commit; results per commit are in `system.quality_results`.",
          List.of(CHECK, ACTION, RULE_TABLE),
          List.of(),
          qualityVariants());

  private static Map<String, List<ConfigKey<?>>> qualityVariants() {
    Map<String, List<ConfigKey<?>>> variants = new LinkedHashMap<>();
    // The name comes last: its default is made of the keys before it.
    variants.put("not_null", List.of(RULE_COLUMNS, RULE_NAME));
    variants.put("unique", List.of(UNIQUE_COLUMNS, RULE_NAME));
    variants.put("range", List.of(RULE_COLUMN, MIN, MAX, RULE_NAME));
    variants.put("allowed", List.of(RULE_COLUMN, VALUES, RULE_NAME));
    variants.put("regex", List.of(RULE_COLUMN, PATTERN, RULE_NAME));
    variants.put("referential", List.of(RULE_COLUMN, REFERENCE, REFERENCE_COLUMN, RULE_NAME));
    variants.put("freshness", List.of(RULE_COLUMN, MAX_AGE, RULE_NAME));
    variants.put("sql", List.of(PREDICATE, RULE_NAME));
    return variants;
  }

  private ProcessingConfigSchema() {}

  /** Reports processing keys a pipeline cannot have, and rules that cannot mean anything. */
  static void check(
      ConfigValues pipeline,
      String path,
      boolean stream,
      List<String> sourceTables,
      ConfigReader reader) {
    List<ConfigValues> enrich = pipeline.list(ENRICH);
    ConfigValues transform = pipeline.section(TRANSFORM);
    if (!stream) {
      if (enrich != null && !enrich.isEmpty()) {
        reader.problem(
            path + ".enrich",
            "only a stream pipeline (source.type kafka or http) enriches records; remove it");
      }
      if (transform != null && (transform.written(SELECT) || transform.written(WHERE))) {
        reader.problem(
            path + ".transform",
            "only a stream pipeline (source.type kafka or http) transforms records; remove it");
      }
    }
    Set<String> added = new HashSet<>();
    for (int index = 0; enrich != null && index < enrich.size(); index++) {
      ConfigValues entry = enrich.get(index);
      String entryPath = path + ".enrich[" + index + "]";
      List<String> key = entry.get(ENRICH_KEY);
      List<String> on = entry.get(ENRICH_ON);
      if (key != null && on != null && !on.isEmpty() && key.size() != on.size()) {
        reader.problem(
            entryPath + ".on",
            "must name one record field per key column: key has "
                + key.size()
                + " columns ("
                + String.join(", ", key)
                + "), on has "
                + on.size());
      }
      List<String> columns = entry.get(ENRICH_COLUMNS);
      for (int column = 0; columns != null && column < columns.size(); column++) {
        String alias = column(columns.get(column)).alias();
        if (!added.add(alias)) {
          reader.problem(
              entryPath + ".columns[" + column + "]",
              "column " + alias + " is added already; rename one (`column AS name`)");
        }
      }
      String snapshotColumn = entry.get(ENRICH_SNAPSHOT_COLUMN);
      if (snapshotColumn != null && !snapshotColumn.isEmpty() && !added.add(snapshotColumn)) {
        reader.problem(
            entryPath + ".snapshot-column",
            "column "
                + snapshotColumn
                + " is added already; give the snapshot column its own name");
      }
    }
    List<ConfigValues> rules = pipeline.list(QUALITY);
    Set<String> names = new HashSet<>();
    for (int index = 0; rules != null && index < rules.size(); index++) {
      ConfigValues rule = rules.get(index);
      String rulePath = path + ".quality[" + index + "]";
      String name = rule.get(RULE_NAME);
      if (name != null && !names.add(name)) {
        reader.problem(
            rulePath + ".name",
            "another rule of this pipeline is named " + name + "; give each rule its own name");
      }
      String table = rule.get(RULE_TABLE);
      if (stream && table != null && !table.isEmpty()) {
        reader.problem(
            rulePath + ".table", "a stream pipeline's rules check its one table; remove table");
      }
      if (!stream && table != null && table.isEmpty()) {
        reader.problem(
            rulePath + ".table",
            "name the source table whose rows the rule checks, such as table: public.orders");
      } else if (!stream && table != null && !sourceTables.contains(sourceTable(table))) {
        reader.problem(
            rulePath + ".table",
            table
                + " is not a table of source.tables "
                + sourceTables
                + "; name one of them as written there (schema.table)");
      }
      if (!stream && rule.get(ACTION) == Action.QUARANTINE) {
        reader.problem(
            rulePath + ".action",
            "quarantine sends rows to a dead-letter table, which only stream pipelines have; a"
                + " database pipeline's table must stay a copy of its source: use block or warn");
      }
      Check check = rule.get(CHECK);
      if (check == Check.NOT_NULL) {
        List<String> columns = rule.get(RULE_COLUMNS);
        if (columns != null && columns.isEmpty()) {
          reader.problem(rulePath + ".columns", "list the columns that must hold a value");
        }
      }
      if (check == Check.RANGE && !rule.written(MIN) && !rule.written(MAX)) {
        reader.problem(rulePath, "give min, max or both for a range rule");
      }
    }
  }

  static List<EnrichConfig> enrich(ConfigValues pipeline) {
    return pipeline.list(ENRICH).stream()
        .map(
            entry -> {
              String snapshotColumn = entry.get(ENRICH_SNAPSHOT_COLUMN);
              return new EnrichConfig(
                  entry.get(ENRICH_TABLE),
                  entry.get(ENRICH_KEY),
                  entry.get(ENRICH_ON).isEmpty() ? entry.get(ENRICH_KEY) : entry.get(ENRICH_ON),
                  entry.get(ENRICH_COLUMNS).stream().map(ProcessingConfigSchema::column).toList(),
                  entry.get(ENRICH_MISSING),
                  entry.get(ENRICH_HOLD_FOR),
                  snapshotColumn.isEmpty() ? Optional.empty() : Optional.of(snapshotColumn),
                  entry.get(ENRICH_MEMORY));
            })
        .toList();
  }

  static Optional<TransformConfig> transform(ConfigValues pipeline) {
    ConfigValues transform = pipeline.section(TRANSFORM);
    List<String> select = transform.get(SELECT);
    String where = transform.get(WHERE);
    if (select.isEmpty() && where.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(
        new TransformConfig(
            select.isEmpty() ? List.of("*") : select,
            where.isBlank() ? Optional.empty() : Optional.of(where)));
  }

  static List<QualityRuleConfig> quality(ConfigValues pipeline) {
    return pipeline.list(QUALITY).stream()
        .map(
            rule -> {
              Check check = rule.get(CHECK);
              List<String> columns =
                  switch (check) {
                    case NOT_NULL -> rule.get(RULE_COLUMNS);
                    case UNIQUE -> rule.get(UNIQUE_COLUMNS);
                    case SQL -> List.of();
                    default -> List.of(rule.get(RULE_COLUMN));
                  };
              String table = rule.get(RULE_TABLE);
              return new QualityRuleConfig(
                  rule.get(RULE_NAME),
                  check,
                  rule.get(ACTION),
                  table.isEmpty() ? Optional.empty() : Optional.of(sourceTable(table)),
                  columns,
                  check == Check.RANGE ? rule.get(MIN) : Optional.empty(),
                  check == Check.RANGE ? rule.get(MAX) : Optional.empty(),
                  check == Check.ALLOWED ? rule.get(VALUES) : List.of(),
                  check == Check.REGEX ? rule.get(PATTERN) : "",
                  check == Check.REFERENTIAL ? rule.get(REFERENCE) : "",
                  check == Check.REFERENTIAL ? rule.get(REFERENCE_COLUMN) : "",
                  check == Check.FRESHNESS ? rule.get(MAX_AGE) : Duration.ZERO,
                  check == Check.SQL ? rule.get(PREDICATE) : "");
            })
        .toList();
  }

  /** A source table as {@code source.tables} holds it: {@code table} means {@code public.table}. */
  private static String sourceTable(String text) {
    return text.contains(".") ? text : "public." + text;
  }

  private static EnrichConfig.Column column(String text) {
    Matcher matcher = ALIASED.matcher(text);
    if (!matcher.matches()) {
      throw new IllegalArgumentException("Not a column: " + text);
    }
    String name = matcher.group(1);
    return new EnrichConfig.Column(name, matcher.group(2) == null ? name : matcher.group(2));
  }
}
