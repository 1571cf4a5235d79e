package io.floe.sql.pgwire;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy in front of the PostgreSQL endpoint that records what the client asks for:
 * the result format codes of each Bind and the row limit of each Execute. Tests use it to prove
 * that a driver really switched to binary transfer or fetched a result in batches.
 */
final class RecordingProxy implements AutoCloseable {
  private final int targetPort;
  private final ServerSocket serverSocket;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final List<List<Integer>> bindResultFormats = new CopyOnWriteArrayList<>();
  private final List<Integer> executeRowLimits = new CopyOnWriteArrayList<>();

  RecordingProxy(int targetPort) throws IOException {
    this.targetPort = targetPort;
    this.serverSocket = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "recording-proxy");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return serverSocket.getLocalPort();
  }

  /** The result format codes of every Bind so far, in order. */
  List<List<Integer>> bindResultFormats() {
    return List.copyOf(bindResultFormats);
  }

  /** The max-rows field of every Execute so far, in order. */
  List<Integer> executeRowLimits() {
    return List.copyOf(executeRowLimits);
  }

  void clear() {
    bindResultFormats.clear();
    executeRowLimits.clear();
  }

  private void accept() {
    while (!serverSocket.isClosed()) {
      try {
        Socket client = serverSocket.accept();
        Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        client.setTcpNoDelay(true);
        server.setTcpNoDelay(true);
        sockets.add(client);
        sockets.add(server);
        daemon(() -> copy(server.getInputStream(), client.getOutputStream()));
        daemon(() -> inspect(client.getInputStream(), server.getOutputStream()));
      } catch (IOException e) {
        return;
      }
    }
  }

  private interface Pump {
    void run() throws IOException;
  }

  private static void daemon(Pump pump) {
    Thread thread =
        new Thread(
            () -> {
              try {
                pump.run();
              } catch (IOException e) {
                // a side closed the connection; the other side sees it
              }
            },
            "recording-proxy-pump");
    thread.setDaemon(true);
    thread.start();
  }

  private static void copy(InputStream in, OutputStream out) throws IOException {
    byte[] buffer = new byte[1 << 16];
    for (int read = in.read(buffer); read >= 0; read = in.read(buffer)) {
      out.write(buffer, 0, read);
      out.flush();
    }
    out.close();
  }

  /** Forwards the client's messages, recording Bind and Execute. */
  private void inspect(InputStream raw, OutputStream rawOut) throws IOException {
    DataInputStream in = new DataInputStream(raw);
    DataOutputStream out = new DataOutputStream(rawOut);
    boolean startup = true;
    while (true) {
      int type = startup ? 0 : in.read();
      if (type < 0) {
        out.close();
        return;
      }
      int length = in.readInt();
      byte[] body = new byte[length - 4];
      in.readFully(body);
      if (!startup) {
        out.writeByte(type);
      }
      out.writeInt(length);
      out.write(body);
      out.flush();
      if (startup) {
        int code = ByteBuffer.wrap(body).getInt();
        // SSL and GSSAPI requests are followed by another startup packet.
        startup = code == 80877103 || code == 80877104;
      } else if (type == 'B') {
        bindResultFormats.add(resultFormats(body));
      } else if (type == 'E') {
        ByteBuffer buffer = ByteBuffer.wrap(body);
        while (buffer.get() != 0) {
          // portal name
        }
        executeRowLimits.add(buffer.getInt());
      }
    }
  }

  private static List<Integer> resultFormats(byte[] body) {
    ByteBuffer buffer = ByteBuffer.wrap(body);
    skipString(buffer);
    skipString(buffer);
    int parameterFormats = buffer.getShort();
    buffer.position(buffer.position() + 2 * parameterFormats);
    int values = buffer.getShort();
    for (int i = 0; i < values; i++) {
      int length = buffer.getInt();
      if (length > 0) {
        buffer.position(buffer.position() + length);
      }
    }
    List<Integer> formats = new ArrayList<>();
    int count = buffer.getShort();
    for (int i = 0; i < count; i++) {
      formats.add((int) buffer.getShort());
    }
    return formats;
  }

  private static void skipString(ByteBuffer buffer) {
    while (buffer.get() != 0) {
      // until NUL
    }
  }

  @Override
  public void close() throws IOException {
    serverSocket.close();
    for (Socket socket : sockets) {
      socket.close();
    }
  }
}
