package io.floe.core.config;

import static io.floe.core.config.ConfigKey.derived;
import static io.floe.core.config.ConfigKey.optional;
import static io.floe.core.config.ConfigKey.required;

import io.floe.core.config.KafkaSourceConfig.StartPosition;
import io.floe.core.config.StreamTableConfig.Column;
import io.floe.core.config.StreamTableConfig.PartitionField;
import io.floe.core.config.StreamTableConfig.UnknownFields;
import io.floe.core.config.StreamTableConfig.WriteMode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The keys of stream sources (Kafka, HTTP) and of the table a stream pipeline writes, declared
 * once, and how their values become a {@link KafkaSourceConfig}, {@link HttpSourceConfig} and
 * {@link StreamTableConfig}; part of {@link FloeConfigSchema}.
 */
final class StreamConfigSchema {
  private static final Pattern COLUMN_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern COLUMN =
      Pattern.compile("\\s*([A-Za-z_][A-Za-z0-9_]*)\\s+([A-Za-z0-9 ,()]+?)\\s*");
  private static final Pattern TRANSFORM =
      Pattern.compile(
          "\\s*(?:(year|month|day|hour|identity)\\(\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\)"
              + "|(bucket|truncate)\\(\\s*(\\d{1,9})\\s*,\\s*([A-Za-z_][A-Za-z0-9_]*)\\s*\\)"
              + "|([A-Za-z_][A-Za-z0-9_]*))\\s*");

  /** A database pipeline's {@code partition-by} entry: {@code table (transform, ...)}. */
  private static final Pattern TABLE_PARTITIONING =
      Pattern.compile(
          "\\s*(?<table>[A-Za-z0-9_$.]+)\\s*\\((?<transforms>(?:"
              + TRANSFORM.pattern()
              + "(?:,"
              + TRANSFORM.pattern()
              + ")*)?|\\s*)\\)\\s*");

  /** Type names users bring from SQL, and the Iceberg types they mean. */
  private static final Map<String, String> TYPE_ALIASES =
      Map.ofEntries(
          Map.entry("bigint", "long"),
          Map.entry("integer", "int"),
          Map.entry("smallint", "int"),
          Map.entry("bool", "boolean"),
          Map.entry("real", "float"),
          Map.entry("text", "string"),
          Map.entry("varchar", "string"),
          Map.entry("bytea", "binary"),
          Map.entry("timestamp with time zone", "timestamptz"),
          Map.entry("timestamp without time zone", "timestamp"));

  static final ConfigKey<String> BOOTSTRAP_SERVERS =
      required(
          "bootstrap-servers",
          ValueType.string().where(servers -> !servers.isBlank(), "must not be empty"),
          "Kafka brokers to connect to first, as `host:port[,host:port...]`.");
  static final ConfigKey<List<String>> TOPICS =
      optional(
          "topics",
          ValueType.distinctList(
              "list of topics",
              ValueType.matching(
                  "[A-Za-z0-9._-]{1,249}",
                  "must be a Kafka topic name: 1 to 249 letters, digits, dots, underscores or"
                      + " hyphens")),
          "[]",
          "Topics to consume; their records all go into the pipeline's table. Give `topics` or"
              + " `topic-pattern`.");
  static final ConfigKey<String> TOPIC_PATTERN =
      optional(
          "topic-pattern",
          ValueType.parsed(
              "regular expression",
              StreamConfigSchema::regex,
              "must be a valid Java regular expression"),
          "",
          "Regular expression of the topics to consume, such as `clicks-.*`; topics created"
              + " later that match it are consumed too, from their first record.");
  static final ConfigKey<String> GROUP =
      derived(
          "group",
          ValueType.string().where(group -> !group.isBlank(), "must not be empty"),
          "`floe-` + pipeline name",
          pipelineName("floe-"),
          "Kafka consumer group. Floe commits its offsets to it after each Iceberg commit, for"
              + " monitoring with Kafka's tools; the table itself records where to resume, so"
              + " resetting the group changes nothing.");
  static final ConfigKey<String> START =
      optional(
          "start",
          ValueType.parsed(
              "position",
              StreamConfigSchema::start,
              "must be earliest, latest or an ISO-8601 instant such as 2026-12-01T00:00:00Z"),
          "earliest",
          "Where the first start of the pipeline begins reading each partition: `earliest`,"
              + " `latest`, or the first record at or after an ISO-8601 instant. Later starts"
              + " resume exactly where the table's last commit ended.");
  static final ConfigKey<RecordFormat> FORMAT =
      optional(
          "format",
          ValueType.enumeration(RecordFormat.class),
          "json",
          "Encoding of the record values: `json` (one object per record), `avro` (an Avro"
              + " object container file per record, or binary datums of `avro-schema`), or"
              + " `debezium` (Debezium change events in JSON, as Debezium Server and Kafka Connect"
              + " write them, applied as inserts, updates and deletes).");
  static final ConfigKey<String> AVRO_SCHEMA =
      optional(
          "avro-schema",
          ValueType.string(),
          "",
          "Avro schema (JSON) of binary-encoded record values; empty when each value is an Avro"
              + " object container file that carries its own schema.");
  static final ConfigKey<Long> MAX_RECORD_BYTES =
      optional(
          "max-record-bytes",
          ValueType.byteSize()
              .where(size -> size >= 1024 && size <= (64L << 20), "must be between 1KB and 64MB"),
          "1MB",
          "Records larger than this go to the dead-letter table as `oversized`.");
  static final ConfigKey<String> STREAM =
      derived(
          "stream",
          ValueType.lowercaseName(),
          "the pipeline name",
          pipelineName(""),
          "Name of the stream in the ingest URL: clients POST its records to"
              + " `/v1/streams/<stream>/records` on the HTTP port (`sql.http-port`).");
  static final ConfigKey<Long> MAX_REQUEST_BYTES =
      optional(
          "max-request-bytes",
          ValueType.byteSize()
              .where(size -> size >= 1024 && size <= (256L << 20), "must be between 1KB and 256MB"),
          "16MB",
          "Request bodies larger than this are refused with 413 before any record of them is"
              + " accepted.");
  static final ConfigKey<Integer> MAX_BUFFERED_RECORDS =
      optional(
          "max-buffered-records",
          ValueType.integer(1, 10_000_000),
          "100000",
          "Records accepted but not yet committed to the table above which new requests are"
              + " refused with 429 and a `Retry-After` header, until commits catch up.");

