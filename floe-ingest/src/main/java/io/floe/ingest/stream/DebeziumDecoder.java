package io.floe.ingest.stream;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Decodes Debezium change events in JSON, as Debezium Server and Kafka Connect's {@code
 * JsonConverter} write them: with {@code schemas.enable=true} an envelope {@code {"schema": ...,
 * "payload": ...}}, with {@code false} the payload alone.
 *
 * <h2>Operations</h2>
 *
 * <ul>
 *   <li>{@code c} (create), {@code r} (snapshot read), {@code u} (update): an upsert of {@code
 *       after}.
 *   <li>{@code d} (delete): a delete of {@code before}'s fields (the pipeline takes the key columns
 *       from them); when {@code before} is null, of the record's key (JSON, with or without the
 *       envelope).
 *   <li>{@code t} (truncate) and {@code m} (logical decoding message) are rejected ({@link
 *       RejectReason#BAD_CHANGE_EVENT}) to the dead-letter table: Floe never empties a table
 *       because a source did, and messages are not rows.
 *   <li>A record without a value (the Kafka tombstone Debezium writes after a delete) is a delete
 *       of its key, as for {@link JsonDecoder}: deleting a key already deleted changes nothing, so
 *       the delete event and its tombstone together delete the row once. In append tables (no key
 *       columns) a tombstone is rejected as {@link RejectReason#MISSING_KEY}; set Debezium's {@code
 *       tombstones.on.delete=false} for them.
 * </ul>
 *
 * <h2>Values</h2>
 *
 * <p>When the envelope has a {@code schema}, its semantic types become Java values: {@code
 * io.debezium.time.Date} and Connect's {@code Date} {@link LocalDate}; {@code
 * io.debezium.time.Timestamp}, {@code MicroTimestamp}, {@code NanoTimestamp} and Connect's {@code
 * Timestamp} {@link LocalDateTime} (Debezium writes timestamps without time zone as if in UTC);
 * {@code io.debezium.time.ZonedTimestamp} {@link OffsetDateTime}; {@code io.debezium.time.Time},
 * {@code MicroTime}, {@code NanoTime} and Connect's {@code Time} {@link LocalTime}; Connect's
 * {@code Decimal} and {@code io.debezium.data.VariableScaleDecimal} {@link BigDecimal}; {@code
 * io.debezium.data.Uuid} {@link UUID}; {@code io.debezium.data.Json} a parsed {@link JsonNode};
 * {@code bytes} {@code byte[]}; {@code float} (float32) {@link Float} and {@code double} (float64)
 * {@link Double} (NaN and the infinities too, which the converter writes as text); structs a {@link
 * Map} of their fields, arrays a {@link List}, maps a {@link Map}. Without a schema, values pass as
 * {@link JsonDecoder} gives them (temporal values stay the numbers or text Debezium wrote).
 */
public final class DebeziumDecoder implements RecordDecoder {
  private static final String DECIMAL = "org.apache.kafka.connect.data.Decimal";

  private final List<String> keyColumns;

  /** A decoder for a table whose key columns are {@code keyColumns} (empty for append tables). */
  public DebeziumDecoder(List<String> keyColumns) {
    this.keyColumns = List.copyOf(requireNonNull(keyColumns, "keyColumns is null"));
  }

  @Override
  public DecodedRecord decode(byte[] key, byte[] value) {
    if (value == null) {
      return DecodedRecord.delete(key(key));
    }
    JsonNode event = parse(value, "value");
    JsonNode schema = null;
    JsonNode payload = event;
    if (isEnvelope(event)) {
      schema = nonNull(event.get("schema"));
      payload = event.get("payload");
      if (payload == null || !payload.isObject()) {
        throw reject(
            "The change event's payload is "
                + (payload == null ? "missing" : kind(payload))
                + "; a Debezium change event's payload is an object with op, before and after");
      }
    }
    JsonNode op = payload.get("op");
    if (op == null || !op.isTextual()) {
      throw reject(
          "The record is not a Debezium change event: it has no op field (c, r, u or d)"
              + (op == null ? "" : ", its op is " + kind(op))
              + "; use format json for plain JSON records");
    }
    switch (op.textValue()) {
      case "c":
      case "r":
      case "u":
        {
          JsonNode after = payload.get("after");
          if (after == null || !after.isObject()) {
            throw reject(
                "The change event (op "
                    + op.textValue()
                    + ") has "
                    + (after == null ? "no after" : "an after that is " + kind(after))
                    + "; its after must be the row as an object");
          }
          return DecodedRecord.upsert(row(after, fieldSchema(schema, "after")));
        }
      case "d":
        {
          JsonNode before = payload.get("before");
          if (before != null && before.isObject()) {
            return DecodedRecord.delete(row(before, fieldSchema(schema, "before")));
          }
          if (before != null && !before.isNull()) {
            throw reject(
                "The delete event's before is " + kind(before) + "; it must be the row's object");
          }
          return DecodedRecord.delete(key(key));
        }
      case "t":
        throw reject(
            "The change event is a truncate (op t), which Floe does not apply: it never empties a"
                + " table because the source did; truncate the table yourself if you mean to, or"
                + " leave truncate out of Debezium's skipped.operations");
      case "m":
        throw reject(
            "The change event is a logical decoding message (op m), which is not a row; leave"
                + " messages out of the stream's topics");
      default:
        throw reject(
            "The change event has the unknown op '"
                + op.textValue()
                + "'; Floe applies c (create), r (read), u (update) and d (delete)");
    }
  }

