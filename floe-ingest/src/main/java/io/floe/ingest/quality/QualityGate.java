package io.floe.ingest.quality;

import static java.util.Objects.requireNonNull;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.QualityRuleConfig;
import io.floe.core.config.QualityRuleConfig.Action;
import io.floe.core.config.QualityRuleConfig.Check;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks the rows a pipeline writes to one table against its quality rules, batch by batch, and
 * keeps each rule's figures until the table commits; then records one {@link QualityResult} per
 * rule for that commit.
 *
 * <p>A row fails a {@code quarantine} rule: it is not written, the caller sends it to the
 * dead-letter table. A row fails a {@code block} rule: nothing of the batch is written and the
 * caller stops (see {@link #check}). A row fails a {@code warn} rule: it is written and counted.
 * Rules are checked in their configured order; a row's first failing quarantine rule is the one
 * reported.
 *
 * <p>Not thread-safe: the pipeline's thread uses it.
 */
public final class QualityGate implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(QualityGate.class);
  private static final long WARN_INTERVAL_NANOS = 10_000_000_000L;

  /** Looks up values in another table (a referential rule), or in the table itself (unique). */
  public interface Lookup extends AutoCloseable {
    /** Moves to the table's current snapshot. */
    void refresh();

    /**
     * The values of the lookup's value columns in the live row whose key columns hold {@code key},
     * or empty when no live row does.
     */
    Optional<Object[]> lookup(List<Object> key);

    @Override
    void close();
  }

  /** Opens lookups of tables by key columns: {@code valueColumns} may be empty. */
  public interface Lookups {
    Lookup open(String table, List<String> keyColumns, List<String> valueColumns);
  }

  /** Evaluates SQL predicates over rows: one result per row, null when a row passes. */
  public interface Predicates extends AutoCloseable {
    /**
     * For each row: the message of its failure of {@code predicate}, or null when it passes. The
     * predicates of one batch are asked for with the same list, which they may load once.
     */
    List<String> failures(int predicate, Schema schema, List<Record> rows);

    @Override
    void close();
  }

  /** A row's failure of a rule. */
  public record Failure(String rule, Action action, String message) {
    public Failure {
      requireNonNull(rule, "rule is null");
      requireNonNull(action, "action is null");
      requireNonNull(message, "message is null");
    }
  }

  /**
   * What the rules said of a batch.
   *
   * @param quarantined for each row, its failure of a quarantine rule, or null
   * @param blocked the first failure of a block rule, if any: nothing of the batch may be written
   */
  public record Verdict(List<Failure> quarantined, Optional<Failure> blocked) {
    public Verdict {
      quarantined = java.util.Collections.unmodifiableList(new ArrayList<>(quarantined));
      requireNonNull(blocked, "blocked is null");
    }
  }

  private final String pipeline;
  private final String table;
  private final List<Rule> rules;
  private final QualityResults results;
  private final Clock clock;
  private long lastWarnNanos = System.nanoTime() - WARN_INTERVAL_NANOS;

  /**
   * @param table the checked table's name, as results report it
   * @param tableName the checked table as {@link Lookups#open} names it, for {@code unique} rules
   * @param key the table's key columns (empty for an append table)
   * @param predicates the SQL predicates of the {@code sql} rules, in their order
   */
  public QualityGate(
      String pipeline,
      String table,
      String tableName,
      List<String> key,
      List<QualityRuleConfig> rules,
      Lookups lookups,
      Predicates predicates,
      QualityResults results,
      Clock clock) {
    this.pipeline = requireNonNull(pipeline, "pipeline is null");
    this.table = requireNonNull(table, "table is null");
    this.results = requireNonNull(results, "results is null");
    this.clock = requireNonNull(clock, "clock is null");
    List<Rule> opened = new ArrayList<>();
    int sql = 0;
    try {
      for (QualityRuleConfig rule : rules) {
        Lookup lookup = null;
        if (rule.check() == Check.REFERENTIAL) {
          lookup = lookups.open(rule.reference(), List.of(rule.referenceColumn()), List.of());
        } else if (rule.check() == Check.UNIQUE) {
          lookup = lookups.open(tableName, rule.columns(), key);
        }
        opened.add(
            new Rule(
                rule,
                lookup,
                rule.check() == Check.SQL ? sql++ : -1,
                rule.check() == Check.REGEX ? Pattern.compile(rule.pattern()) : null,
                key));
      }
    } catch (RuntimeException e) {
      opened.forEach(Rule::close);
      throw e;
    }
    this.rules = List.copyOf(opened);
    this.predicates = requireNonNull(predicates, "predicates is null");
  }

  private final Predicates predicates;

  /** A rule's figures since the pipeline started. */
  public record RuleFigures(String action, long checked, long failed) {}

  /** Each rule's figures since the pipeline started, by name; thread-safe. */
  public Map<String, RuleFigures> figures() {
    Map<String, RuleFigures> figures = new java.util.LinkedHashMap<>();
    for (Rule rule : rules) {
      figures.put(
          rule.config.name(),
          new RuleFigures(
              rule.config.action().name().toLowerCase(java.util.Locale.ROOT),
              rule.totalChecked.sum(),
              rule.totalFailed.sum()));
    }
    return figures;
  }

  /** Whether the table has rules. */
  public boolean isEmpty() {
    return rules.isEmpty();
  }

  /**
   * Checks the rows of a batch, all of {@code schema}, in the order they will be written. Counts
   * what each rule found for the commit that takes them; a blocked batch is recorded at once (it
   * will not commit).
   */
  public Verdict check(Schema schema, List<Record> batch) {
    // A list of its own: SQL rules load a batch once for all of them, by the list's identity.
    List<Record> rows = List.copyOf(batch);
    List<Failure> quarantined = new ArrayList<>(java.util.Collections.nCopies(rows.size(), null));
    Failure blocked = null;
    for (Rule rule : rules) {
      List<String> failures = rule.failures(schema, rows);
      for (int row = 0; row < rows.size(); row++) {
        String failure = failures.get(row);
        if (failure == null) {
          continue;
        }
        Failure found = new Failure(rule.config.name(), rule.config.action(), failure);
        switch (rule.config.action()) {
          case BLOCK -> {
            if (blocked == null) {
              blocked = found;
            }
          }
          case QUARANTINE -> {
            if (quarantined.get(row) == null) {
              quarantined.set(row, found);
            }
          }
          case WARN -> warn(found);
        }
      }
    }
    if (blocked != null) {
      List<QualityResult> round = round(OptionalLong.empty(), true);
      results.record(round);
      LOG.error(
          "Pipeline {}: quality rule {} blocks the commits to {}: {}; nothing after the last"
              + " commit is written. The pipeline checks again on restart: fix the data at its"
              + " source, or change the rule",
          pipeline,
          blocked.rule(),
          table,
          blocked.message());
      return new Verdict(quarantined, Optional.of(blocked));
    }
    for (int row = 0; row < rows.size(); row++) {
      if (quarantined.get(row) == null) {
        for (Rule rule : rules) {
          rule.accept(schema, rows.get(row));
        }
      }
    }
    return new Verdict(quarantined, Optional.empty());
  }

  /**
   * The table committed the rows checked since its last commit as {@code snapshotId}: records each
   * rule's result for them, and moves the lookups of {@code unique} rules onto the commit.
   */
  public void committed(OptionalLong snapshotId) {
    if (rules.isEmpty() || rules.stream().allMatch(rule -> rule.checked == 0)) {
      return;
    }
    results.record(round(snapshotId, false));
    for (Rule rule : rules) {
      if (rule.config.check() == Check.UNIQUE) {
        rule.lookup.refresh();
        rule.pending.clear();
      }
    }
  }

  /** Moves the lookups of referential rules onto their tables' current snapshots. */
  public void refreshReferences() {
    for (Rule rule : rules) {
      if (rule.config.check() == Check.REFERENTIAL) {
        rule.lookup.refresh();
      }
    }
  }

  private List<QualityResult> round(OptionalLong snapshotId, boolean blocked) {
    Instant now = clock.instant();
    List<QualityResult> round = new ArrayList<>();
    for (Rule rule : rules) {
      String outcome;
      if (rule.failed == 0) {
        outcome = "passed";
      } else {
        outcome =
            switch (rule.config.action()) {
              case BLOCK -> "blocked";
              case QUARANTINE -> "quarantined";
              case WARN -> "warned";
            };
      }
      if (!blocked || rule.failed > 0) {
        round.add(
            new QualityResult(
                now,
                pipeline,
                table,
                rule.config.name(),
                rule.config.check().label(),
                rule.config.action().name().toLowerCase(java.util.Locale.ROOT),
                snapshotId,
                rule.checked,
                rule.failed,
                outcome,
                rule.example == null ? "" : rule.example));
      }
      rule.checked = 0;
      rule.failed = 0;
      rule.example = null;
    }
    return round;
  }

  private void warn(Failure failure) {
    long now = System.nanoTime();
    if (now - lastWarnNanos >= WARN_INTERVAL_NANOS) {
      lastWarnNanos = now;
      LOG.warn(
          "Pipeline {}: rows of {} fail quality rule {} (action warn: they are written): {}",
          pipeline,
          table,
          failure.rule(),
          failure.message());
    }
  }

  @Override
  public void close() {
    rules.forEach(Rule::close);
    predicates.close();
  }

  /** One rule, its lookup and its figures since the table's last commit. */
  private final class Rule {
    final QualityRuleConfig config;
    final Lookup lookup;
    final int predicate;
    final Pattern pattern;
    final List<String> key;

    /** For a unique rule: the values (and keys) of rows written since the last commit. */
    final Map<List<Object>, List<Object>> pending = new HashMap<>();

    long checked;
    long failed;
    String example;
    final Set<String> missingColumns = new HashSet<>();
    final java.util.concurrent.atomic.LongAdder totalChecked =
        new java.util.concurrent.atomic.LongAdder();
    final java.util.concurrent.atomic.LongAdder totalFailed =
        new java.util.concurrent.atomic.LongAdder();

    Rule(
        QualityRuleConfig config, Lookup lookup, int predicate, Pattern pattern, List<String> key) {
      this.config = config;
      this.lookup = lookup;
      this.predicate = predicate;
      this.pattern = pattern;
      this.key = key;
    }

    /** For each row, why it fails, or null; counts the rows. */
    List<String> failures(Schema schema, List<Record> rows) {
      List<String> failures;
      if (config.check() == Check.SQL) {
        failures = predicates.failures(predicate, schema, rows);
      } else {
        failures = new ArrayList<>(rows.size());
        Set<List<Object>> batchValues = new HashSet<>();
        for (Record row : rows) {
          failures.add(failure(schema, row, batchValues));
        }
      }
      checked += rows.size();
      totalChecked.add(rows.size());
      for (String failure : failures) {
        if (failure != null) {
          failed++;
          totalFailed.increment();
          if (example == null) {
            example = failure;
          }
        }
      }
      return failures;
    }

    /** A row checked and written: a unique rule remembers its values. */
    void accept(Schema schema, Record row) {
      if (config.check() == Check.UNIQUE) {
        pending.put(values(schema, row, config.columns()), values(schema, row, key));
      }
    }

    private String failure(Schema schema, Record row, Set<List<Object>> batchValues) {
      return switch (config.check()) {
        case NOT_NULL -> {
          List<String> missing = new ArrayList<>();
          for (String column : config.columns()) {
            if (value(schema, row, column) == null) {
              missing.add(column);
            }
          }
          yield missing.isEmpty() ? null : "no value for " + String.join(", ", missing);
        }
        case RANGE -> range(schema, row);
        case ALLOWED -> {
          Object value = value(schema, row, config.columns().get(0));
          yield value == null || config.values().contains(value.toString())
              ? null
              : config.columns().get(0)
                  + " = "
                  + value
                  + " is not one of the allowed values "
                  + config.values();
        }
        case REGEX -> {
          Object value = value(schema, row, config.columns().get(0));
          yield value == null || pattern.matcher(value.toString()).matches()
              ? null
              : config.columns().get(0)
                  + " = '"
                  + value
                  + "' does not match the pattern "
                  + config.pattern();
        }
        case FRESHNESS -> freshness(schema, row);
        case REFERENTIAL -> {
          Object value = value(schema, row, config.columns().get(0));
          yield value == null || lookup.lookup(List.of(value)).isPresent()
              ? null
              : config.columns().get(0)
                  + " = "
                  + value
                  + " has no row in "
                  + config.reference()
                  + " ("
                  + config.referenceColumn()
                  + ")";
        }
        case UNIQUE -> unique(schema, row, batchValues);
        case SQL -> throw new IllegalStateException("SQL rules are evaluated in batches");
      };
    }

    private String range(Schema schema, Record row) {
      String column = config.columns().get(0);
      Object value = value(schema, row, column);
      if (value == null) {
        return null;
      }
      if (!(value instanceof Number number)) {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Quality rule "
                + config.name()
                + " of pipeline "
                + pipeline
                + " checks the range of column "
                + column
                + " of "
                + table
                + ", which is not a number ("
                + schema.findType(column)
                + "); check it with a sql rule instead, such as predicate: \""
                + column
                + " >= DATE '2026-01-01'\"");
      }
      BigDecimal decimal = new BigDecimal(number.toString());
      if (config.min().isPresent() && decimal.compareTo(config.min().get()) < 0) {
        return column + " = " + value + " is below the minimum " + config.min().get();
      }
      if (config.max().isPresent() && decimal.compareTo(config.max().get()) > 0) {
        return column + " = " + value + " is above the maximum " + config.max().get();
      }
      return null;
    }

    private String freshness(Schema schema, Record row) {
      String column = config.columns().get(0);
      Object value = value(schema, row, column);
      if (value == null) {
        return null;
      }
      Instant instant;
      if (value instanceof OffsetDateTime time) {
        instant = time.toInstant();
      } else if (value instanceof LocalDateTime time) {
        instant = time.toInstant(ZoneOffset.UTC);
      } else {
        throw new FloeException(
            ErrorCode.CONFIG_INVALID,
            "Quality rule "
                + config.name()
                + " of pipeline "
                + pipeline
                + " checks the freshness of column "
                + column
                + " of "
                + table
                + ", which is not a timestamp ("
                + schema.findType(column)
                + "); name a timestamp or timestamptz column");
      }
      Instant oldest = clock.instant().minus(config.maxAge());
      return instant.isBefore(oldest)
          ? column + " = " + value + " is older than " + config.maxAge().toString().substring(2)
          : null;
    }

    private String unique(Schema schema, Record row, Set<List<Object>> batchValues) {
      List<Object> values = values(schema, row, config.columns());
      if (values.contains(null)) {
        return null;
      }
      List<Object> rowKey = values(schema, row, key);
      String duplicate =
          String.join(", ", config.columns()) + " = " + values + " is in another row already";
      if (!batchValues.add(values)) {
        return duplicate;
      }
      List<Object> pendingKey = pending.get(values);
      if (pendingKey != null && (key.isEmpty() || !pendingKey.equals(rowKey))) {
        return duplicate;
      }
      Optional<Object[]> committed = lookup.lookup(values);
      if (committed.isPresent()
          && (key.isEmpty() || !java.util.Arrays.asList(committed.get()).equals(rowKey))) {
        return duplicate;
      }
      return null;
    }

    /**
     * The row's value of {@code column}, null when the table has no such column (yet: a stream's
     * columns come with its records); that is logged once, as it may be a misspelt column.
     */
    private Object value(Schema schema, Record row, String column) {
      if (schema.findField(column) == null) {
        if (missingColumns.add(column)) {
          LOG.warn(
              "Pipeline {}: quality rule {} checks column {}, which table {} has no column for"
                  + " (yet; its columns: {}): its rows hold no value for it",
              pipeline,
              config.name(),
              column,
              table,
              schema.columns().stream().map(Types.NestedField::name).toList());
        }
        return null;
      }
      return row.getField(column);
    }

    private List<Object> values(Schema schema, Record row, List<String> columns) {
      List<Object> values = new ArrayList<>(columns.size());
      for (String column : columns) {
        values.add(value(schema, row, column));
      }
      return values;
    }

    void close() {
      if (lookup != null) {
        lookup.close();
      }
    }
  }
}
