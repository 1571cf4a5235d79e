package io.floe.core.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.List;

/**
 * The SQL endpoints (PostgreSQL wire protocol and HTTP query API), their users and workgroups.
 * {@code cacheSize} and {@code residentSize} are in bytes. A port of 0 means a free port is picked
 * when the endpoint starts.
 */
public record SqlConfig(
    String listenAddress,
    int postgresPort,
    int httpPort,
    Duration queryTimeout,
    int maxQueryLength,
    long cacheSize,
    long residentSize,
    List<SqlUserConfig> users,
    List<WorkgroupConfig> workgroups) {
  /** The workgroup users belong to unless they name another one. */
  public static final String PRIMARY_WORKGROUP = "primary";

  public SqlConfig {
    requireNonNull(listenAddress, "listenAddress is null");
    requireNonNull(queryTimeout, "queryTimeout is null");
    users = List.copyOf(requireNonNull(users, "users is null"));
    workgroups = List.copyOf(requireNonNull(workgroups, "workgroups is null"));
  }

  /**
   * The configuration used when the file has no {@code sql} section: every key at its declared
   * default, no users and no workgroups.
   */
  public static SqlConfig defaults() {
    return FloeConfigSchema.sqlDefaults();
  }

  /**
   * The workgroup called {@code name}. The {@code primary} workgroup exists even when not declared,
   * without limit and without result reuse.
   *
   * @throws IllegalArgumentException if no such workgroup is declared
   */
  public WorkgroupConfig workgroup(String name) {
    requireNonNull(name, "name is null");
    for (WorkgroupConfig workgroup : workgroups) {
      if (workgroup.name().equals(name)) {
        return workgroup;
      }
    }
    if (name.equals(PRIMARY_WORKGROUP)) {
      return new WorkgroupConfig(PRIMARY_WORKGROUP, Long.MAX_VALUE, Duration.ZERO);
    }
    throw new IllegalArgumentException("unknown workgroup '" + name + "'");
  }
}