  static final ConfigKey<String> TABLE =
      derived(
          "table",
          ValueType.lowercaseName(),
          "the pipeline name",
          pipelineName(""),
          "Table of a stream pipeline (Kafka or HTTP), in `namespace`; created on first start.");
  static final ConfigKey<WriteMode> MODE =
      optional(
          "mode",
          ValueType.enumeration(WriteMode.class),
          "append",
          "How a stream's records become rows: `append` adds every record as a row; `upsert`"
              + " keeps the latest record per `key` (a Kafka record without a value deletes its"
              + " key's row).");
  static final ConfigKey<List<String>> KEY =
      optional(
          "key",
          ValueType.distinctList(
              "list of columns",
              ValueType.matching(
                  COLUMN_NAME.pattern(),
                  "must be a column name: a letter or underscore, then letters, digits or"
                      + " underscores")),
          "[]",
          "Key columns of an `upsert` table, each declared in `columns`; a record without a"
              + " value for one of them goes to the dead-letter table as `missing_key`.");
  static final ConfigKey<List<Column>> COLUMNS =
      optional(
          "columns",
          ValueType.distinctList(
              "list of columns",
              ValueType.parsed(
                  "column",
                  StreamConfigSchema::column,
                  "must be `name type`, where type is boolean, int, long, float, double,"
                      + " decimal(p,s), date, time, timestamp, timestamptz, string, uuid, binary"
                      + " or json (or bigint, integer, smallint, text, varchar, bool, real,"
                      + " bytea)")),
          "[]",
          "Columns of a stream's table, such as `event_time timestamptz`, in order; fields of a"
              + " record are matched to columns by name. Empty to infer columns from the first"
              + " records (numbers become long or double, text string, true/false boolean,"
              + " objects and lists json). In a YAML flow list (`[a long, b string]`) a comma"
              + " ends an entry: write `decimal(p,s)` columns one per line or quoted"
              + " (`'price decimal(10,2)'`).");
  static final ConfigKey<List<String>> PARTITION_BY =
      optional(
          "partition-by",
          ValueType.distinctList(
              "list of transforms",
              ValueType.matching(
                  TRANSFORM.pattern() + "|" + TABLE_PARTITIONING.pattern(),
                  "must be a transform: column, identity(column), year(column), month(column),"
                      + " day(column), hour(column), bucket(n, column) or truncate(n, column);"
                      + " or, for a database source, a table and its transforms, such as"
                      + " 'orders (day(created_at), bucket(16, id))'")),
          "[]",
          "Partitioning with Iceberg's transforms, hidden from queries: a filter on the column"
              + " skips the other partitions' files. A stream table lists its transforms, such as"
              + " `[day(event_time)]`, each column declared in `columns`. A database source lists"
              + " tables, each written `table (transform, ...)` with the table as `tables` names"
              + " it, such as `'orders (day(created_at), bucket(16, id))'`; `'orders ()'` makes a"
              + " table unpartitioned, and a table not listed keeps the spec it has (Floe creates"
              + " it unpartitioned). A changed list is a partition evolution at the pipeline's"
              + " next start: files written before keep their spec (no rewrite), and `CALL"
              + " system.rewrite_data_files` rewrites them to the new one.");
  static final ConfigKey<UnknownFields> UNKNOWN_FIELDS =
      optional(
          "unknown-fields",
          ValueType.enumeration(UnknownFields.class),
          "add",
          "What a record field without a column does: `add` adds a column of the field's type"
              + " (a schema change, no rewrite); `reject` sends the record to the dead-letter"
              + " table as `unknown_field`; `ignore` leaves the field out.");
  static final ConfigKey<String> DEAD_LETTER_TABLE =
      derived(
          "dead-letter-table",
          ValueType.lowercaseName(),
          "`table` + `_dead_letter`",
          values -> {
            String table = values.get(TABLE);
            return table == null ? null : table + "_dead_letter";
          },
          "Table in `namespace` that keeps the records that could not be written, with the"
              + " error, raw bytes and source position of each; query it with SQL, and replay it"
              + " with `floe dlq replay` after a fix.");

