package io.floe.demo;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A clickstream for the demo: page views of the shop's customers, POSTed as NDJSON batches to an
 * HTTP stream of Floe, with a batch id so that a batch retried after an error is taken once. About
 * 3 in 50 records are poison, so that the dead-letter table fills: invalid JSON, a user id that is
 * text, a field the table does not declare.
 *
 * <p>Run it on a thread of your choice; it runs until {@link #close()}. A refused or failed batch
 * is retried, with the same batch id, after a short pause.
 */
public final class ClickstreamWorkload implements Runnable, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ClickstreamWorkload.class);
  private static final int BATCH = 25;
  private static final String[] PAGES = {
    "/", "/products", "/products/42", "/cart", "/checkout", "/account", "/search?q=lamp"
  };
  private static final String[] COUNTRIES = {"DE", "FR", "US", "JP", "BR", "IN", "NL"};

  private final URI endpoint;
  private final String authorization;
  private final double eventsPerSecond;
  private final Random random = new Random(7);
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final CountDownLatch stop = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong poison = new AtomicLong();
  private final String runId = Long.toString(System.currentTimeMillis(), 36);

  /**
   * @param endpoint the stream's records URL, such as {@code
   *     http://127.0.0.1:8080/v1/streams/clicks/records}
   */
  public ClickstreamWorkload(URI endpoint, String user, String password, double eventsPerSecond) {
    this.endpoint = requireNonNull(endpoint, "endpoint is null");
    this.authorization =
        "Basic "
            + Base64.getEncoder()
                .encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    this.eventsPerSecond = eventsPerSecond;
  }

  /** Records accepted by Floe. */
  public long sent() {
    return sent.get();
  }

  /** Poison records among them. */
  public long poison() {
    return poison.get();
  }

  @Override
  public void run() {
    try {
      long batchNanos = (long) (BATCH / eventsPerSecond * 1e9);
      long next = System.nanoTime();
      for (long batch = 0; stop.getCount() > 0; batch++) {
        StringBuilder body = new StringBuilder();
        int poisoned = 0;
        for (int i = 0; i < BATCH; i++) {
          int kind = random.nextInt(50);
          if (kind < 3) {
            poisoned++;
          }
          body.append(event(batch * BATCH + i, kind)).append('\n');
        }
        send(runId + "-" + batch, body.toString());
        sent.addAndGet(BATCH);
        poison.addAndGet(poisoned);
        next += batchNanos;
        long wait = next - System.nanoTime();
        if (wait > 0 && stop.await(wait, TimeUnit.NANOSECONDS)) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      finished.countDown();
    }
  }

  /** Sends a batch until Floe accepts it (or the workload stops). */
  private void send(String batchId, String body) throws InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint)
            .timeout(Duration.ofSeconds(10))
            .header("Authorization", authorization)
            .header("Content-Type", "application/x-ndjson")
            .header("Floe-Batch-Id", batchId)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build();
    while (stop.getCount() > 0) {
      try {
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200 || response.statusCode() == 202) {
          return;
        }
        LOG.debug("Batch {} refused with {}: {}", batchId, response.statusCode(), response.body());
      } catch (IOException e) {
        LOG.debug("Batch {} not sent: {}", batchId, e.toString());
      }
      if (stop.await(500, TimeUnit.MILLISECONDS)) {
        return;
      }
    }
  }

  /** An event; kinds 0 to 2 are poison: cut off, a user id that is text, an undeclared field. */
  private String event(long number, int kind) {
    String id = "e" + runId + "-" + number;
    String at = Instant.now().toString();
    long user = 1L + random.nextInt(2000);
    if (kind == 0) {
      return "{\"event_id\":\"" + id + "\",\"user_id\":" + user + ",\"page\":"; // cut off
    }
    if (kind == 1) {
      return "{\"event_id\":\"" + id + "\",\"user_id\":\"guest\",\"page\":\"/\"}";
    }
    if (kind == 2) {
      return "{\"event_id\":\"" + id + "\",\"user_id\":" + user + ",\"coupon\":\"XMAS\"}";
    }
    return String.format(
        Locale.ROOT,
        "{\"event_id\":\"%s\",\"user_id\":%d,\"page\":\"%s\",\"country\":\"%s\",\"duration_ms\":%d,"
            + "\"event_time\":\"%s\"}",
        id,
        user,
        PAGES[random.nextInt(PAGES.length)],
        COUNTRIES[random.nextInt(COUNTRIES.length)],
        50 + random.nextInt(5000),
        at);
  }

  /** Stops sending and waits for the thread running it. */
  @Override
  public void close() {
    stop.countDown();
    try {
      finished.await(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
