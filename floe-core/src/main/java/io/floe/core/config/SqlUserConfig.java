package io.floe.core.config;

import static java.util.Objects.requireNonNull;

/**
 * A user allowed to run SQL queries, and the workgroup whose limits apply to its queries. {@link
 * #toString()} hides the password so the record can be logged.
 */
public record SqlUserConfig(String name, String password, String workgroup) {
  public SqlUserConfig {
    requireNonNull(name, "name is null");
    requireNonNull(password, "password is null");
    requireNonNull(workgroup, "workgroup is null");
  }

  @Override
  public String toString() {
    return "SqlUserConfig[name=%s, password=***, workgroup=%s]".formatted(name, workgroup);
  }
}