  /** The key fields of a record's key: a Connect envelope, or as {@link JsonDecoder} reads it. */
  private Map<String, Object> key(byte[] key) {
    if (!keyColumns.isEmpty() && key != null && key.length > 0) {
      JsonNode node;
      try {
        node = JsonDecoder.MAPPER.readTree(key);
      } catch (IOException e) {
        // Not JSON: the JSON decoder's rules (plain text for a single key column) decide.
        return JsonDecoder.keyFields(key, keyColumns, RejectReason.BAD_CHANGE_EVENT);
      }
      if (node != null && isEnvelope(node)) {
        JsonNode payload = node.get("payload");
        if (payload != null && payload.isObject()) {
          return row(payload, nonNull(node.get("schema")));
        }
        if (keyColumns.size() == 1 && payload != null && payload.isValueNode()) {
          Map<String, Object> fields = new LinkedHashMap<>();
          fields.put(keyColumns.get(0), value(payload, nonNull(node.get("schema")), "key"));
          return fields;
        }
        throw new RecordRejectedException(
            RejectReason.MISSING_KEY,
            "The record's key has no payload of the key columns " + keyColumns);
      }
    }
    return JsonDecoder.keyFields(key, keyColumns, RejectReason.BAD_CHANGE_EVENT);
  }

  /** Whether a JSON object is Kafka Connect's {@code {"schema": ..., "payload": ...}}. */
  private static boolean isEnvelope(JsonNode node) {
    return node.isObject()
        && node.has("payload")
        && (node.size() == 1 || (node.size() == 2 && node.has("schema")));
  }

  private static JsonNode parse(byte[] bytes, String what) {
    JsonNode node;
    try {
      node = JsonDecoder.MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new RecordRejectedException(
          RejectReason.BAD_CHANGE_EVENT,
          "The record's "
              + what
              + " is not valid JSON, so not a Debezium change event: "
              + e.getMessage(),
          e);
    }
    if (node == null || !node.isObject()) {
      throw reject(
          "The record's "
              + what
              + " must be a Debezium change event (a JSON object), not "
              + (node == null ? "empty" : kind(node)));
    }
    return node;
  }

  /** The schema of a struct field of {@code struct} (such as the envelope's after), or null. */
  private static JsonNode fieldSchema(JsonNode struct, String name) {
    if (struct == null) {
      return null;
    }
    JsonNode fields = struct.get("fields");
    if (fields == null || !fields.isArray()) {
      return null;
    }
    for (JsonNode field : fields) {
      if (name.equals(field.path("field").asText(null))) {
        return field;
      }
    }
    return null;
  }

  /** A row object's fields: converted by its struct schema, or as JSON when there is none. */
  private static Map<String, Object> row(JsonNode object, JsonNode structSchema) {
    if (structSchema == null) {
      return JsonDecoder.fields(object);
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : object.properties()) {
      fields.put(
          field.getKey(),
          value(field.getValue(), fieldSchema(structSchema, field.getKey()), field.getKey()));
    }
    return fields;
  }

