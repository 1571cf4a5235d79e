package io.floe.catalog;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Locale;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * The rules for names of namespaces, tables and views created through the REST catalog. Names
 * become directories of the warehouse and are read by people, so a name must be safe as a path
 * element and must not pass for another: no {@code .} or {@code ..}, no {@code /} or {@code \}, no
 * control, format (zero-width, bidirectional) or unassigned characters, no surrounding spaces,
 * Unicode in composed form (NFC), letters from one script only (so {@code оrders} with a Cyrillic
 * {@code о} cannot pass for {@code orders}), and at most {@value #MAX_BYTES} bytes in UTF-8.
 */
final class Names {
  static final int MAX_BYTES = 255;
  static final int MAX_LEVELS = 16;

  private Names() {}

  static void checkNamespace(Namespace namespace) {
    if (namespace.isEmpty()) {
      throw new IllegalArgumentException("Invalid namespace: it is empty; name at least one level");
    }
    if (namespace.length() > MAX_LEVELS) {
      throw new IllegalArgumentException(
          "Invalid namespace: it has "
              + namespace.length()
              + " levels; at most "
              + MAX_LEVELS
              + " are allowed");
    }
    for (String level : namespace.levels()) {
      check("namespace", level);
      if (level.indexOf('.') >= 0) {
        throw new IllegalArgumentException(
            "Invalid namespace level '"
                + level
                + "': it contains '.', which the catalog database uses between levels; make it"
                + " two levels or use '_'");
      }
    }
  }

  static void checkIdentifier(String kind, TableIdentifier identifier) {
    checkNamespace(identifier.namespace());
    check(kind, identifier.name());
  }

  static void check(String kind, String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("Invalid " + kind + " name: it is empty");
    }
    String shown = shown(name);
    if (name.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      throw new IllegalArgumentException(
          "Invalid "
              + kind
              + " name "
              + shown
              + ": it is longer than "
              + MAX_BYTES
              + " bytes in UTF-8; choose a shorter name");
    }
    if (name.equals(".") || name.equals("..")) {
      throw new IllegalArgumentException(
          "Invalid " + kind + " name " + shown + ": . and .. are not names");
    }
    if (!name.strip().equals(name)) {
      throw new IllegalArgumentException(
          "Invalid " + kind + " name " + shown + ": it starts or ends with white space");
    }
    if (!Normalizer.isNormalized(name, Normalizer.Form.NFC)) {
      throw new IllegalArgumentException(
          "Invalid "
              + kind
              + " name "
              + shown
              + ": it is not in Unicode composed form (NFC); write it composed");
    }
    Character.UnicodeScript script = null;
    for (int offset = 0; offset < name.length(); ) {
      int character = name.codePointAt(offset);
      offset += Character.charCount(character);
      if (character == '/' || character == '\\') {
        throw new IllegalArgumentException(
            "Invalid " + kind + " name " + shown + ": it contains '/' or '\\'");
      }
      int type = Character.getType(character);
      if (type == Character.CONTROL
          || type == Character.FORMAT
          || type == Character.UNASSIGNED
          || type == Character.PRIVATE_USE
          || type == Character.SURROGATE
          || type == Character.LINE_SEPARATOR
          || type == Character.PARAGRAPH_SEPARATOR) {
        throw new IllegalArgumentException(
            "Invalid "
                + kind
                + " name "
                + shown
                + ": it contains the invisible or control character U+"
                + String.format(Locale.ROOT, "%04X", character));
      }
      if (Character.isLetter(character)) {
        Character.UnicodeScript letterScript = Character.UnicodeScript.of(character);
        if (letterScript != Character.UnicodeScript.COMMON
            && letterScript != Character.UnicodeScript.INHERITED) {
          if (script == null) {
            script = letterScript;
          } else if (script != letterScript) {
            throw new IllegalArgumentException(
                "Invalid "
                    + kind
                    + " name "
                    + shown
                    + ": it mixes letters of the "
                    + script
                    + " and "
                    + letterScript
                    + " scripts, which can make it look like another name; use one script");
          }
        }
      }
    }
  }

  /** The name quoted, with characters that do not print escaped, for messages. */
  private static String shown(String name) {
    StringBuilder shown = new StringBuilder("'");
    int limit = Math.min(name.length(), 64);
    for (int offset = 0; offset < limit; ) {
      int character = name.codePointAt(offset);
      offset += Character.charCount(character);
      if (Character.isISOControl(character)
          || Character.getType(character) == Character.FORMAT
          || !Character.isDefined(character)) {
        shown.append(String.format(Locale.ROOT, "\\u%04X", character));
      } else {
        shown.appendCodePoint(character);
      }
    }
    if (limit < name.length()) {
      shown.append("...");
    }
    return shown.append('\'').toString();
  }
}