  static final List<ConfigKey<?>> KAFKA_KEYS =
      List.of(
          BOOTSTRAP_SERVERS,
          TOPICS,
          TOPIC_PATTERN,
          GROUP,
          START,
          FORMAT,
          AVRO_SCHEMA,
          MAX_RECORD_BYTES);
  static final List<ConfigKey<?>> HTTP_KEYS =
      List.of(STREAM, MAX_RECORD_BYTES, MAX_REQUEST_BYTES, MAX_BUFFERED_RECORDS);
  static final List<ConfigKey<?>> TARGET_KEYS =
      List.of(TABLE, MODE, KEY, COLUMNS, PARTITION_BY, UNKNOWN_FIELDS, DEAD_LETTER_TABLE);

  private StreamConfigSchema() {}

  /**
   * Reports what a stream pipeline's source and target cannot mean together, and stream table keys
   * written for a database source.
   */
  static void check(ConfigValues pipeline, String path, ConfigReader reader) {
    ConfigValues source = pipeline.section(FloeConfigSchema.SOURCE);
    ConfigValues target = pipeline.section(FloeConfigSchema.TARGET);
    SourceType type = source == null ? null : source.get(FloeConfigSchema.SOURCE_TYPE);
    if (type == null || target == null) {
      return; // Reported already.
    }
    if (type.database()) {
      for (ConfigKey<?> key : TARGET_KEYS) {
        if (key != PARTITION_BY && target.written(key)) {
          reader.problem(
              path + ".target." + key.name(),
              "only a stream pipeline (source.type kafka or http) has this key; a database"
                  + " source writes one table per source table, so remove it");
        }
      }
      return;
    }
    if (type == SourceType.KAFKA) {
      List<String> topics = source.get(TOPICS);
      String pattern = source.get(TOPIC_PATTERN);
      if (topics != null && pattern != null && topics.isEmpty() == pattern.isEmpty()) {
        reader.problem(
            path + ".source",
            topics.isEmpty()
                ? "give the topics to consume: topics: [name, ...] or topic-pattern: <regex>"
                : "give topics or topic-pattern, not both");
      }
    }
    WriteMode mode = target.get(MODE);
    List<String> key = target.get(KEY);
    List<Column> columns = target.get(COLUMNS);
    List<String> partitionBy = target.get(PARTITION_BY);
    String table = target.get(TABLE);
    String deadLetterTable = target.get(DEAD_LETTER_TABLE);
    if (mode == null || key == null || columns == null || partitionBy == null) {
      return;
    }
    Set<String> declared = new HashSet<>();
    columns.forEach(column -> declared.add(column.name()));
    if (mode == WriteMode.UPSERT && key.isEmpty()) {
      reader.problem(
          path + ".target.key",
          "an upsert table needs key columns; list them (key: [id]) and declare each in columns");
    }
    if (mode == WriteMode.APPEND && !key.isEmpty()) {
      reader.problem(
          path + ".target.key",
          "only an upsert table has key columns; remove key, or set mode: upsert");
    }
    for (String column : key) {
      if (!declared.contains(column)) {
        reader.problem(
            path + ".target.key",
            "key column "
                + column
                + " must be declared in columns with its type, such as '"
                + column
                + " long'");
      }
    }
    for (String transform : partitionBy) {
      Matcher matcher = TRANSFORM.matcher(transform);
      if (!matcher.matches()) {
        if (TABLE_PARTITIONING.matcher(transform).matches()) {
          reader.problem(
              path + ".target.partition-by",
              "'"
                  + transform
                  + "' names a table, as a database source's partition-by does; a stream has one"
                  + " table: list its transforms, such as [day(event_time)]");
        }
        continue;
      }
      String column = transformColumn(matcher);
      if (!declared.contains(column)) {
        reader.problem(
            path + ".target.partition-by",
            "partition column " + column + " must be declared in columns with its type");
      }
    }
    if (table != null && table.equals(deadLetterTable)) {
      reader.problem(
          path + ".target.dead-letter-table", "must differ from the table itself (" + table + ")");
    }
  }

