package io.floe.demo;

import static java.util.Objects.requireNonNull;

import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.text.Normalizer;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's shop schema in schema {@code public}: {@code countries}, {@code customers}, {@code
 * products} and {@code orders}, with a seed of reproducible sample data. {@link ShopWorkload}
 * changes it live.
 */
public final class ShopDatabase {
  private static final Logger LOG = LoggerFactory.getLogger(ShopDatabase.class);
  private static final int BATCH_SIZE = 1000;

  static final String[][] COUNTRIES = {
    {"AR", "Argentina", "South America"},
    {"AU", "Australia", "Oceania"},
    {"BR", "Brazil", "South America"},
    {"CA", "Canada", "North America"},
    {"CH", "Switzerland", "Europe"},
    {"CN", "China", "Asia"},
    {"DE", "Germany", "Europe"},
    {"EG", "Egypt", "Africa"},
    {"ES", "Spain", "Europe"},
    {"FR", "France", "Europe"},
    {"GB", "United Kingdom", "Europe"},
    {"IN", "India", "Asia"},
    {"IT", "Italy", "Europe"},
    {"JP", "Japan", "Asia"},
    {"KE", "Kenya", "Africa"},
    {"MX", "Mexico", "North America"},
    {"NG", "Nigeria", "Africa"},
    {"NZ", "New Zealand", "Oceania"},
    {"PL", "Poland", "Europe"},
    {"SE", "Sweden", "Europe"},
    {"US", "United States", "North America"},
    {"XK", "Kosovo", null},
  };

  static final String[] FIRST_NAMES = {
    "Ada", "Björn", "Chloé", "Dmitri", "Emeka", "Fatima", "Grace", "Hiroshi", "Inés", "José",
    "Kwame", "Lena", "Mei", "Nikolai", "Olivia", "Priya", "Quentin", "Rosa", "Søren", "Tomás",
    "Uma", "Viktor", "Wanjiru", "Xavier", "Yuki", "Zoë"
  };

  static final String[] LAST_NAMES = {
    "Andersson", "Bianchi", "Chen", "Dubois", "Eriksen", "García", "Hoffmann", "Ito", "Jovanović",
    "Kowalski", "Lopez", "Müller", "Nakamura", "O'Brien", "Patel", "Quispe", "Rossi", "Schmidt",
    "Tanaka", "Usman", "Virtanen", "Wójcik", "Xu", "Yilmaz", "Zhang"
  };

  static final String[] ORDER_STATUSES = {"new", "paid", "shipped", "delivered", "cancelled"};

  private static final String[] ADJECTIVES = {
    "Classic",
    "Compact",
    "Deluxe",
    "Eco",
    "Foldable",
    "Heavy-duty",
    "Lightweight",
    "Smart",
    "Vintage",
    "Wireless"
  };
  private static final String[] NOUNS = {
    "Backpack",
    "Blender",
    "Desk Lamp",
    "Headphones",
    "Kettle",
    "Notebook",
    "Running Shoes",
    "Teapot",
    "Umbrella",
    "Water Bottle"
  };
  private static final String[] TAGS = {
    "new", "sale", "eco", "bestseller", "gift", "limited", "outdoor", "kitchen"
  };
  private static final String[] COLORS = {"black", "white", "red", "blue", "green", "steel"};

  private ShopDatabase() {}