  /** A value as a Java value by its Connect schema (null: as JSON). */
  private static Object value(JsonNode node, JsonNode schema, String field) {
    if (node == null || node.isNull()) {
      return null;
    }
    if (schema == null) {
      return JsonDecoder.value(node);
    }
    String name = schema.path("name").asText("");
    String type = schema.path("type").asText("");
    try {
      switch (name) {
        case "io.debezium.time.Date":
        case "org.apache.kafka.connect.data.Date":
          return LocalDate.ofEpochDay(whole(node, field, name));
        case "io.debezium.time.Timestamp":
        case "org.apache.kafka.connect.data.Timestamp":
          return utc(Instant.ofEpochMilli(whole(node, field, name)));
        case "io.debezium.time.MicroTimestamp":
          {
            long micros = whole(node, field, name);
            return utc(
                Instant.ofEpochSecond(
                    Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000));
          }
        case "io.debezium.time.NanoTimestamp":
          {
            long nanos = whole(node, field, name);
            return utc(
                Instant.ofEpochSecond(
                    Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L)));
          }
        case "io.debezium.time.ZonedTimestamp":
          return OffsetDateTime.parse(text(node, field, name));
        case "io.debezium.time.Time":
        case "org.apache.kafka.connect.data.Time":
          return LocalTime.ofNanoOfDay(Math.multiplyExact(whole(node, field, name), 1_000_000L));
        case "io.debezium.time.MicroTime":
          return LocalTime.ofNanoOfDay(Math.multiplyExact(whole(node, field, name), 1000L));
        case "io.debezium.time.NanoTime":
          return LocalTime.ofNanoOfDay(whole(node, field, name));
        case DECIMAL:
          return decimal(node, schema, field);
        case "io.debezium.data.VariableScaleDecimal":
          {
            if (!node.isObject()) {
              throw mismatch(field, name, node, "an object of scale and value");
            }
            JsonNode value = node.get("value");
            if (value == null || value.isNull()) {
              return null;
            }
            return new BigDecimal(
                new BigInteger(bytes(value, field, name)),
                Math.toIntExact(whole(node.path("scale"), field, name)));
          }
        case "io.debezium.data.Uuid":
          return UUID.fromString(text(node, field, name));
        case "io.debezium.data.Json":
          return JsonDecoder.MAPPER.readTree(text(node, field, name));
        default:
          break;
      }
      switch (type) {
        case "bytes":
          return bytes(node, field, name);
        case "float":
          // Connect's float32 (its JSON schemas call it float)
          if (node.isTextual()) {
            // Jackson writes NaN and the infinities as text.
            return Float.valueOf(node.textValue());
          }
          if (!node.isNumber()) {
            throw mismatch(field, type, node, "a number");
          }
          return node.floatValue();
        case "double":
          // Connect's float64
          if (node.isTextual()) {
            return Double.valueOf(node.textValue());
          }
          if (!node.isNumber()) {
            throw mismatch(field, type, node, "a number");
          }
          return node.doubleValue();
        case "struct":
          if (!node.isObject()) {
            throw mismatch(field, type, node, "an object");
          }
          return row(node, schema);
        case "array":
          {
            if (!node.isArray()) {
              throw mismatch(field, type, node, "a list");
            }
            List<Object> items = new ArrayList<>(node.size());
            for (JsonNode item : node) {
              items.add(value(item, nonNull(schema.get("items")), field));
            }
            return items;
          }
        case "map":
          return map(node, schema, field);
        default:
          return JsonDecoder.value(node);
      }
    } catch (DateTimeParseException | IllegalArgumentException | ArithmeticException e) {
      throw reject(
          "Field "
              + field
              + " has the value "
              + node
              + ", which is not a valid "
              + (name.isEmpty() ? type : name)
              + ": "
              + e.getMessage());
    } catch (IOException e) {
      throw reject("Field " + field + " is not valid JSON text (" + e.getMessage() + ")");
    }
  }

  private static Object map(JsonNode node, JsonNode schema, String field) {
    JsonNode values = nonNull(schema.get("values"));
    Map<String, Object> map = new LinkedHashMap<>();
    if (node.isObject()) {
      for (Map.Entry<String, JsonNode> entry : node.properties()) {
        map.put(entry.getKey(), value(entry.getValue(), values, field));
      }
      return map;
    }
    if (node.isArray()) {
      // Maps with keys that are not strings: a list of [key, value] pairs.
      JsonNode keys = nonNull(schema.get("keys"));
      for (JsonNode pair : node) {
        if (!pair.isArray() || pair.size() != 2) {
          throw mismatch(field, "map", node, "an object or a list of [key, value] pairs");
        }
        map.put(String.valueOf(value(pair.get(0), keys, field)), value(pair.get(1), values, field));
      }
      return map;
    }
    throw mismatch(field, "map", node, "an object");
  }

  private static BigDecimal decimal(JsonNode node, JsonNode schema, String field) {
    if (node.isNumber()) {
      // decimal.format=NUMERIC
      return node.decimalValue();
    }
    JsonNode scale = schema.path("parameters").path("scale");
    if (!scale.isTextual() && !scale.isIntegralNumber()) {
      throw reject("Field " + field + " is a " + DECIMAL + " whose schema has no scale parameter");
    }
    return new BigDecimal(
        new BigInteger(bytes(node, field, DECIMAL)), Integer.parseInt(scale.asText()));
  }

  private static byte[] bytes(JsonNode node, String field, String type) {
    if (!node.isTextual()) {
      throw mismatch(field, type, node, "base64 text");
    }
    return Base64.getDecoder().decode(node.textValue());
  }

  private static long whole(JsonNode node, String field, String type) {
    if (!node.isIntegralNumber() || !node.canConvertToLong()) {
      throw mismatch(field, type, node, "a whole number");
    }
    return node.longValue();
  }

  private static String text(JsonNode node, String field, String type) {
    if (!node.isTextual()) {
      throw mismatch(field, type, node, "text");
    }
    return node.textValue();
  }

  private static LocalDateTime utc(Instant instant) {
    return LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
  }

  private static JsonNode nonNull(JsonNode node) {
    return node == null || node.isNull() ? null : node;
  }

  private static RecordRejectedException mismatch(
      String field, String type, JsonNode node, String expected) {
    return reject(
        "Field "
            + field
            + " is a "
            + (type.isEmpty() ? "value" : type)
            + " in the event's schema but its value is "
            + kind(node)
            + ", not "
            + expected);
  }

  private static String kind(JsonNode node) {
    return node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
  }

  private static RecordRejectedException reject(String message) {
    return new RecordRejectedException(RejectReason.BAD_CHANGE_EVENT, message);
  }
}
