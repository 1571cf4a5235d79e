/**
 * The Kafka source: {@link io.floe.ingest.kafka.KafkaSource} consumes the configured topics into a
 * stream pipeline's table; {@link io.floe.ingest.kafka.KafkaPosition} is where it stands.
 */
package io.floe.ingest.kafka;
