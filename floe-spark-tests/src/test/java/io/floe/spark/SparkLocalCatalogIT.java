package io.floe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Throwaway: Spark with Iceberg's runtime against a local hadoop catalog. */
class SparkLocalCatalogIT {
  @TempDir Path warehouse;

  @Test
  void sparkWritesIcebergLocally() {
    SparkSession spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("floe-spark-local")
            .config("spark.ui.enabled", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.shuffle.partitions", "2")
            .config(
                "spark.sql.extensions",
                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
            .config("spark.sql.catalog.local", "org.apache.iceberg.spark.SparkCatalog")
            .config("spark.sql.catalog.local.type", "hadoop")
            .config("spark.sql.catalog.local.warehouse", warehouse.toString())
            .getOrCreate();
    try {
      spark.sql("CREATE NAMESPACE local.db");
      spark.sql(
          "CREATE TABLE local.db.t (id bigint, category string, amount int) USING iceberg"
              + " PARTITIONED BY (category) TBLPROPERTIES ('format-version'='2',"
              + " 'write.delete.mode'='merge-on-read', 'write.update.mode'='merge-on-read',"
              + " 'write.merge.mode'='merge-on-read')");
      spark.sql("INSERT INTO local.db.t VALUES (1, 'a', 10), (2, 'b', 20), (3, 'a', 30)");
      long first = spark.sql("SELECT snapshot_id FROM local.db.t.snapshots").first().getLong(0);
      spark.sql(
          "MERGE INTO local.db.t t USING (SELECT 2L AS id, 'b' AS category, 21 AS amount UNION"
              + " ALL SELECT 4L, 'c', 40) s ON t.id = s.id WHEN MATCHED THEN UPDATE SET t.amount ="
              + " s.amount WHEN NOT MATCHED THEN INSERT *");
      spark.sql("UPDATE local.db.t SET amount = amount + 1 WHERE id = 1");
      spark.sql("DELETE FROM local.db.t WHERE id = 3");
      List<Row> rows =
          spark.sql("SELECT id, category, amount FROM local.db.t ORDER BY id").collectAsList();
      assertThat(rows.toString()).isEqualTo("[[1,a,11], [2,b,21], [4,c,40]]");
      assertThat(
              spark
                  .sql("SELECT count(*) FROM local.db.t VERSION AS OF " + first)
                  .first()
                  .getLong(0))
          .isEqualTo(3);
      List<Row> expired =
          spark
              .sql(
                  "CALL local.system.expire_snapshots(table => 'db.t', older_than => TIMESTAMP"
                      + " '9999-12-31 00:00:00', retain_last => 1)")
              .collectAsList();
      System.out.println("expire: " + expired);
      assertThat(spark.sql("SELECT * FROM local.db.t.snapshots").count()).isEqualTo(1);
      System.out.println(
          spark.sql("SELECT content, file_path FROM local.db.t.all_delete_files").collectAsList());
    } finally {
      spark.stop();
    }
  }
}
