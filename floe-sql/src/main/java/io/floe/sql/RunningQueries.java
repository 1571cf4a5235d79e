package io.floe.sql;

import static java.util.Objects.requireNonNull;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.Predicate;

/**
 * The queries running in one engine, each with the user and the session that started it ({@link
 * QueryOptions#user()}, {@link QueryOptions#session()}). The engine records each execution when it
 * starts and forgets it when it is closed, so this is the one place that knows what runs: the HTTP
 * API lists, finds and cancels a user's queries here and cancels its own when it stops, and a
 * PostgreSQL session finds the queries it has open to cancel them.
 */
public final class RunningQueries {
  private record Entry(QueryExecution execution, String user, String session) {}

  private static final Comparator<QueryExecution> OLDEST_FIRST =
      Comparator.comparingLong(QueryExecution::elapsedMillis).reversed();

  private final ConcurrentMap<String, Entry> byId = new ConcurrentHashMap<>();

  /** Records a query that started; the engine calls this before the query is handed out. */
  void add(QueryExecution execution, QueryOptions options) {
    requireNonNull(execution, "execution is null");
    requireNonNull(options, "options is null");
    byId.put(execution.id(), new Entry(execution, options.user(), options.session()));
  }

  /** Forgets a query that was closed. */
  void remove(QueryExecution execution) {
    byId.remove(execution.id());
  }

  /** Every running query, oldest first. */
  public List<QueryExecution> all() {
    return select(entry -> true);
  }

  /** The running queries of a session, oldest first. */
  public List<QueryExecution> ofSession(String session) {
    requireNonNull(session, "session is null");
    return select(entry -> entry.session().equals(session));
  }

  /** The user's running queries of a session, oldest first. */
  public List<QueryExecution> of(String session, String user) {
    requireNonNull(session, "session is null");
    requireNonNull(user, "user is null");
    return select(entry -> entry.session().equals(session) && entry.user().equals(user));
  }

  /**
   * The user's running query of a session with this id; empty for an unknown id and for a query of
   * another user or another session, so that no one learns of or cancels another's query.
   */
  public Optional<QueryExecution> find(String session, String user, String queryId) {
    requireNonNull(session, "session is null");
    requireNonNull(user, "user is null");
    requireNonNull(queryId, "queryId is null");
    Entry entry = byId.get(queryId);
    return entry == null || !entry.session().equals(session) || !entry.user().equals(user)
        ? Optional.empty()
        : Optional.of(entry.execution());
  }

  /** Cancels the running query with this id, whoever runs it; false when none does. */
  boolean cancel(String queryId) {
    Entry entry = byId.get(queryId);
    if (entry == null) {
      return false;
    }
    entry.execution().cancel();
    return true;
  }

  /** Cancels every running query of a session, when it ends; returns how many there were. */
  public int cancelAll(String session) {
    List<QueryExecution> cancelled = ofSession(session);
    cancelled.forEach(QueryExecution::cancel);
    return cancelled.size();
  }

  private List<QueryExecution> select(Predicate<Entry> selected) {
    return byId.values().stream()
        .filter(selected)
        .map(Entry::execution)
        .sorted(OLDEST_FIRST)
        .toList();
  }
}