  /**
   * Creates the shop tables unless they exist. Commits if the connection is not in auto-commit
   * mode.
   */
  public static void create(Connection connection) throws SQLException {
    requireNonNull(connection, "connection is null");
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE IF NOT EXISTS public.countries ("
              + "code char(2) PRIMARY KEY, name text NOT NULL, continent text)");
      statement.execute(
          "CREATE TABLE IF NOT EXISTS public.customers ("
              + "id bigserial PRIMARY KEY, name text NOT NULL, email text,"
              + " country_code char(2) REFERENCES public.countries,"
              + " created_at timestamptz NOT NULL DEFAULT now(),"
              + " vip boolean NOT NULL DEFAULT false, notes text)");
      statement.execute(
          "CREATE TABLE IF NOT EXISTS public.products ("
              + "id serial PRIMARY KEY, sku uuid NOT NULL, name text NOT NULL,"
              + " price numeric(10,2) NOT NULL, tags text[], attributes jsonb)");
      statement.execute(
          "CREATE TABLE IF NOT EXISTS public.orders ("
              + "id bigserial PRIMARY KEY,"
              + " customer_id bigint NOT NULL REFERENCES public.customers,"
              + " product_id int NOT NULL REFERENCES public.products,"
              + " quantity smallint NOT NULL, total numeric(12,2) NOT NULL, status text NOT NULL,"
              + " ordered_at timestamp NOT NULL, ship_date date)");
    }
    commitIfNeeded(connection);
  }

  /**
   * Fills each empty shop table: about 20 countries, {@code customers} customers, {@code products}
   * products and two orders per customer. Tables that already hold rows are left alone, so this is
   * safe to call on every demo start. Commits its work; the connection's auto-commit mode is
   * restored afterwards.
   */
  public static void seed(Connection connection, int customers, int products, long randomSeed)
      throws SQLException {
    requireNonNull(connection, "connection is null");
    if (customers < 1 || products < 1) {
      throw new IllegalArgumentException(
          "customers and products must be positive: " + customers + ", " + products);
    }
    Random random = new Random(randomSeed);
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    try {
      int countryRows = isEmpty(connection, "countries") ? insertCountries(connection) : 0;
      int customerRows =
          isEmpty(connection, "customers") ? insertCustomers(connection, customers, random) : 0;
      int productRows =
          isEmpty(connection, "products") ? insertProducts(connection, products, random) : 0;
      int orderRows =
          isEmpty(connection, "orders") ? insertOrders(connection, 2 * customers, random) : 0;
      connection.commit();
      LOG.info(
          "Seeded shop database: {} countries, {} customers, {} products, {} orders inserted",
          countryRows,
          customerRows,
          productRows,
          orderRows);
    } catch (SQLException | RuntimeException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  private static boolean isEmpty(Connection connection, String table) throws SQLException {
    try (Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM public." + table + ")")) {
      result.next();
      return result.getBoolean(1);
    }
  }

  private static int insertCountries(Connection connection) throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO public.countries (code, name, continent) VALUES (?, ?, ?)")) {
      for (String[] country : COUNTRIES) {
        insert.setString(1, country[0]);
        insert.setString(2, country[1]);
        insert.setString(3, country[2]);
        insert.addBatch();
      }
      insert.executeBatch();
    }
    return COUNTRIES.length;
  }

  private static int insertCustomers(Connection connection, int count, Random random)
      throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO public.customers (name, email, country_code, created_at, vip, notes)"
                + " VALUES (?, ?, ?, now() - ?::int * interval '1 minute', ?, ?)")) {
      for (int i = 0; i < count; i++) {
        String first = pick(random, FIRST_NAMES);
        String last = pick(random, LAST_NAMES);
        insert.setString(1, first + " " + last);
        insert.setString(2, random.nextInt(10) == 0 ? null : email(first, last, random));
        insert.setString(
            3, random.nextInt(20) == 0 ? null : COUNTRIES[random.nextInt(COUNTRIES.length)][0]);
        insert.setInt(4, random.nextInt(60 * 24 * 365 * 3));
        insert.setBoolean(5, random.nextInt(10) == 0);
        insert.setString(6, random.nextInt(4) == 0 ? "prefers email contact" : null);
        insert.addBatch();
        if ((i + 1) % BATCH_SIZE == 0) {
          insert.executeBatch();
        }
      }
      insert.executeBatch();
    }
    return count;
  }

  private static int insertProducts(Connection connection, int count, Random random)
      throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO public.products (sku, name, price, tags, attributes)"
                + " VALUES (?, ?, ?, ?, ?::jsonb)")) {
      for (int i = 0; i < count; i++) {
        insert.setObject(1, new UUID(random.nextLong(), random.nextLong()));
        insert.setString(2, pick(random, ADJECTIVES) + " " + pick(random, NOUNS));
        insert.setBigDecimal(3, BigDecimal.valueOf(100 + random.nextInt(99_900), 2));
        if (random.nextInt(5) == 0) {
          insert.setNull(4, Types.ARRAY);
        } else {
          List<String> tags = new ArrayList<>();
          for (String tag : TAGS) {
            if (random.nextInt(4) == 0) {
              tags.add(tag);
            }
          }
          Array array = connection.createArrayOf("text", tags.toArray(new String[0]));
          insert.setArray(4, array);
        }
        insert.setString(
            5,
            random.nextInt(5) == 0
                ? null
                : "{\"color\": \""
                    + pick(random, COLORS)
                    + "\", \"weight_g\": "
                    + (50 + random.nextInt(5000))
                    + ", \"dimensions\": {\"w\": "
                    + (1 + random.nextInt(100))
                    + ", \"h\": "
                    + (1 + random.nextInt(100))
                    + "}}");
        insert.addBatch();
        if ((i + 1) % BATCH_SIZE == 0) {
          insert.executeBatch();
        }
      }
      insert.executeBatch();
    }
    return count;
  }

  private static int insertOrders(Connection connection, int count, Random random)
      throws SQLException {
    long[] customerIds = ids(connection, "customers");
    long[] productIds = ids(connection, "products");
    if (customerIds.length == 0 || productIds.length == 0) {
      return 0;
    }
    LocalDateTime now = LocalDateTime.now(ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO public.orders"
                + " (customer_id, product_id, quantity, total, status, ordered_at, ship_date)"
                + " SELECT ?, p.id, ?, p.price * ?, ?, ?, ? FROM public.products p WHERE p.id = ?")) {
      for (int i = 0; i < count; i++) {
        int quantity = 1 + random.nextInt(5);
        LocalDateTime orderedAt = now.minusSeconds(random.nextInt(3600 * 24 * 365));
        String status = pick(random, ORDER_STATUSES);
        boolean shipped = status.equals("shipped") || status.equals("delivered");
        LocalDate shipDate = shipped ? orderedAt.toLocalDate().plusDays(random.nextInt(4)) : null;
        insert.setLong(1, customerIds[random.nextInt(customerIds.length)]);
        insert.setInt(2, quantity);
        insert.setInt(3, quantity);
        insert.setString(4, status);
        insert.setObject(5, orderedAt);
        insert.setObject(6, shipDate, Types.DATE);
        insert.setLong(7, productIds[random.nextInt(productIds.length)]);
        insert.addBatch();
        if ((i + 1) % BATCH_SIZE == 0) {
          insert.executeBatch();
        }
      }
      insert.executeBatch();
    }
    return count;
  }

  private static long[] ids(Connection connection, String table) throws SQLException {
    List<Long> ids = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet result =
            statement.executeQuery("SELECT id FROM public." + table + " ORDER BY id")) {
      while (result.next()) {
        ids.add(result.getLong(1));
      }
    }
    return ids.stream().mapToLong(Long::longValue).toArray();
  }

  static String email(String first, String last, Random random) {
    String local =
        Normalizer.normalize(first + "." + last, Normalizer.Form.NFD)
            .toLowerCase(Locale.ROOT)
            .replaceAll("[^a-z.]", "");
    return local + random.nextInt(1000) + "@example.com";
  }

  static String pick(Random random, String[] values) {
    return values[random.nextInt(values.length)];
  }

  private static void commitIfNeeded(Connection connection) throws SQLException {
    if (!connection.getAutoCommit()) {
      connection.commit();
    }
  }
}
