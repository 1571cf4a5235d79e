/**
 * Test fixtures and the demo's source database: an embedded PostgreSQL configured for logical
 * replication ({@link io.floe.testing.EmbeddedPostgres}), the demo's shop schema and live workload
 * ({@link io.floe.testing.ShopDatabase}, {@link io.floe.testing.ShopWorkload}), and a randomized
 * all-types workload for end-to-end correctness tests ({@link io.floe.testing.TypesWorkload}), and
 * the small Iceberg tables the tests query ({@link io.floe.testing.CdcTables}, {@link
 * io.floe.testing.SalesTable}).
 */
package io.floe.testing;
