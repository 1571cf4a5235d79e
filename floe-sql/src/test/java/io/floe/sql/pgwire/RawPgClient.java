package io.floe.sql.pgwire;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * A bare PostgreSQL protocol client for tests that need to see individual messages: it writes
 * frontend messages byte by byte and reads backend messages back, with a SCRAM-SHA-256 login.
 */
final class RawPgClient implements AutoCloseable {
  static final int PROTOCOL_3 = 3 << 16;
  static final int SSL_REQUEST = 80877103;
  static final int GSSENC_REQUEST = 80877104;
  static final int CANCEL_REQUEST = 80877102;

  /** A backend message. */
  record Message(char type, byte[] body) {
    ByteBuffer buffer() {
      return ByteBuffer.wrap(body);
    }

    /** The fields of an ErrorResponse or NoticeResponse by their code. */
    Map<Character, String> fields() {
      Map<Character, String> fields = new LinkedHashMap<>();
      ByteBuffer buffer = buffer();
      for (byte code = buffer.get(); code != 0; code = buffer.get()) {
        fields.put((char) code, string(buffer));
      }
      return fields;
    }

    /** The type OIDs of a RowDescription or ParameterDescription. */
    List<Integer> types() {
      ByteBuffer buffer = buffer();
      int count = buffer.getShort();
      List<Integer> types = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        if (type == 'T') {
          string(buffer);
          buffer.position(buffer.position() + 6);
        }
        types.add(buffer.getInt());
        if (type == 'T') {
          buffer.position(buffer.position() + 8);
        }
      }
      return types;
    }

