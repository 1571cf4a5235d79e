package io.floe.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.EffectiveMaintenancePolicy.Kind;
import io.floe.core.config.EffectiveMaintenancePolicy.Source;
import io.floe.core.config.MaintenancePolicy.Milestones;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MaintenanceConfigTest {
  private static final MaintenancePolicy DEFAULT_POLICY =
      new MaintenancePolicy(
          Duration.ofMinutes(10),
          100,
          Milestones.NONE,
          Duration.ofDays(3),
          20,
          true,
          512L << 20,
          5,
          0.1,
          "");

  @Test
  void pinsEveryDefault() {
    MaintenanceConfig expected =
        new MaintenanceConfig(true, Duration.ofMinutes(1), 1, 64L << 20, Map.of(), List.of());

    assertThat(MaintenancePolicy.defaults()).isEqualTo(DEFAULT_POLICY);
    assertThat(MaintenanceConfig.defaults()).isEqualTo(expected);
    assertThat(MaintenanceConfig.defaults().defaultPolicy()).isEqualTo(DEFAULT_POLICY);
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
                  max-concurrent-tables: 4
                  max-io-rate: 1GiB
                  expire-older-than: 1d
                  retain-last: 3
                  milestones: monthly
                  orphan-older-than: 1m
                  rewrite-manifests-above: 2
                  compact: false
                  target-file-size: 128MB
                  compact-min-input-files: 2
                  compact-delete-ratio: 0.25
                  sort-order: id DESC NULLS LAST, name
                  tables:
                    - name: raw.*
                      retain-last: 10
                    - name: raw.orders
                      expire-older-than: 0s
                      retain-last: 1
                      milestones: daily
                      orphan-older-than: 2h
                      rewrite-manifests-above: 50
                      compact: true
                      target-file-size: 1GB
                      compact-min-input-files: 9
                      compact-delete-ratio: 2
                      sort-order: ''
                """)
            .maintenance();

    MaintenancePolicy section =
        new MaintenancePolicy(
            Duration.ofDays(1),
            3,
            Milestones.MONTHLY,
            Duration.ofMinutes(1),
            2,
            false,
            128L << 20,
            2,
            0.25,
            "id DESC NULLS LAST, name");
    assertThat(config)
        .isEqualTo(
            new MaintenanceConfig(
                false,
                Duration.ofSeconds(2),
                4,
                1L << 30,
                section.values(),
                List.of(
                    new MaintenanceTableConfig(
                        "raw.*", Map.of(MaintenancePolicy.Key.RETAIN_LAST, 10)),
                    new MaintenanceTableConfig(
                        "raw.orders",
                        new MaintenancePolicy(
                                Duration.ZERO,
                                1,
                                Milestones.DAILY,
                                Duration.ofHours(2),
                                50,
                                true,
                                1L << 30,
                                9,
                                2.0,
                                "")
                            .values()))));
    assertThat(config.defaultPolicy()).isEqualTo(section);
  }

  @Test
  void unlimitedIoRateReadsAsZero() {
    assertThat(parse("maintenance:\n  max-io-rate: unlimited\n").maintenance().maxIoRate())
        .isZero();
    assertThat(parse("maintenance:\n  max-io-rate: 0\n").maintenance().maxIoRate()).isZero();
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
            with(
                with(DEFAULT_POLICY, MaintenancePolicy.Key.RETAIN_LAST, 1),
                MaintenancePolicy.Key.MILESTONES,
                Milestones.DAILY));
    assertThat(config.policy("raw", "customers"))
        .isEqualTo(
            with(
                with(DEFAULT_POLICY, MaintenancePolicy.Key.RETAIN_LAST, 10),
                MaintenancePolicy.Key.MILESTONES,
                Milestones.DAILY));
    assertThat(config.policy("other", "items"))
        .isEqualTo(
            with(
                with(DEFAULT_POLICY, MaintenancePolicy.Key.RETAIN_LAST, 7),
                MaintenancePolicy.Key.REWRITE_MANIFESTS_ABOVE,
                5));
    assertThat(config.policy("other", "orders"))
        .isEqualTo(with(DEFAULT_POLICY, MaintenancePolicy.Key.RETAIN_LAST, 7));
    assertThat(MaintenanceConfig.defaults().policy("raw", "orders")).isEqualTo(DEFAULT_POLICY);
  }

  @Test
  void tablePropertyTakesPrecedenceOverEveryConfigLevel() {
    MaintenanceConfig config =
        parse(
                """
                maintenance:
                  retain-last: 7
                  target-file-size: 256MB
                  compact-min-input-files: 3
                  tables:
                    - name: raw.*
                      retain-last: 10
                      target-file-size: 64MB
                      compact: false
                    - name: raw.orders
                      retain-last: 1
                """)
            .maintenance();
    Map<String, String> properties =
        Map.of(
            "floe.maintenance.retain-last", "20",
            "floe.maintenance.target-file-size", " 128MB ",
            "write.format.default", "parquet",
            "floe.maintenance-notes", "ignored: not a floe.maintenance.* property");

    EffectiveMaintenancePolicy effective = config.effectivePolicy("raw", "orders", properties);

    assertThat(effective.table()).isEqualTo("raw.orders");
    MaintenancePolicy policy = effective.policy();
    assertThat(policy.retainLast()).isEqualTo(20);
    assertThat(policy.targetFileSize()).isEqualTo(128L << 20);
    assertThat(policy.compact()).isFalse();
    assertThat(policy.compactMinInputFiles()).isEqualTo(3);
    assertThat(policy.expireOlderThan()).isEqualTo(Duration.ofMinutes(10));
    assertThat(effective.source(MaintenancePolicy.Key.RETAIN_LAST))
        .isEqualTo(new Source(Kind.TABLE_PROPERTY, "floe.maintenance.retain-last"));
    assertThat(effective.source(MaintenancePolicy.Key.TARGET_FILE_SIZE).toString())
        .isEqualTo("table property floe.maintenance.target-file-size");
    assertThat(effective.source(MaintenancePolicy.Key.COMPACT).toString())
        .isEqualTo("config maintenance.tables[0] (raw.*)");
    assertThat(effective.source(MaintenancePolicy.Key.COMPACT_MIN_INPUT_FILES).toString())
        .isEqualTo("config maintenance.compact-min-input-files");
    assertThat(effective.source(MaintenancePolicy.Key.EXPIRE_OLDER_THAN).toString())
        .isEqualTo("default");

    // Without the property, the table's entry wins over its namespace's and the section.
    EffectiveMaintenancePolicy withoutProperties =
        config.effectivePolicy("raw", "orders", Map.of());
    assertThat(withoutProperties.policy().retainLast()).isEqualTo(1);
    assertThat(withoutProperties.source(MaintenancePolicy.Key.RETAIN_LAST).toString())
        .isEqualTo("config maintenance.tables[1] (raw.orders)");
    assertThat(withoutProperties.policy().targetFileSize()).isEqualTo(64L << 20);
    assertThat(config.effectivePolicy("other", "t", Map.of()).policy().targetFileSize())
        .isEqualTo(256L << 20);
  }

  @Test
  void reportsEveryInvalidTablePropertyWithItsValueAndWhatIsAllowed() {
    Map<String, String> properties =
        Map.of(
            "floe.maintenance.retain-last", "many",
            "floe.maintenance.target-file-size", "12XB",
            "floe.maintenance.expire-older-than", "PT-1S",
            "floe.maintenance.retain_last", "5");

    FloeException exception =
        catchThrowableOfType(
            FloeException.class,
            () -> MaintenanceConfig.defaults().effectivePolicy("raw", "orders", properties));

    assertThat(exception.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
    assertThat(exception.getMessage())
        .startsWith("Cannot read the maintenance policy of table raw.orders: ")
        .contains(
            "table property floe.maintenance.retain-last has the invalid value 'many' (must be"
                + " an integer between 1 and 2147483647)")
        .contains(
            "table property floe.maintenance.target-file-size has the invalid value '12XB'"
                + " (write a whole number of bytes")
        .contains(
            "table property floe.maintenance.expire-older-than has the invalid value 'PT-1S'"
                + " (must be 0s or longer)")
        .contains(
            "table property floe.maintenance.retain_last is unknown (the maintenance properties"
                + " are floe.maintenance.expire-older-than, floe.maintenance.retain-last,")
        .endsWith(
            "Set valid values (floe maintain policy raw.orders --set key=value) or remove the"
                + " properties (--unset key)");
  }

  @Test
  void optionsOverrideThePolicyWithTheSameRules() {
    EffectiveMaintenancePolicy effective =
        MaintenanceConfig.defaults().effectivePolicy("raw", "orders", Map.of());

    EffectiveMaintenancePolicy withOption =
        effective.with(MaintenancePolicy.Key.TARGET_FILE_SIZE, "1GiB", "--target-file-size");

    assertThat(withOption.policy().targetFileSize()).isEqualTo(1L << 30);
    assertThat(withOption.source(MaintenancePolicy.Key.TARGET_FILE_SIZE).toString())
        .isEqualTo("option --target-file-size");
    assertThat(withOption.policy().text(MaintenancePolicy.Key.TARGET_FILE_SIZE)).isEqualTo("1GB");
    FloeException badRatio =
        catchThrowableOfType(
            FloeException.class,
            () -> effective.with(MaintenancePolicy.Key.COMPACT_DELETE_RATIO, "0", "--ratio"));
    assertThat(badRatio.getMessage()).isEqualTo("Cannot use --ratio 0: must be greater than 0");
    FloeException badSort =
        catchThrowableOfType(
            FloeException.class,
            () -> effective.with(MaintenancePolicy.Key.SORT_ORDER, "id SIDEWAYS", "--sort-order"));
    assertThat(badSort.getMessage())
        .startsWith("Cannot use --sort-order id SIDEWAYS: must be empty, or columns separated");
    assertThat(
            effective
                .with(MaintenancePolicy.Key.SORT_ORDER, "a.b asc nulls first, c", "x")
                .policy()
                .sortOrder())
        .isEqualTo("a.b asc nulls first, c");
  }

  @Test
  void writesValuesAsTheConfigurationDoes() {
    MaintenancePolicy policy =
        with(
            with(DEFAULT_POLICY, MaintenancePolicy.Key.EXPIRE_OLDER_THAN, Duration.ofMinutes(90)),
            MaintenancePolicy.Key.TARGET_FILE_SIZE,
            1000L);

    assertThat(policy.text(MaintenancePolicy.Key.EXPIRE_OLDER_THAN)).isEqualTo("90m");
    assertThat(policy.text(MaintenancePolicy.Key.ORPHAN_OLDER_THAN)).isEqualTo("3d");
    assertThat(policy.text(MaintenancePolicy.Key.TARGET_FILE_SIZE)).isEqualTo("1000");
    assertThat(DEFAULT_POLICY.text(MaintenancePolicy.Key.TARGET_FILE_SIZE)).isEqualTo("512MB");
    assertThat(policy.text(MaintenancePolicy.Key.MILESTONES)).isEqualTo("none");
    assertThat(policy.text(MaintenancePolicy.Key.COMPACT_DELETE_RATIO)).isEqualTo("0.1");
    assertThat(policy.text(MaintenancePolicy.Key.COMPACT)).isEqualTo("true");
    assertThat(policy.text(MaintenancePolicy.Key.SORT_ORDER)).isEmpty();
    for (MaintenancePolicy.Key key : MaintenancePolicy.Key.values()) {
      assertThat(
              MaintenanceConfig.defaults()
                  .effectivePolicy("a", "b", Map.of(key.tableProperty(), policy.text(key)))
                  .policy()
                  .value(key))
          .as("%s read back from its text", key)
          .isEqualTo(policy.value(key));
    }
  }

  @Test
  void rejectsBadValuesWithFullKeyPaths() {
    String yaml =
        """
        maintenance:
          enabled: yes
          interval: 500ms
          max-concurrent-tables: 0
          max-io-rate: fast
          expire-older-than: PT-1S
          retain-last: 0
          milestones: weekly
          orphan-older-than: 30s
          rewrite-manifests-above: 1
          compact: on
          target-file-size: 0
          compact-min-input-files: 0
          compact-delete-ratio: 0
          sort-order: id up
          tables:
            - name: orders
              interval: 1h
            - name: raw.orders
              retain-last: -1
              compact-delete-ratio: -1
            - name: raw.orders
            - retain-last: 2
        """;

    assertThat(problems(yaml).lines())
        .containsExactly(
            "Cannot load configuration floe.yaml: maintenance.enabled: invalid value 'yes'; write"
                + " true or false",
            "maintenance.interval: must be between 1s and 7d",
            "maintenance.max-concurrent-tables: invalid value '0'; must be an integer between 1"
                + " and 64",
            "maintenance.max-io-rate: invalid value 'fast'; write unlimited or a whole number of"
                + " bytes, optionally followed by B, KB, MB, GB or TB (or KiB, MiB, GiB, TiB) in"
                + " any case (binary multiples: 1KB = 1KiB = 1024 bytes), such as 512MB, 1GiB or"
                + " 10GB",
            "maintenance.expire-older-than: must be 0s or longer",
            "maintenance.retain-last: invalid value '0'; must be an integer between 1 and "
                + Integer.MAX_VALUE,
            "maintenance.milestones: invalid value 'weekly'; allowed values: none, daily, monthly",
            "maintenance.orphan-older-than: must be 1m or longer, since younger files may belong"
                + " to a commit in progress",
            "maintenance.rewrite-manifests-above: invalid value '1'; must be an integer between 2"
                + " and "
                + Integer.MAX_VALUE,
            "maintenance.compact: invalid value 'on'; write true or false",
            "maintenance.target-file-size: must be greater than 0",
            "maintenance.compact-min-input-files: invalid value '0'; must be an integer between 1"
                + " and "
                + Integer.MAX_VALUE,
            "maintenance.compact-delete-ratio: must be greater than 0",
            "maintenance.sort-order: invalid value 'id up'; must be empty, or columns separated by"
                + " commas, each optionally followed by ASC or DESC and by NULLS FIRST or NULLS"
                + " LAST (such as id DESC NULLS LAST, name)",
            "maintenance.tables[0].interval: unknown key; allowed keys: name, expire-older-than,"
                + " retain-last, milestones, orphan-older-than, rewrite-manifests-above, compact,"
                + " target-file-size, compact-min-input-files, compact-delete-ratio, sort-order",
            "maintenance.tables[0].name: invalid value 'orders'; must be namespace.table, or"
                + " namespace.* for every table of the namespace",
            "maintenance.tables[1].retain-last: invalid value '-1'; must be an integer between 1"
                + " and "
                + Integer.MAX_VALUE,
            "maintenance.tables[1].compact-delete-ratio: invalid value '-1'; write a number such"
                + " as 0.1 or 2",
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

  private static MaintenancePolicy with(
      MaintenancePolicy policy, MaintenancePolicy.Key key, Object value) {
    Map<MaintenancePolicy.Key, Object> values = new EnumMap<>(policy.values());
    values.put(key, value);
    return MaintenancePolicy.of(values);
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
