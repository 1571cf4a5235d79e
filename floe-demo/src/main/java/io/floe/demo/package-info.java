/**
 * What {@code floe demo} ships: an embedded PostgreSQL configured for logical replication ({@link
 * io.floe.demo.EmbeddedPostgres}), started from Maven Central's binaries so that a machine with
 * only a JDK runs the demo, and the shop schema with its live workload ({@link
 * io.floe.demo.ShopDatabase}, {@link io.floe.demo.ShopWorkload}). Tests and benchmarks use the same
 * embedded PostgreSQL.
 */
package io.floe.demo;
