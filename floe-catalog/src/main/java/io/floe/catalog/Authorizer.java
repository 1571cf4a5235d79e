package io.floe.catalog;

import org.apache.iceberg.exceptions.ForbiddenException;

/**
 * Decides whether a principal may do an action on an object of the catalog. Every REST catalog
 * handler asks once, before it reads or changes anything.
 */
@FunctionalInterface
public interface Authorizer {
  /** Lets every authenticated principal do everything (until grants exist). */
  Authorizer AUTHENTICATED = (principal, action, object) -> {};

  /**
   * Returns when the action is allowed.
   *
   * @param object what the action is on: the catalog ({@code ""}), a namespace ({@code raw}) or a
   *     table or view ({@code raw.orders}); for a rename, the source
   * @throws ForbiddenException when it is not
   */
  void authorize(Principal principal, CatalogAction action, String object);
}
