package io.floe.catalog;

import static java.util.Objects.requireNonNull;

/**
 * Who makes a request: a principal declared in the configuration, or {@link #ANONYMOUS} when the
 * catalog serves requests without a token.
 */
public record Principal(String name) {
  /** The principal of requests without a token, when anonymous access is configured. */
  public static final Principal ANONYMOUS = new Principal("anonymous");

  public Principal {
    requireNonNull(name, "name is null");
  }
}
