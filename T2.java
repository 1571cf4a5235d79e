import java.sql.*;
public class T2 {
  public static void main(String[] a) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:")) {
      Statement s = c.createStatement();
      s.execute("CREATE SCHEMA shop"); s.execute("CREATE TABLE shop.orders (id BIGINT, amount DECIMAL(10,2), note VARCHAR)");
      for (String q : a) {
        try { ResultSet r = s.executeQuery(q); int n = r.getMetaData().getColumnCount(); int rows=0;
          while (r.next() && rows++ < 8) { StringBuilder b = new StringBuilder(); for (int i=1;i<=n;i++) b.append(r.getObject(i)).append(" | "); System.out.println(b);} System.out.println("--"); }
        catch (SQLException e) { System.out.println("ERR: " + e.getMessage().split("\n")[0]); s = c.createStatement(); }
      }
    }
  }
}
