package io.floe.sql.pgwire;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A session's settings as {@code SHOW} reports them, and whether it is inside a transaction block.
 *
 * <p>The settings that shape how values are written (encoding, DateStyle, TimeZone, ...) are fixed:
 * {@code SET} accepts them and changes nothing, so that drivers setting them on connect keep
 * working. {@code application_name} and settings Floe does not know are recorded as given.
 */
final class SessionState {
  static final String SERVER_VERSION = "16.0 (Floe)";
  static final String APPLICATION_NAME = "application_name";

  /** Parameters sent as ParameterStatus after authentication, in this order. */
  private static final List<String> REPORTED =
      List.of(
          "server_version",
          "server_encoding",
          "client_encoding",
          "DateStyle",
          "TimeZone",
          "integer_datetimes",
          "standard_conforming_strings",
          APPLICATION_NAME,
          "IntervalStyle",
          "is_superuser",
          "session_authorization");

  private final Map<String, String> initial = new LinkedHashMap<>();
  private final Set<String> fixed;

  /** Current values by lower-case name; names keep their usual spelling in {@link #names}. */
  private final Map<String, String> values = new LinkedHashMap<>();

  private final Map<String, String> names = new LinkedHashMap<>();
  private boolean inTransactionBlock;

  SessionState(String user, String applicationName) {
    initial.put("server_version", SERVER_VERSION);
    initial.put("server_encoding", "UTF8");
    initial.put("client_encoding", "UTF8");
    initial.put("DateStyle", "ISO, MDY");
    initial.put("TimeZone", "UTC");
    initial.put("integer_datetimes", "on");
    initial.put("standard_conforming_strings", "on");
    initial.put(APPLICATION_NAME, applicationName);
    initial.put("IntervalStyle", "postgres");
    initial.put("is_superuser", "off");
    initial.put("session_authorization", user);
    initial.put("transaction_isolation", "read committed");
    fixed =
        Set.copyOf(
            initial.keySet().stream()
                .filter(name -> !name.equals(APPLICATION_NAME))
                .map(SessionState::key)
                .toList());
    resetAll();
  }

  private static String key(String name) {
    return name.toLowerCase(Locale.ROOT);
  }

  /** The parameters to report after authentication, with their values. */
  Map<String, String> reported() {
    Map<String, String> reported = new LinkedHashMap<>();
    for (String name : REPORTED) {
      reported.put(name, values.get(key(name)));
    }
    return reported;
  }

  /** The name as PostgreSQL spells it (DateStyle), or as given for unknown settings. */
  String spelling(String name) {
    return names.getOrDefault(key(name), name);
  }

  String show(String name) {
    String value = values.get(key(name));
    if (value == null) {
      throw PgErrors.invalid(
          PgErrors.UNDEFINED_OBJECT,
          "Cannot show " + name + ": unrecognized configuration parameter \"" + name + "\"");
    }
    return value;
  }

  /** All settings as name and value pairs, for {@code SHOW ALL}. */
  List<String[]> all() {
    List<String[]> rows = new ArrayList<>();
    values.forEach((key, value) -> rows.add(new String[] {names.get(key), value}));
    return rows;
  }

  /** Sets a parameter; returns true when a reported parameter changed (send ParameterStatus). */
  boolean set(String name, String value) {
    String key = key(name);
    if (fixed.contains(key)) {
      return false;
    }
    names.putIfAbsent(key, name);
    String previous = values.put(key, value);
    return key.equals(APPLICATION_NAME) && !value.equals(previous);
  }

  /** Resets a parameter to its value at connection; returns true as {@link #set} does. */
  boolean reset(String name) {
    String key = key(name);
    for (Map.Entry<String, String> entry : initial.entrySet()) {
      if (key(entry.getKey()).equals(key)) {
        return set(entry.getKey(), entry.getValue());
      }
    }
    values.remove(key);
    names.remove(key);
    return false;
  }

  /** Resets every parameter; returns true when application_name changed. */
  boolean resetAll() {
    String applicationName = values.get(APPLICATION_NAME);
    values.clear();
    names.clear();
    initial.forEach(
        (name, value) -> {
          values.put(key(name), value);
          names.put(key(name), name);
        });
    return applicationName != null && !applicationName.equals(values.get(APPLICATION_NAME));
  }

  boolean inTransactionBlock() {
    return inTransactionBlock;
  }

  void inTransactionBlock(boolean inside) {
    this.inTransactionBlock = inside;
  }

  /** The ReadyForQuery status: 'T' in a transaction block, else 'I'. */
  char transactionStatus() {
    return inTransactionBlock ? 'T' : 'I';
  }
}
