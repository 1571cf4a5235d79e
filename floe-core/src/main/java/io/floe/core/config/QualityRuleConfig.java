package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A data quality rule of a pipeline's table: a check of every row written, and what a row that
 * fails it does. Which fields apply depends on {@link #check()}; the others are empty.
 *
 * @param name the rule's name in results and dead letters
 * @param table the table checked: empty for a stream pipeline's table, else a database pipeline's
 *     source table ({@code schema.table})
 * @param columns the columns checked (one, except for {@code not_null} and {@code unique})
 * @param min the smallest allowed value of a {@code range} rule, if bounded below
 * @param max the largest allowed value of a {@code range} rule, if bounded above
 * @param values the allowed values of an {@code allowed} rule, as text
 * @param pattern the regular expression of a {@code regex} rule (Java syntax), matched in full
 * @param reference the table of a {@code referential} rule, {@code namespace.table}
 * @param referenceColumn the column of {@code reference} that must hold the value
 * @param maxAge the largest age of a {@code freshness} rule's timestamp when the row is written
 * @param predicate the SQL predicate (DuckDB's dialect) of a {@code sql} rule
 */
public record QualityRuleConfig(
    String name,
    Check check,
    Action action,
    Optional<String> table,
    List<String> columns,
    Optional<BigDecimal> min,
    Optional<BigDecimal> max,
    List<String> values,
    String pattern,
    String reference,
    String referenceColumn,
    Duration maxAge,
    String predicate) {
  /** What a rule checks of each row. */
  public enum Check {
    NOT_NULL,
    UNIQUE,
    RANGE,
    ALLOWED,
    REGEX,
    REFERENTIAL,
    FRESHNESS,
    SQL;

    /** The check as written in YAML, such as {@code not_null}. */
    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What a row that fails the rule does. */
  public enum Action {
    /**
     * Nothing more is committed: the pipeline stops at the last good commit and alerts, and
     * re-checks until the rule passes (the data was fixed, or the rule changed and the pipeline
     * restarted); nothing is lost.
     */
    BLOCK,
    /** The row goes to the dead-letter table; the others commit. */
    QUARANTINE,
    /** The row commits; failures are counted and logged. */
    WARN
  }

  public QualityRuleConfig {
    requireNonNull(name, "name is null");
    requireNonNull(check, "check is null");
    requireNonNull(action, "action is null");
    requireNonNull(table, "table is null");
    columns = List.copyOf(requireNonNull(columns, "columns is null"));
    requireNonNull(min, "min is null");
    requireNonNull(max, "max is null");
    values = List.copyOf(requireNonNull(values, "values is null"));
    requireNonNull(pattern, "pattern is null");
    requireNonNull(reference, "reference is null");
    requireNonNull(referenceColumn, "referenceColumn is null");
    requireNonNull(maxAge, "maxAge is null");
    requireNonNull(predicate, "predicate is null");
  }
}
