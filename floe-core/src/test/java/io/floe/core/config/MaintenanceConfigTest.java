package io.floe.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.MaintenancePolicy.Milestones;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MaintenanceConfigTest {
  private static final MaintenancePolicy DEFAULT_POLICY =
      new MaintenancePolicy(Duration.ofHours(1), 100, Milestones.NONE, Duration.ofDays(3), 20);

  @Test
  void pinsEveryDefault() {
    MaintenanceConfig expected =
        new MaintenanceConfig(true, Duration.ofMinutes(10), DEFAULT_POLICY, List.of());

    assertThat(MaintenanceConfig.defaults()).isEqualTo(expected);
    assertThat(parse("").maintenance()).isEqualTo(expected);
    assertThat(parse("maintenance:\n").maintenance()).isEqualTo(expected);
    assertThat(parse("maintenance: {}\n").maintenance()).isEqualTo(expected);
  }

  @Test
  void readsEveryKey() {
    MaintenanceConfig config =
        parse(
                """
                maintenance:
                  enabled: false
                  interval: 2s
                  expire-older-than: 1d
                  retain-last: 3
                  milestones: monthly
                  orphan-older-than: 1m
                  rewrite-manifests-above: 2
                  tables:
                    - name: raw.*
                      retain-last: 10
                    - name: raw.orders
                      expire-older-than: 0s
                      retain-last: 1
                      milestones: daily
                      orphan-older-than: 2h
                      rewrite-manifests-above: 50
                """)
            .maintenance();

    assertThat(config)
        .isEqualTo(
            new MaintenanceConfig(
                false,
                Duration.ofSeconds(2),
                new MaintenancePolicy(
                    Duration.ofDays(1), 3, Milestones.MONTHLY, Duration.ofMinutes(1), 2),
                List.of(
                    new MaintenanceTableConfig(
                        "raw.*",
                        Optional.empty(),
                        Optional.of(10),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.empty()),
                    new MaintenanceTableConfig(
                        "raw.orders",
                        Optional.of(Duration.ZERO),
                        Optional.of(1),
                        Optional.of(Milestones.DAILY),
                        Optional.of(Duration.ofHours(2)),
                        Optional.of(50)))));
  }

  @Test
  void resolvesTableThenNamespaceThenDefaults() {
    MaintenanceConfig config =
        parse(
                """
                maintenance:
                  retain-last: 7
                  tables:
                    - name: raw.*
                      retain-last: 10
                      milestones: daily
                    - name: raw.orders
                      retain-last: 1
                    - name: other.items
                      rewrite-manifests-above: 5
                """)
            .maintenance();

    assertThat(config.policy("raw", "orders"))
        .isEqualTo(
            new MaintenancePolicy(
                Duration.ofHours(1), 1, Milestones.DAILY, Duration.ofDays(3), 20));
    assertThat(config.policy("raw", "customers"))
        .isEqualTo(
            new MaintenancePolicy(
                Duration.ofHours(1), 10, Milestones.DAILY, Duration.ofDays(3), 20));
    assertThat(config.policy("other", "items"))
        .isEqualTo(
            new MaintenancePolicy(Duration.ofHours(1), 7, Milestones.NONE, Duration.ofDays(3), 5));
    assertThat(config.policy("other", "orders"))
        .isEqualTo(
            new MaintenancePolicy(Duration.ofHours(1), 7, Milestones.NONE, Duration.ofDays(3), 20));
    assertThat(MaintenanceConfig.defaults().policy("raw", "orders")).isEqualTo(DEFAULT_POLICY);
  }

  @Test
  void rejectsBadValuesWithFullKeyPaths() {
    String yaml =
        """
        maintenance:
          enabled: yes
          interval: 500ms
          expire-older-than: PT-1S
          retain-last: 0
          milestones: weekly
          orphan-older-than: 30s
          rewrite-manifests-above: 1
          tables:
            - name: orders
              interval: 1h
            - name: raw.orders
              retain-last: -1
            - name: raw.orders
            - retain-last: 2
        """;

    assertThat(problems(yaml).lines())
        .containsExactly(
            "Cannot load configuration floe.yaml: maintenance.enabled: invalid value 'yes'; write"
                + " true or false",
            "maintenance.interval: must be between 1s and 7d",
            "maintenance.expire-older-than: must be 0s or longer",
            "maintenance.retain-last: invalid value '0'; must be an integer between 1 and "
                + Integer.MAX_VALUE,
            "maintenance.milestones: invalid value 'weekly'; allowed values: none, daily, monthly",
            "maintenance.orphan-older-than: must be 1m or longer, since younger files may belong"
                + " to a commit in progress",
            "maintenance.rewrite-manifests-above: invalid value '1'; must be an integer between 2"
                + " and "
                + Integer.MAX_VALUE,
            "maintenance.tables[0].interval: unknown key; allowed keys: name, expire-older-than,"
                + " retain-last, milestones, orphan-older-than, rewrite-manifests-above",
            "maintenance.tables[0].name: invalid value 'orders'; must be namespace.table, or"
                + " namespace.* for every table of the namespace",
            "maintenance.tables[1].retain-last: invalid value '-1'; must be an integer between 1"
                + " and "
                + Integer.MAX_VALUE,
            "maintenance.tables[3].name: missing required key",
            "maintenance.tables[2].name: duplicate table name 'raw.orders', already used by"
                + " maintenance.tables[1]");
  }

  @Test
  void readsDaysInDurations() {
    assertThat(parse("maintenance:\n  interval: 7d\n").maintenance().interval())
        .isEqualTo(Duration.ofDays(7));
    assertThat(problems("maintenance:\n  interval: 8d\n"))
        .contains("maintenance.interval: must be between 1s and 7d");
  }

  private static FloeConfig parse(String yaml) {
    return FloeConfigLoader.parse(yaml, Path.of("").toAbsolutePath(), Map.of(), "floe.yaml");
  }

  private static String problems(String yaml) {
    FloeException exception = catchThrowableOfType(FloeException.class, () -> parse(yaml));
    assertThat(exception.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
    return exception.getMessage();
  }
}
