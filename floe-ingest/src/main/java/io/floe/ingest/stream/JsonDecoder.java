package io.floe.ingest.stream;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Decodes records whose value is one JSON object. Numbers keep their exact value (whole numbers as
 * {@link Long} or {@link java.math.BigInteger}, others as {@link java.math.BigDecimal}); nested
 * objects and lists stay {@link JsonNode}s, written to json columns as their text.
 *
 * <p>A record without a value (a Kafka tombstone) deletes its key: the key bytes are a JSON object
 * of the key columns, or for a single key column its JSON value or plain text.
 */
public final class JsonDecoder implements RecordDecoder {
  static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE)
          .build();

  private final List<String> keyColumns;

  /** A decoder for a table whose key columns are {@code keyColumns} (empty for append tables). */
  public JsonDecoder(List<String> keyColumns) {
    this.keyColumns = List.copyOf(keyColumns);
  }

  @Override
  public DecodedRecord decode(byte[] key, byte[] value) {
    if (value == null) {
      return DecodedRecord.delete(keyFields(key, keyColumns, RejectReason.BAD_JSON));
    }
    return DecodedRecord.upsert(object(value, RejectReason.BAD_JSON, "value"));
  }

  /**
   * The key fields of a tombstone's key bytes: a JSON object, or a single key column's value.
   *
   * @throws RecordRejectedException ({@link RejectReason#MISSING_KEY}) when there is no key to read
   */
  static Map<String, Object> keyFields(byte[] key, List<String> keyColumns, RejectReason bad) {
    if (keyColumns.isEmpty()) {
      throw new RecordRejectedException(
          RejectReason.MISSING_KEY,
          "The record has no value (a tombstone, which deletes a key), but the table is an append"
              + " table without key columns; send records with values, or make the table an"
              + " upsert table (mode: upsert, key: [...])");
    }
    if (key == null || key.length == 0) {
      throw new RecordRejectedException(
          RejectReason.MISSING_KEY,
          "The record has neither a value nor a key: there is nothing to write or to delete");
    }
    JsonNode node;
    try {
      node = MAPPER.readTree(key);
    } catch (IOException e) {
      if (keyColumns.size() == 1) {
        // A plain-text key, as Kafka's string serializer writes it.
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put(keyColumns.get(0), new String(key, StandardCharsets.UTF_8));
        return fields;
      }
      throw new RecordRejectedException(
          bad,
          "The record's key is not valid JSON ("
              + message(e)
              + "); a tombstone's key must be a JSON object of the key columns "
              + keyColumns,
          e);
    }
    if (node != null && node.isObject()) {
      return fields(node);
    }
    if (keyColumns.size() == 1 && node != null && node.isValueNode()) {
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put(keyColumns.get(0), value(node));
      return fields;
    }
    throw new RecordRejectedException(
        RejectReason.MISSING_KEY,
        "The record's key must be a JSON object of the key columns " + keyColumns);
  }

  /** The fields of a JSON object's bytes; {@code what} names them in the message. */
  static Map<String, Object> object(byte[] bytes, RejectReason bad, String what) {
    JsonNode node;
    try {
      node = MAPPER.readTree(bytes);
    } catch (IOException e) {
      throw new RecordRejectedException(
          bad, "The record's " + what + " is not valid JSON: " + message(e), e);
    }
    if (node == null || !node.isObject()) {
      throw new RecordRejectedException(
          bad,
          "The record's "
              + what
              + " must be a JSON object, not "
              + (node == null ? "empty" : node.getNodeType().toString().toLowerCase(Locale.ROOT)));
    }
    return fields(node);
  }

  /** The fields of a JSON object node, with values as {@link #value} gives them. */
  static Map<String, Object> fields(JsonNode object) {
    Map<String, Object> fields = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> field : object.properties()) {
      fields.put(field.getKey(), value(field.getValue()));
    }
    return fields;
  }

  /** A JSON value as a Java value; objects and lists stay nodes. */
  static Object value(JsonNode node) {
    if (node == null || node.isNull() || node.isMissingNode()) {
      return null;
    }
    if (node.isBoolean()) {
      return node.booleanValue();
    }
    if (node.isIntegralNumber()) {
      return node.canConvertToLong() ? (Object) node.longValue() : node.bigIntegerValue();
    }
    if (node.isNumber()) {
      return node.decimalValue();
    }
    if (node.isTextual()) {
      return node.textValue();
    }
    return node;
  }

  private static String message(IOException e) {
    return e instanceof JsonProcessingException json ? json.getOriginalMessage() : e.getMessage();
  }
}
