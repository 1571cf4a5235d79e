package io.floe.core.config;

import static java.util.Objects.requireNonNull;

/**
 * A principal declared in the configuration: a user or service that authenticates to the REST
 * catalog (OAuth2 client credentials: its name is the client id) and to the SQL endpoints (user
 * name and password), with the same secret. {@link #toString()} hides the secret.
 *
 * @param secret the secret, usually written {@code ${VARIABLE}} in the file
 * @param workgroup the SQL workgroup whose limits apply to the principal's queries
 */
public record PrincipalConfig(String name, String secret, String workgroup) {
  public PrincipalConfig {
    requireNonNull(name, "name is null");
    requireNonNull(secret, "secret is null");
    requireNonNull(workgroup, "workgroup is null");
  }

  @Override
  public String toString() {
    return "PrincipalConfig[name=%s, secret=***, workgroup=%s]".formatted(name, workgroup);
  }
}
