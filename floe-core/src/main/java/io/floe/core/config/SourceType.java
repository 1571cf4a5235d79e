package io.floe.core.config;

/** Kind of source database; written in lower case in YAML ({@code postgres}). */
public enum SourceType {
  POSTGRES
}
