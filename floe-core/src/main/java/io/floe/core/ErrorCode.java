package io.floe.core;

import static java.util.Objects.requireNonNull;

/**
 * Every error a user can see carries one of these codes. Codes are stable: scripts and operators
 * may match on them. Each has a type, which says who acts and whether running again may succeed,
 * and which the command line's exit code follows; docs/errors.md lists them, generated from here.
 */
public enum ErrorCode {
  CONFIG_INVALID(1, ErrorType.USER, "The configuration file or a command's arguments are invalid."),
  CONFIG_UNREADABLE(2, ErrorType.USER, "The configuration file cannot be read or parsed."),
  SOURCE_UNREACHABLE(
      100, ErrorType.EXTERNAL_RETRIABLE, "The source database cannot be reached or connected to."),
  SOURCE_NOT_READY(
      101,
      ErrorType.USER,
      "The source database is not set up for replication (a setting, privilege, slot or"
          + " publication); the message gives the statement that fixes it."),
  SOURCE_TABLE_INVALID(
      102,
      ErrorType.USER,
      "A configured source table cannot be replicated as it is (missing, unreadable, no primary"
          + " key, or a different shape than its Iceberg table)."),
  SOURCE_FAILED(
      103,
      ErrorType.EXTERNAL_RETRIABLE,
      "The source failed while Floe read from it (a lost connection, a failing query); the"
          + " pipeline resumes where it stopped when started again."),
  SOURCE_DATA_INVALID(
      104,
      ErrorType.EXTERNAL,
      "The source sent a change Floe cannot apply (a NULL key, an update without the row it"
          + " updates); the message says which table to reload."),
  TYPE_UNSUPPORTED(110, ErrorType.USER, "A source column has a type Floe cannot map yet."),
  VALUE_NOT_REPRESENTABLE(
      111, ErrorType.USER, "A source value does not fit the Iceberg type of its column."),
  TABLE_WRITE_FAILED(
      200,
      ErrorType.EXTERNAL_RETRIABLE,
      "Reading or writing a table's files in storage failed; check that storage is reachable."),
  TABLE_STATE_INVALID(
      201,
      ErrorType.INTERNAL,
      "A table or a writer is not in the state Floe's invariants require: a bug; report it with"
          + " the log."),
  TABLE_NOT_FOUND(202, ErrorType.USER, "No such table or namespace."),
  CATALOG_FAILED(
      203, ErrorType.EXTERNAL_RETRIABLE, "The catalog database failed or cannot be opened."),
  TABLE_VERSION_NOT_FOUND(
      204, ErrorType.USER, "No such snapshot, branch or tag, or none at the time asked for."),
  TABLE_COMMIT_CONFLICT(
      205,
      ErrorType.EXTERNAL_RETRIABLE,
      "Concurrent commits or operations on the table got in the way; nothing was committed, and"
          + " running it again may succeed."),
  TABLE_COMMIT_UNKNOWN(
      206,
      ErrorType.EXTERNAL,
      "The catalog did not say whether a commit succeeded; check the table's snapshots before"
          + " running it again."),
  TABLE_UNSUPPORTED(
      207,
      ErrorType.USER,
      "The table has something Floe does not handle (equality deletes, no identifier fields,"
          + " delete files in another format); the message says what to do."),
  OPERATION_INTERRUPTED(
      208,
      ErrorType.EXTERNAL_RETRIABLE,
      "The operation was interrupted, usually because Floe is stopping; nothing half-done was"
          + " committed."),
  PIPELINE_NOT_RUNNING(
      209,
      ErrorType.EXTERNAL_RETRIABLE,
      "The pipeline asked for is not running (starting, stopped or failed), or no such pipeline"
          + " runs in this process; start it and ask again."),
  QUALITY_BLOCKED(
      210,
      ErrorType.USER,
      "Rows failed a quality rule whose action is block: the pipeline commits nothing after its last"
          + " good commit, and checks again on each restart; fix the data at its source or change"
          + " the rule."),
  REFERENCE_NOT_READY(
      211,
      ErrorType.EXTERNAL_RETRIABLE,
      "A reference table of an enrichment or a referential quality rule does not exist yet (the"
          + " pipeline that writes it has not created it): the pipeline retries until it does."),
  SQL_INVALID(300, ErrorType.USER, "The query is invalid: syntax, names, types or values."),
  SQL_NOT_ALLOWED(
      301, ErrorType.USER, "The statement or what it reads is not allowed through this service."),
  SQL_FAILED(302, ErrorType.INTERNAL, "The query failed inside the SQL engine."),
  SQL_CANCELLED(303, ErrorType.USER, "The query was cancelled."),
  SQL_TIMEOUT(304, ErrorType.USER, "The query ran longer than its time limit."),
  SQL_LIMIT_EXCEEDED(
      305, ErrorType.USER, "The query exceeds a limit: its length, or its workgroup's scan limit."),
  AUTHENTICATION_FAILED(400, ErrorType.USER, "The user name or password is wrong."),
  ENDPOINT_UNAVAILABLE(
      401,
      ErrorType.USER,
      "A server endpoint cannot listen on its configured address or port (taken, or not an"
          + " address of this machine)."),
  STREAM_REQUEST_INVALID(
      410,
      ErrorType.USER,
      "A request to a stream's ingest endpoint is invalid: an unknown stream, a body that is not"
          + " JSON or NDJSON, too large a body, or a malformed batch id; nothing of it was accepted."),
  STREAM_BUSY(
      411,
      ErrorType.EXTERNAL_RETRIABLE,
      "A stream has as many records waiting for their commit as max-buffered-records allows;"
          + " nothing of the request was accepted: send it again after the Retry-After seconds."),
  STREAM_UNAVAILABLE(
      412,
      ErrorType.EXTERNAL_RETRIABLE,
      "The pipeline of a stream is not running (starting, stopping or stopped); send the request"
          + " again once it runs."),
  INTERNAL_ERROR(900, ErrorType.INTERNAL, "An unexpected failure in Floe: report it with the log.");

  private final int number;
  private final ErrorType type;
  private final String description;

  ErrorCode(int number, ErrorType type, String description) {
    this.number = number;
    this.type = requireNonNull(type, "type is null");
    this.description = requireNonNull(description, "description is null");
  }

  public int number() {
    return number;
  }

  public ErrorType type() {
    return type;
  }

  /** What the code means, for the reference documentation. */
  public String description() {
    return description;
  }

  /** Short printable form, e.g. {@code FLOE-001}. */
  public String label() {
    return String.format("FLOE-%03d", number);
  }
}