    /** The values of a DataRow as text (null for NULL). */
    List<String> values() {
      ByteBuffer buffer = buffer();
      int count = buffer.getShort();
      List<String> values = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        int length = buffer.getInt();
        if (length < 0) {
          values.add(null);
        } else {
          byte[] bytes = new byte[length];
          buffer.get(bytes);
          values.add(new String(bytes, StandardCharsets.UTF_8));
        }
      }
      return values;
    }

    /** The text of a CommandComplete. */
    String text() {
      return string(buffer());
    }

    /** The two strings of a ParameterStatus: name and value. */
    List<String> nameAndValue() {
      ByteBuffer buffer = buffer();
      return List.of(string(buffer), string(buffer));
    }
  }

  private final Socket socket;
  private final DataInputStream in;
  private final DataOutputStream out;
  private final ByteArrayOutputStream bodyBytes = new ByteArrayOutputStream();
  private final DataOutputStream body = new DataOutputStream(bodyBytes);

  RawPgClient(int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port);
    socket.setSoTimeout(30_000);
    in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
    out = new DataOutputStream(socket.getOutputStream());
  }

  void timeout(int millis) throws IOException {
    socket.setSoTimeout(millis);
  }

  /** A packet without type byte: a startup packet or a request code with its fields. */
  void sendUntyped(int code, int... fields) throws IOException {
    out.writeInt(8 + 4 * fields.length);
    out.writeInt(code);
    for (int field : fields) {
      out.writeInt(field);
    }
    out.flush();
  }

  void sendStartup(int version, Map<String, String> parameters) throws IOException {
    ByteArrayOutputStream packet = new ByteArrayOutputStream();
    DataOutputStream data = new DataOutputStream(packet);
    data.writeInt(version);
    for (Map.Entry<String, String> parameter : parameters.entrySet()) {
      cstring(data, parameter.getKey());
      cstring(data, parameter.getValue());
    }
    data.writeByte(0);
    out.writeInt(4 + packet.size());
    packet.writeTo(out);
    out.flush();
  }

  int readByte() throws IOException {
    return in.read();
  }

  /** The next message, or null when the server closed the connection. */
  Message read() throws IOException {
    int type = in.read();
    if (type < 0) {
      return null;
    }
    byte[] bytes = new byte[in.readInt() - 4];
    in.readFully(bytes);
    return new Message((char) type, bytes);
  }

  /** Messages up to and including the next ReadyForQuery. */
  List<Message> readUntilReady() throws IOException {
    List<Message> messages = new ArrayList<>();
    Message message;
    do {
      message = read();
      if (message == null) {
        throw new IOException("Connection closed after " + messages);
      }
      messages.add(message);
    } while (message.type() != 'Z');
    return messages;
  }

  /** Logs in with SCRAM-SHA-256; returns the messages after AuthenticationOk. */
  List<Message> login(String user, String password) throws IOException {
    sendStartup(PROTOCOL_3, Map.of("user", user, "database", "floe"));
    return authenticate(password);
  }

  List<Message> authenticate(String password) throws IOException {
    Message request = read();
    if (request.type() != 'R' || request.buffer().getInt() != 10) {
      throw new IOException("Expected AuthenticationSASL, got " + request.type());
    }
    byte[] nonceBytes = new byte[18];
    new SecureRandom().nextBytes(nonceBytes);
    String clientFirstBare = "n=,r=" + Base64.getEncoder().encodeToString(nonceBytes);
    byte[] clientFirst = ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    cstring(body, "SCRAM-SHA-256");
    body.writeInt(clientFirst.length);
    body.write(clientFirst);
    send('p');
    byte[] challenge = read().body();
    String serverFirst = new String(challenge, 4, challenge.length - 4, StandardCharsets.UTF_8);
    Map<String, String> attributes = new LinkedHashMap<>();
    for (String part : serverFirst.split(",", -1)) {
      attributes.put(part.substring(0, 1), part.substring(2));
    }
    byte[] salted =
        pbkdf2(
            password,
            Base64.getDecoder().decode(attributes.get("s")),
            Integer.parseInt(attributes.get("i")));
    String withoutProof = "c=biws,r=" + attributes.get("r");
    byte[] authMessage =
        (clientFirstBare + "," + serverFirst + "," + withoutProof).getBytes(StandardCharsets.UTF_8);
    byte[] clientKey = hmac(salted, "Client Key".getBytes(StandardCharsets.UTF_8));
    byte[] signature = hmac(sha256(clientKey), authMessage);
    for (int i = 0; i < clientKey.length; i++) {
      clientKey[i] ^= signature[i];
    }
    body.write(
        (withoutProof + ",p=" + Base64.getEncoder().encodeToString(clientKey))
            .getBytes(StandardCharsets.UTF_8));
    send('p');
    return readUntilReady();
  }

  void query(String sql) throws IOException {
    cstring(body, sql);
    send('Q');
  }

  void parse(String name, String sql, int... types) throws IOException {
    cstring(body, name);
    cstring(body, sql);
    body.writeShort(types.length);
    for (int type : types) {
      body.writeInt(type);
    }
    send('P');
  }

  /** Bind with text parameters and the given result format codes. */
  void bind(String portal, String statement, List<String> values, int... resultFormats)
      throws IOException {
    cstring(body, portal);
    cstring(body, statement);
    body.writeShort(0);
    body.writeShort(values.size());
    for (String value : values) {
      if (value == null) {
        body.writeInt(-1);
      } else {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        body.writeInt(bytes.length);
        body.write(bytes);
      }
    }
    body.writeShort(resultFormats.length);
    for (int format : resultFormats) {
      body.writeShort(format);
    }
    send('B');
  }

  void describe(char kind, String name) throws IOException {
    body.writeByte(kind);
    cstring(body, name);
    send('D');
  }

  void execute(String portal, int maxRows) throws IOException {
    cstring(body, portal);
    body.writeInt(maxRows);
    send('E');
  }

  void close(char kind, String name) throws IOException {
    body.writeByte(kind);
    cstring(body, name);
    send('C');
  }

  void sync() throws IOException {
    send('S');
  }

  void flush() throws IOException {
    send('H');
  }

  /** Any message, for protocol violations. */
  void send(char type) throws IOException {
    out.writeByte(type);
    out.writeInt(4 + bodyBytes.size());
    bodyBytes.writeTo(out);
    bodyBytes.reset();
    out.flush();
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private static void cstring(DataOutputStream data, String text) throws IOException {
    data.write(text.getBytes(StandardCharsets.UTF_8));
    data.writeByte(0);
  }

  private static String string(ByteBuffer buffer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (byte b = buffer.get(); b != 0; b = buffer.get()) {
      bytes.write(b);
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  private static byte[] pbkdf2(String password, byte[] salt, int iterations) {
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256")
          .generateSecret(new PBEKeySpec(password.toCharArray(), salt, iterations, 256))
          .getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
