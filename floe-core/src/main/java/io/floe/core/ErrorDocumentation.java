package io.floe.core;

/**
 * Writes the Markdown reference of the error codes ({@code docs/errors.md}) from {@link ErrorCode}
 * and {@link ErrorType}, so that the documentation lists every code a user can see.
 */
public final class ErrorDocumentation {
  private ErrorDocumentation() {}

  /** The reference, as {@code docs/errors.md} holds it. */
  public static String markdown() {
    StringBuilder markdown = new StringBuilder();
    markdown.append(
        """
        # Error codes

        <!-- Generated from io.floe.core.ErrorCode and ErrorType; do not edit. To update, run
             ./mvnw -pl floe-core test -Dtest=ErrorDocsTest -Dfloe.regenerateDocs=true -->

        Every error Floe reports carries a code, such as `FLOE-202`, and a message of the form \
        "Cannot *verb* *object*: *reason*" that says what to do next. Codes are stable: scripts \
        and alerts may match on them. Each code has a type, which says who acts and whether \
        running the same thing again may succeed; the exit code of a `floe` command that fails \
        follows the type, and so does the HTTP status of the query API (401 for \
        authentication, 400 for user errors, 502 for external ones, 500 for internal ones).

        | Type | Exit code | Who acts |
        | --- | --- | --- |
        """);
    for (ErrorType type : ErrorType.values()) {
      markdown
          .append("| ")
          .append(type.name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '))
          .append(" | ")
          .append(type.exitCode())
          .append(" | ")
          .append(type.description())
          .append(" |\n");
    }
    markdown.append(
        """

        A command stopped by Ctrl-C exits with 130; `floe sql` exits with 130 when its query is \
        cancelled that way.

        | Code | Type | Meaning |
        | --- | --- | --- |
        """);
    for (ErrorCode code : ErrorCode.values()) {
      markdown
          .append("| `")
          .append(code.label())
          .append("` ")
          .append(code.name())
          .append(" | ")
          .append(code.type().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' '))
          .append(" | ")
          .append(code.description())
          .append(" |\n");
    }
    return markdown.toString();
  }
}
