package io.floe.testing;

import static java.util.Objects.requireNonNull;

import io.floe.demo.RandomText;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A randomized, reproducible workload over every PostgreSQL type Floe supports, for end-to-end
 * correctness tests: change data capture of these tables must reproduce them exactly.
 *
 * <p>Tables in schema {@code public} ({@link #createTables}):
 *
 * <ul>
 *   <li>{@code everything}: a {@code bigint} key and one column per type, including enum {@code
 *       mood}, arrays, json and {@code c_big}, a 3–20 KB incompressible text that PostgreSQL stores
 *       out of line (TOAST);
 *   <li>{@code pairs}: a composite key {@code (a int, b text)} and a payload.
 * </ul>
 *
 * Both keep the default REPLICA IDENTITY, so an update that leaves {@code c_big} alone is decoded
 * with an "unchanged TOASTed value" and a delete carries only the key.
 *
 * <p>Each transaction of {@link #runTransactions} holds 1 to 6 operations: inserts, updates of a
 * few small columns (leaving {@code c_big} unchanged), updates of {@code c_big}, deletes, key
 * changes, several updates of one row, an insert deleted again in the same transaction, and the
 * same on {@code pairs} (including changes of either key column). Every nullable column is NULL in
 * about 15% of written values; values cover the edges of each type. The workload keeps no model of
 * the data: the database is the source of truth. With the same seed on the same starting data it
 * makes the same changes.
 *
 * <p>Not thread-safe; use one instance per connection.
 */
public final class TypesWorkload {
  private static final Logger LOG = LoggerFactory.getLogger(TypesWorkload.class);
  private static final int LOAD_BATCH_SIZE = 200;
  private static final int NULL_PERCENT = 15;

  /** The columns an update may change while leaving the TOASTed {@code c_big} alone. */
  private static final List<TypedValues.Column> SMALL_COLUMNS =
      TypedValues.COLUMNS.stream()
          .filter(column -> !column.name().equals("c_big"))
          .collect(Collectors.toList());

  private static final TypedValues.Column C_BIG =
      TypedValues.COLUMNS.get(TypedValues.COLUMNS.size() - 1);

  private static final String ALL_COLUMNS =
      TypedValues.COLUMNS.stream().map(TypedValues.Column::name).collect(Collectors.joining(", "));
  private static final String ALL_PLACEHOLDERS =
      TypedValues.COLUMNS.stream()
          .map(TypedValues.Column::placeholder)
          .collect(Collectors.joining(", "));

  private static final String PICK_EVERYTHING =
      "SELECT id FROM public.everything WHERE id >= (SELECT min(id)"
          + " + floor(?::float8 * (max(id) - min(id) + 1))::bigint FROM public.everything)"
          + " ORDER BY id LIMIT 1";
  private static final String INSERT_EVERYTHING =
      "INSERT INTO public.everything (id, "
          + ALL_COLUMNS
          + ") VALUES ((SELECT coalesce(max(id), 0) + 1 FROM public.everything), "
          + ALL_PLACEHOLDERS
          + ") RETURNING id";
  private static final String LOAD_EVERYTHING =
      "INSERT INTO public.everything (id, "
          + ALL_COLUMNS
          + ") VALUES (?, "
          + ALL_PLACEHOLDERS
          + ")";
  private static final String DELETE_EVERYTHING = "DELETE FROM public.everything WHERE id = ?";
  private static final String MOVE_ID_UP =
      "UPDATE public.everything SET id = (SELECT max(id) + 1 + ? FROM public.everything)"
          + " WHERE id = ?";
  private static final String MOVE_ID_DOWN =
      "UPDATE public.everything SET id = (SELECT min(id) - 1 - ? FROM public.everything)"
          + " WHERE id = ?";
  private static final String MOVE_ID_UP_AND_UPDATE =
      "UPDATE public.everything SET id = (SELECT max(id) + 1 + ? FROM public.everything),"
          + " c_int = ? WHERE id = ?";

  private static final String PICK_PAIR =
      "SELECT a, b FROM public.pairs WHERE a >= (SELECT min(a)"
          + " + floor(?::float8 * (max(a) - min(a) + 1))::int FROM public.pairs)"
          + " ORDER BY a, b LIMIT 1";
  private static final String INSERT_PAIR =
      "INSERT INTO public.pairs (a, b, payload) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
          + " RETURNING a, b";
  private static final String UPDATE_PAIR_PAYLOAD =
      "UPDATE public.pairs SET payload = ? WHERE a = ? AND b = ?";
  private static final String UPDATE_PAIR_B =
      "UPDATE public.pairs SET b = ? WHERE a = ? AND b = ?"
          + " AND NOT EXISTS (SELECT 1 FROM public.pairs WHERE a = ? AND b = ?)";
  private static final String UPDATE_PAIR_A =
      "UPDATE public.pairs SET a = ? WHERE a = ? AND b = ?"
          + " AND NOT EXISTS (SELECT 1 FROM public.pairs WHERE a = ? AND b = ?)";
  private static final String DELETE_PAIR = "DELETE FROM public.pairs WHERE a = ? AND b = ?";

  private final Connection connection;
  private final Random random;
  private long totalStatements;

  /** A workload on {@code connection}, whose tables {@link #createTables} has created. */
  public TypesWorkload(Connection connection, long randomSeed) {
    this.connection = requireNonNull(connection, "connection is null");
    this.random = new Random(randomSeed);
  }

  /**
   * Creates enum type {@code mood} and tables {@code everything} and {@code pairs} unless they
   * exist. Commits if the connection is not in auto-commit mode.
   */
  public static void createTables(Connection connection) throws SQLException {
    requireNonNull(connection, "connection is null");
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          "DO $$ BEGIN CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');"
              + " EXCEPTION WHEN duplicate_object THEN NULL; END $$");
      statement.execute(
          "CREATE TABLE IF NOT EXISTS public.everything ("
              + "id bigint PRIMARY KEY, c_smallint smallint, c_int integer, c_bigint bigint,"
              + " c_numeric numeric(12,4), c_numeric_unbounded numeric, c_real real,"
              + " c_double double precision, c_bool boolean, c_text text,"
              + " c_varchar varchar(50), c_char char(5), c_bytea bytea, c_date date,"
              + " c_time time, c_timestamp timestamp, c_timestamptz timestamptz, c_uuid uuid,"
              + " c_json json, c_jsonb jsonb, c_mood public.mood, c_int_array int[],"
              + " c_text_array text[], c_big text)");
      statement.execute(
          "CREATE TABLE IF NOT EXISTS public.pairs ("
              + "a int, b text, payload text, PRIMARY KEY (a, b))");
    }
    if (!connection.getAutoCommit()) {
      connection.commit();
    }
  }

  /**
   * Inserts {@code rows} rows into {@code everything} and {@code rows / 2} into {@code pairs}, with
   * keys above the existing ones, in batches. Commits its work; the connection's auto-commit mode
   * is restored afterwards.
   */
  public static void initialLoad(Connection connection, int rows, long seed) throws SQLException {
    requireNonNull(connection, "connection is null");
    if (rows < 0) {
      throw new IllegalArgumentException("rows must not be negative: " + rows);
    }
    Random random = new Random(seed);
    long startNanos = System.nanoTime();
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try {
      long firstId = maxPlusOne(connection, "SELECT coalesce(max(id), 0) FROM public.everything");
      try (PreparedStatement insert = connection.prepareStatement(LOAD_EVERYTHING)) {
        for (int row = 0; row < rows; row++) {
          insert.setLong(1, firstId + row);
          bindAll(insert, 2, random, connection);
          insert.addBatch();
          if ((row + 1) % LOAD_BATCH_SIZE == 0) {
            insert.executeBatch();
            connection.commit();
          }
        }
        insert.executeBatch();
      }
      int pairs = rows / 2;
      long firstA = maxPlusOne(connection, "SELECT coalesce(max(a), 0) FROM public.pairs");
      try (PreparedStatement insert =
          connection.prepareStatement(
              "INSERT INTO public.pairs (a, b, payload) VALUES (?, ?, ?)")) {
        for (int row = 0; row < pairs; row++) {
          insert.setInt(1, Math.toIntExact(firstA + row / 3));
          // Three distinct kinds of b per a: empty, ASCII, and with a non-ASCII character.
          int kind = row % 3;
          insert.setString(
              2,
              kind == 0
                  ? ""
                  : kind == 1
                      ? RandomText.token(random, 1 + random.nextInt(12))
                      : "ü" + RandomText.codePoints(random, 8));
          insert.setString(3, payload(random));
          insert.addBatch();
          if ((row + 1) % LOAD_BATCH_SIZE == 0) {
            insert.executeBatch();
          }
        }
        insert.executeBatch();
      }
      connection.commit();
      LOG.info(
          "Loaded {} rows into everything and {} into pairs in {} ms",
          rows,
          pairs,
          (System.nanoTime() - startNanos) / 1_000_000);
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  private static long maxPlusOne(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(sql)) {
      result.next();
      return result.getLong(1) + 1;
    }
  }

  /** Data-changing statements executed by committed transactions so far. */
  public long totalStatements() {
    return totalStatements;
  }

  /**
   * Runs {@code count} transactions, each committed on its own. A failing statement rolls back its
   * transaction and is thrown. The connection's auto-commit mode is restored afterwards.
   */
  public void runTransactions(int count) throws SQLException {
    if (count < 0) {
      throw new IllegalArgumentException("count must not be negative: " + count);
    }
    long startNanos = System.nanoTime();
    long statementsBefore = totalStatements;
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try (Transaction transaction = new Transaction()) {
      for (int i = 0; i < count; i++) {
        int operations = 1 + random.nextInt(6);
        for (int operation = 0; operation < operations; operation++) {
          transaction.runRandomOperation();
        }
        connection.commit();
        totalStatements += transaction.statements;
        transaction.statements = 0;
      }
      LOG.info(
          "Ran {} transactions with {} statements on everything and pairs in {} ms",
          count,
          totalStatements - statementsBefore,
          (System.nanoTime() - startNanos) / 1_000_000);
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /** Statements prepared for one {@link #runTransactions} call, and the statement count. */
  private final class Transaction implements AutoCloseable {
    private final Map<String, PreparedStatement> prepared = new HashMap<>();
    long statements;

    private PreparedStatement prepare(String sql) throws SQLException {
      PreparedStatement statement = prepared.get(sql);
      if (statement == null) {
        statement = connection.prepareStatement(sql);
        prepared.put(sql, statement);
      }
      return statement;
    }

    void runRandomOperation() throws SQLException {
      int choice = random.nextInt(100);
      if (choice < 18) {
        insertRow();
      } else if (choice < 32) {
        Long id = pickRow();
        if (id != null) {
          updateSmallColumns(id);
        }
      } else if (choice < 40) {
        Long id = pickRow();
        if (id != null) {
          updateBig(id);
        }
      } else if (choice < 48) {
        Long id = pickRow();
        if (id != null) {
          deleteRow(id);
        }
      } else if (choice < 54) {
        Long id = pickRow();
        if (id != null) {
          changeId(id);
        }
      } else if (choice < 60) {
        Long id = pickRow();
        if (id != null) {
          int updates = 2 + random.nextInt(3);
          for (int i = 0; i < updates; i++) {
            if (random.nextInt(3) == 0) {
              updateBig(id);
            } else {
              updateSmallColumns(id);
            }
          }
        }
      } else if (choice < 65) {
        long id = insertRow();
        if (random.nextBoolean()) {
          updateSmallColumns(id);
        }
        deleteRow(id);
      } else if (choice < 75) {
        insertPair();
      } else if (choice < 83) {
        Pair pair = pickPair();
        if (pair != null) {
          PreparedStatement update = prepare(UPDATE_PAIR_PAYLOAD);
          update.setString(1, payload(random));
          update.setInt(2, pair.a());
          update.setString(3, pair.b());
          execute(update);
        }
      } else if (choice < 88) {
        Pair pair = pickPair();
        if (pair != null) {
          String newB = pairB(random);
          PreparedStatement update = prepare(UPDATE_PAIR_B);
          update.setString(1, newB);
          update.setInt(2, pair.a());
          update.setString(3, pair.b());
          update.setInt(4, pair.a());
          update.setString(5, newB);
          execute(update);
        }
      } else if (choice < 92) {
        Pair pair = pickPair();
        if (pair != null) {
          int newA = pair.a() + (random.nextBoolean() ? 1 : -1) * (1 + random.nextInt(50));
          PreparedStatement update = prepare(UPDATE_PAIR_A);
          update.setInt(1, newA);
          update.setInt(2, pair.a());
          update.setString(3, pair.b());
          update.setInt(4, newA);
          update.setString(5, pair.b());
          execute(update);
        }
      } else if (choice < 97) {
        Pair pair = pickPair();
        if (pair != null) {
          deletePair(pair);
        }
      } else {
        Pair pair = insertPair();
        if (pair != null) {
          deletePair(pair);
        }
      }
    }

    private long insertRow() throws SQLException {
      PreparedStatement insert = prepare(INSERT_EVERYTHING);
      bindAll(insert, 1, random, connection);
      statements++;
      try (ResultSet result = insert.executeQuery()) {
        result.next();
        return result.getLong(1);
      }
    }

    private Long pickRow() throws SQLException {
      PreparedStatement pick = prepare(PICK_EVERYTHING);
      pick.setDouble(1, random.nextDouble());
      try (ResultSet result = pick.executeQuery()) {
        return result.next() ? result.getLong(1) : null;
      }
    }

    /** Updates 1 to 8 columns other than c_big; often just one, so c_big stays unchanged. */
    private void updateSmallColumns(long id) throws SQLException {
      int count = random.nextInt(10) < 4 ? 1 : 2 + random.nextInt(7);
      List<TypedValues.Column> columns = new ArrayList<>(SMALL_COLUMNS);
      Collections.shuffle(columns, random);
      columns = columns.subList(0, count);
      columns.sort((left, right) -> left.name().compareTo(right.name()));
      String sql =
          "UPDATE public.everything SET "
              + columns.stream()
                  .map(column -> column.name() + " = " + column.placeholder())
                  .collect(Collectors.joining(", "))
              + " WHERE id = ?";
      PreparedStatement update = prepare(sql);
      int index = 1;
      for (TypedValues.Column column : columns) {
        bind(column, update, index++, random, connection);
      }
      update.setLong(index, id);
      execute(update);
    }

    private void updateBig(long id) throws SQLException {
      PreparedStatement update = prepare("UPDATE public.everything SET c_big = ? WHERE id = ?");
      bind(C_BIG, update, 1, random, connection);
      update.setLong(2, id);
      execute(update);
    }

    private void deleteRow(long id) throws SQLException {
      PreparedStatement delete = prepare(DELETE_EVERYTHING);
      delete.setLong(1, id);
      execute(delete);
    }

    /** Moves the row to an unused id above or below all others. */
    private void changeId(long id) throws SQLException {
      int kind = random.nextInt(3);
      PreparedStatement update =
          prepare(kind == 0 ? MOVE_ID_UP : kind == 1 ? MOVE_ID_DOWN : MOVE_ID_UP_AND_UPDATE);
      update.setInt(1, random.nextInt(1000));
      if (kind == 2) {
        update.setInt(2, random.nextInt());
        update.setLong(3, id);
      } else {
        update.setLong(2, id);
      }
      execute(update);
    }

    private Pair insertPair() throws SQLException {
      PreparedStatement insert = prepare(INSERT_PAIR);
      insert.setInt(1, random.nextInt(10_000) - 100);
      insert.setString(2, pairB(random));
      insert.setString(3, payload(random));
      statements++;
      try (ResultSet result = insert.executeQuery()) {
        return result.next() ? new Pair(result.getInt(1), result.getString(2)) : null;
      }
    }

    private Pair pickPair() throws SQLException {
      PreparedStatement pick = prepare(PICK_PAIR);
      pick.setDouble(1, random.nextDouble());
      try (ResultSet result = pick.executeQuery()) {
        return result.next() ? new Pair(result.getInt(1), result.getString(2)) : null;
      }
    }

    private void deletePair(Pair pair) throws SQLException {
      PreparedStatement delete = prepare(DELETE_PAIR);
      delete.setInt(1, pair.a());
      delete.setString(2, pair.b());
      execute(delete);
    }

    private void execute(PreparedStatement statement) throws SQLException {
      statement.executeUpdate();
      statements++;
    }

    @Override
    public void close() throws SQLException {
      SQLException failure = null;
      for (PreparedStatement statement : prepared.values()) {
        try {
          statement.close();
        } catch (SQLException e) {
          failure = e;
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  private record Pair(int a, String b) {
    Pair {
      requireNonNull(b, "b is null");
    }
  }

  private static void bindAll(
      PreparedStatement statement, int firstIndex, Random random, Connection connection)
      throws SQLException {
    int index = firstIndex;
    for (TypedValues.Column column : TypedValues.COLUMNS) {
      bind(column, statement, index++, random, connection);
    }
  }

  private static void bind(
      TypedValues.Column column,
      PreparedStatement statement,
      int index,
      Random random,
      Connection connection)
      throws SQLException {
    if (random.nextInt(100) < NULL_PERCENT) {
      statement.setNull(index, Types.OTHER);
    } else {
      column.binder().bind(statement, index, random, connection);
    }
  }

  /** A pairs payload: NULL, short, or a few KB stored out of line. */
  private static String payload(Random random) {
    int kind = random.nextInt(100);
    if (kind < NULL_PERCENT) {
      return null;
    }
    if (kind < 25) {
      return RandomText.incompressible(random, 2_500 + random.nextInt(4_000));
    }
    return RandomText.anyText(random);
  }

  /** A value for key column b: empty, an awkward string or a random token. */
  private static String pairB(Random random) {
    int kind = random.nextInt(10);
    if (kind == 0) {
      return "";
    }
    if (kind == 1) {
      return RandomText.awkward(random);
    }
    return RandomText.token(random, 1 + random.nextInt(12));
  }
}