  static KafkaSourceConfig kafka(ConfigValues values) {
    String start = values.get(START);
    StartPosition position =
        switch (start) {
          case "earliest" -> StartPosition.EARLIEST;
          case "latest" -> StartPosition.LATEST;
          default -> StartPosition.TIMESTAMP;
        };
    return new KafkaSourceConfig(
        values.get(BOOTSTRAP_SERVERS),
        values.get(TOPICS),
        values.get(TOPIC_PATTERN),
        values.get(GROUP),
        position,
        position == StartPosition.TIMESTAMP ? Optional.of(Instant.parse(start)) : Optional.empty(),
        values.get(FORMAT),
        values.get(AVRO_SCHEMA),
        values.get(MAX_RECORD_BYTES));
  }

  static HttpSourceConfig http(ConfigValues values) {
    return new HttpSourceConfig(
        values.get(STREAM),
        values.get(MAX_RECORD_BYTES),
        values.get(MAX_REQUEST_BYTES),
        values.get(MAX_BUFFERED_RECORDS));
  }

  static StreamTableConfig table(ConfigValues values) {
    return new StreamTableConfig(
        values.get(TABLE),
        values.get(MODE),
        values.get(KEY),
        values.get(COLUMNS),
        values.get(PARTITION_BY).stream().map(StreamConfigSchema::partitionField).toList(),
        values.get(UNKNOWN_FIELDS),
        values.get(DEAD_LETTER_TABLE));
  }

  /** The column a partition transform reads, from a match of {@link #TRANSFORM}. */
  private static String transformColumn(Matcher matcher) {
    for (int group : new int[] {2, 5, 6}) {
      if (matcher.group(group) != null) {
        return matcher.group(group);
      }
    }
    throw new IllegalStateException("No column in " + matcher.group());
  }

  /**
   * A database pipeline's {@code partition-by} entry, {@code table (transform, ...)}: the table as
   * written and its fields; empty if the entry is not one.
   */
  static Optional<Map.Entry<String, List<PartitionField>>> tablePartitioning(String text) {
    Matcher matcher = TABLE_PARTITIONING.matcher(text);
    if (!matcher.matches()) {
      return Optional.empty();
    }
    List<PartitionField> fields = new ArrayList<>();
    String transforms = matcher.group("transforms");
    int depth = 0;
    int start = 0;
    for (int at = 0; at <= transforms.length(); at++) {
      char c = at == transforms.length() ? ',' : transforms.charAt(at);
      if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        String transform = transforms.substring(start, at);
        if (!transform.isBlank()) {
          fields.add(partitionField(transform));
        }
        start = at + 1;
      }
    }
    return Optional.of(Map.entry(matcher.group("table"), List.copyOf(fields)));
  }

  /** A partition transform as written, such as {@code bucket(16, user_id)}; it must match. */
  private static PartitionField partitionField(String text) {
    Matcher matcher = TRANSFORM.matcher(text);
    if (!matcher.matches()) {
      throw new IllegalArgumentException("Not a partition transform: " + text);
    }
    if (matcher.group(1) != null) {
      return new PartitionField(matcher.group(1), 0, matcher.group(2));
    }
    if (matcher.group(3) != null) {
      return new PartitionField(
          matcher.group(3), Integer.parseInt(matcher.group(4)), matcher.group(5));
    }
    return new PartitionField("identity", 0, matcher.group(6));
  }

  private static Optional<Column> column(String text) {
    Matcher matcher = COLUMN.matcher(text);
    if (!matcher.matches()) {
      return Optional.empty();
    }
    String typeName = matcher.group(2).trim().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
    boolean json = typeName.equals("json") || typeName.equals("jsonb");
    String iceberg = json ? "string" : TYPE_ALIASES.getOrDefault(typeName, typeName);
    try {
      Type.PrimitiveType type = Types.fromPrimitiveString(iceberg.replace(" ", ""));
      return Optional.of(new Column(matcher.group(1), type, json));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> regex(String text) {
    try {
      Pattern.compile(text);
      return Optional.of(text);
    } catch (PatternSyntaxException e) {
      return Optional.empty();
    }
  }

  private static Optional<String> start(String text) {
    if (text.equals("earliest") || text.equals("latest")) {
      return Optional.of(text);
    }
    try {
      Instant.parse(text);
      return Optional.of(text);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  private static Function<ConfigValues, String> pipelineName(String prefix) {
    return values -> {
      String name = values.parent().get(FloeConfigSchema.PIPELINE_NAME);
      return name == null ? null : prefix + name;
    };
  }
}
