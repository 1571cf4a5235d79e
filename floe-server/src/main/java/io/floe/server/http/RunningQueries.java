package io.floe.server.http;

import static java.util.Objects.requireNonNull;

import io.floe.sql.QueryExecution;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** The queries running through the API, with the user who started each. */
final class RunningQueries {
  private record Entry(String user, QueryExecution execution) {}

  private final ConcurrentMap<String, Entry> byId = new ConcurrentHashMap<>();

  /** Registers a query until the returned registration is closed. */
  Registration register(String user, QueryExecution execution) {
    requireNonNull(user, "user is null");
    String id = execution.id();
    byId.put(id, new Entry(user, execution));
    return () -> byId.remove(id);
  }

  /** The user's running queries, oldest first. */
  List<QueryExecution> of(String user) {
    return byId.values().stream()
        .filter(entry -> entry.user().equals(user))
        .map(Entry::execution)
        .sorted(Comparator.comparingLong(QueryExecution::elapsedMillis).reversed())
        .toList();
  }

  /** The user's running query with this id; empty for an unknown id or another user's query. */
  Optional<QueryExecution> find(String user, String queryId) {
    Entry entry = byId.get(queryId);
    return entry == null || !entry.user().equals(user)
        ? Optional.empty()
        : Optional.of(entry.execution());
  }

  /** Cancels every running query, when the server stops. */
  int cancelAll() {
    List<Entry> entries = List.copyOf(byId.values());
    entries.forEach(entry -> entry.execution().cancel());
    return entries.size();
  }

  /** Removes a query from the running ones. */
  interface Registration extends AutoCloseable {
    @Override
    void close();
  }
}
