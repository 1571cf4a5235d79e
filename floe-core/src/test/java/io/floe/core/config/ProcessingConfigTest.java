package io.floe.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import io.floe.core.config.EnrichConfig.Missing;
import io.floe.core.config.QualityRuleConfig.Action;
import io.floe.core.config.QualityRuleConfig.Check;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessingConfigTest {
  private static final String CLICKS =
      """
      pipelines:
        - name: clicks
          source:
            type: http
          target:
            namespace: raw
      """;

  @TempDir Path directory;

  @Test
  void readsEnrichmentTransformAndRules() {
    PipelineConfig pipeline =
        parse(
                CLICKS
                    + """
                      enrich:
                        - table: shop.products
                          key: [id]
                          on: [product_id]
                          columns: [name, price AS list_price]
                          missing: hold
                          hold-for: 30s
                          snapshot-column: products_snapshot
                          memory: 8MB
                        - table: shop.customers
                          key: [id]
                          columns: [country]
                      transform:
                        select: ["*", "lower(email) AS email"]
                        where: "status <> 'test'"
                      quality:
                        - check: not_null
                          columns: [user_id, product_id]
                          action: quarantine
                        - check: range
                          column: list_price
                          min: 0
                          action: block
                        - check: allowed
                          column: status
                          values: [new, paid]
                        - check: regex
                          column: sku
                          pattern: "[A-Z]{2}-\\\\d+"
                        - check: referential
                          column: user_id
                          reference: shop.customers
                          reference-column: id
                        - check: freshness
                          column: event_time
                          max-age: 15m
                        - check: unique
                          columns: [event_id]
                        - check: sql
                          name: sane_total
                          predicate: "qty * list_price < 100000"
                      """
                        .indent(4))
            .pipelines()
            .get(0);
    assertThat(pipeline.enrich())
        .containsExactly(
            new EnrichConfig(
                "shop.products",
                List.of("id"),
                List.of("product_id"),
                List.of(
                    new EnrichConfig.Column("name", "name"),
                    new EnrichConfig.Column("price", "list_price")),
                Missing.HOLD,
                Duration.ofSeconds(30),
                Optional.of("products_snapshot"),
                8L << 20),
            new EnrichConfig(
                "shop.customers",
                List.of("id"),
                List.of("id"),
                List.of(new EnrichConfig.Column("country", "country")),
                Missing.NULLS,
                Duration.ofMinutes(5),
                Optional.empty(),
                64L << 20));
    assertThat(pipeline.transform())
        .contains(
            new TransformConfig(
                List.of("*", "lower(email) AS email"), Optional.of("status <> 'test'")));
    List<QualityRuleConfig> rules = pipeline.quality();
    assertThat(rules)
        .extracting(QualityRuleConfig::name)
        .containsExactly(
            "not_null_user_id",
            "range_list_price",
            "allowed_status",
            "regex_sku",
            "referential_user_id",
            "freshness_event_time",
            "unique_event_id",
            "sane_total");
    assertThat(rules)
        .extracting(QualityRuleConfig::action)
        .containsExactly(
            Action.QUARANTINE,
            Action.BLOCK,
            Action.WARN,
            Action.WARN,
            Action.WARN,
            Action.WARN,
            Action.WARN,
            Action.WARN);
    assertThat(rules.get(0).columns()).containsExactly("user_id", "product_id");
    assertThat(rules.get(1).min()).contains(BigDecimal.ZERO);
    assertThat(rules.get(1).max()).isEmpty();
    assertThat(rules.get(2).values()).containsExactly("new", "paid");
    assertThat(rules.get(3).pattern()).isEqualTo("[A-Z]{2}-\\d+");
    assertThat(rules.get(4).reference()).isEqualTo("shop.customers");
    assertThat(rules.get(4).referenceColumn()).isEqualTo("id");
    assertThat(rules.get(5).maxAge()).isEqualTo(Duration.ofMinutes(15));
    assertThat(rules.get(6).check()).isEqualTo(Check.UNIQUE);
    assertThat(rules.get(6).columns()).containsExactly("event_id");
    assertThat(rules.get(7).predicate()).isEqualTo("qty * list_price < 100000");
  }

  @Test
  void aPipelineWithoutThemHasNone() {
    PipelineConfig pipeline = parse(CLICKS).pipelines().get(0);
    assertThat(pipeline.enrich()).isEmpty();
    assertThat(pipeline.transform()).isEmpty();
    assertThat(pipeline.quality()).isEmpty();
  }

  @Test
  void aWhereAloneKeepsEveryField() {
    PipelineConfig pipeline =
        parse(CLICKS + "    transform:\n      where: \"status <> 'test'\"\n").pipelines().get(0);
    assertThat(pipeline.transform())
        .contains(new TransformConfig(List.of("*"), Optional.of("status <> 'test'")));
  }

  @Test
  void reportsWhatCannotMeanAnything() {
    String problems =
        problems(
            CLICKS
                + """
                  enrich:
                    - table: products
                      key: [id, region]
                      on: [product_id]
                      columns: [name, price AS name]
                      missing: maybe
                  quality:
                    - check: range
                      column: price
                    - check: regex
                      column: sku
                      pattern: "[a-"
                    - check: often
                    - check: not_null
                      columns: [a]
                      table: public.orders
                    - check: not_null
                      columns: [a]
                      column: b
                  """
                    .indent(4));
    assertThat(problems)
        .contains(
            "pipelines[0].enrich[0].table: invalid value 'products'; must be namespace.table",
            "pipelines[0].enrich[0].columns[1]: column name is added already; rename one"
                + " (`column AS name`)",
            "pipelines[0].enrich[0].on: must name one record field per key column: key has 2"
                + " columns (id, region), on has 1",
            "pipelines[0].enrich[0].missing: ",
            "pipelines[0].quality[0]: give min, max or both for a range rule",
            "pipelines[0].quality[1].pattern: invalid value '[a-'; must be a valid Java regular"
                + " expression",
            "pipelines[0].quality[2].check: ",
            "pipelines[0].quality[3].table: a stream pipeline's rules check its one table;"
                + " remove table",
            "pipelines[0].quality[4].column: not a key of check not_null");
  }

  @Test
  void aDatabasePipelineNamesTheTableOfEachRuleAndDoesNotQuarantine() {
    String database =
        """
        pipelines:
          - name: shop
            source:
              type: postgres
              url: jdbc:postgresql://127.0.0.1:5432/shop
              user: floe
              tables: [orders, public.customers]
            enrich:
              - table: shop.products
                key: [id]
                columns: [name]
            quality:
              - check: not_null
                columns: [id]
              - check: not_null
                columns: [id]
                table: public.lines
              - check: not_null
                columns: [id]
                table: orders
                action: quarantine
              - check: not_null
                name: customer_ids
                columns: [id]
                table: customers
                action: block
        """;
    assertThat(problems(database))
        .contains(
            "pipelines[0].enrich: only a stream pipeline (source.type kafka or http) enriches"
                + " records; remove it",
            "pipelines[0].quality[0].table: name the source table whose rows the rule checks",
            "pipelines[0].quality[1].table: public.lines is not a table of source.tables"
                + " [public.orders, public.customers]",
            "pipelines[0].quality[2].action: quarantine sends rows to a dead-letter table")
        .doesNotContain("quality[3]");
  }

  private FloeConfig parse(String yaml) {
    return FloeConfigLoader.parse(yaml, directory, Map.of(), "floe.yaml");
  }

  private String problems(String yaml) {
    FloeException exception = catchThrowableOfType(FloeException.class, () -> parse(yaml));
    assertThat(exception.code()).isEqualTo(ErrorCode.CONFIG_INVALID);
    return exception.getMessage();
  }
}
