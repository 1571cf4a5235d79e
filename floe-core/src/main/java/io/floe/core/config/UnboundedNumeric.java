package io.floe.core.config;

/**
 * How PostgreSQL {@code numeric} columns declared without precision are stored; written in lower
 * case in YAML ({@code decimal}, {@code string}).
 */
public enum UnboundedNumeric {
  /** Iceberg {@code decimal(38,10)}; a value that does not fit exactly stops the pipeline. */
  DECIMAL,
  /** The exact value as text. */
  STRING
}
