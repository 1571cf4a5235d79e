package io.floe.core.config;

import static java.util.Objects.requireNonNull;

/**
 * Records POSTed to {@code /v1/streams/{stream}/records} on the HTTP port.
 *
 * @param stream the stream's name in the URL
 * @param maxRecordBytes records larger than this go to the dead-letter table
 * @param maxRequestBytes request bodies larger than this are refused with 413
 * @param maxBufferedRecords records accepted but not yet committed above which requests are refused
 *     with 429 and {@code Retry-After}
 */
public record HttpSourceConfig(
    String stream, long maxRecordBytes, long maxRequestBytes, int maxBufferedRecords)
    implements SourceConfig {
  public HttpSourceConfig {
    requireNonNull(stream, "stream is null");
  }

  @Override
  public SourceType type() {
    return SourceType.HTTP;
  }
}
