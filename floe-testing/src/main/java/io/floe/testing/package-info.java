/**
 * Test fixtures, used by tests only (test scope): a randomized all-types workload for end-to-end
 * correctness tests ({@link io.floe.testing.TypesWorkload}) and the small Iceberg tables the tests
 * query ({@link io.floe.testing.CdcTables}, {@link io.floe.testing.SalesTable}). The embedded
 * PostgreSQL the tests replicate from is the demo's ({@link io.floe.demo.EmbeddedPostgres}); an S3
 * API server on loopback for warehouses in object storage ({@link io.floe.testing.S3Server}); a
 * single-node Apache Kafka broker in the test JVM ({@link io.floe.testing.KafkaBroker}).
 */
package io.floe.testing;
