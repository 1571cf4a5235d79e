-- SQL conformance cases: see io.floe.sql.conformance.ConformanceCase for the format.
-- Without "-- expected:", the same SQL runs on the plain DuckDB, whose shop.* tables hold the
-- expected current state; hist.<table>_v<N> hold the state after commit N, meta.<table>_<kind>
-- the metadata tables as Iceberg's Java API describes them.

-- ============================================================== projections

-- name: projection/all_customers
SELECT * FROM shop.customers

-- name: projection/all_orders
SELECT * FROM shop.orders

-- name: projection/all_items
SELECT * FROM shop.items

-- name: projection/expressions
SELECT id, amount * qty AS total, upper(status) AS status_upper, qty + 1 AS qty_plus_one,
       amount / 3 AS third, coalesce(note, '-') AS note_or_dash
FROM shop.orders

-- name: projection/qualified_by_alias
SELECT o.id, o.amount, o.status FROM shop.orders o WHERE o.qty >= 9

-- name: projection/qualified_by_table_name
SELECT orders.id, orders.amount, orders.created_at FROM shop.orders WHERE orders.qty <= 2

-- name: projection/qualified_by_full_name
SELECT shop.orders.id, shop.orders.status FROM shop.orders WHERE shop.orders.amount < 50

-- ============================================================== filters

-- name: filter/bigint_equals
SELECT * FROM shop.orders WHERE customer_id = 17

-- name: filter/bigint_range
SELECT id, customer_id FROM shop.orders WHERE id > 19500 AND id <= 19750

-- name: filter/decimal_greater
SELECT id, amount FROM shop.orders WHERE amount > 1950.50

-- name: filter/decimal_between
SELECT id, amount FROM shop.orders WHERE amount BETWEEN 100.00 AND 110.99

-- name: filter/decimal_equals
SELECT id FROM shop.orders WHERE amount = 1234.56 OR amount = 999.99 OR amount = 10.00
-- empty

-- name: filter/integer
SELECT id, qty FROM shop.orders WHERE qty = 7

-- name: filter/double
SELECT order_id, line, price FROM shop.items WHERE price > 495.5

-- name: filter/date
SELECT id, name, signup FROM shop.customers
WHERE signup >= DATE '2023-06-01' AND signup < DATE '2023-07-01'

-- name: filter/timestamptz
SELECT id, created_at FROM shop.orders
WHERE created_at >= TIMESTAMPTZ '2024-03-01 00:00:00+00'
  AND created_at < TIMESTAMPTZ '2024-03-08 12:30:00.5+00'

-- name: filter/timestamptz_other_zone
SELECT id FROM shop.orders WHERE created_at < TIMESTAMPTZ '2023-01-03 08:00:00-05:00'

-- name: filter/string_like_prefix
SELECT id, name FROM shop.customers WHERE name LIKE 'Ma%'

-- name: filter/string_like_infix
SELECT id, note FROM shop.orders WHERE note LIKE '%door%'

-- name: filter/string_like_escape
SELECT id, note FROM shop.orders WHERE note LIKE '%\%%' ESCAPE '\' OR note LIKE '%\_%' ESCAPE '\'

-- name: filter/string_ilike
SELECT id FROM shop.customers WHERE name ILIKE '%SMITH'

-- name: filter/boolean_true
SELECT id, name FROM shop.customers WHERE vip

-- name: filter/boolean_false_and_string
SELECT id FROM shop.customers WHERE NOT vip AND region = 'north'

-- name: filter/is_null
SELECT id, status FROM shop.orders WHERE note IS NULL

-- name: filter/is_not_null
SELECT id, note FROM shop.orders WHERE note IS NOT NULL AND qty = 1

-- name: filter/region_is_null
SELECT id, name FROM shop.customers WHERE region IS NULL

-- name: filter/in_list
SELECT id, status, qty FROM shop.orders WHERE status IN ('paid', 'shipped') AND qty IN (1, 2)

-- name: filter/not_in_list
SELECT id FROM shop.orders WHERE status NOT IN ('pending', 'paid', 'shipped', 'delivered')

-- name: filter/between_int
SELECT id FROM shop.orders WHERE qty BETWEEN 3 AND 4 AND amount < 100

-- name: filter/or_and_combination
SELECT id FROM shop.orders
WHERE (status = 'cancelled' AND amount > 1500) OR (status = 'returned' AND note IS NOT NULL AND qty > 8)

-- ============================================================== filter edge cases (pushdown into Iceberg planning must not lose or keep rows)

-- name: pushdown/not_equal_excludes_nulls
SELECT id, note FROM shop.orders WHERE note <> 'fragile'

-- name: pushdown/is_distinct_from
SELECT id FROM shop.orders WHERE note IS DISTINCT FROM 'fragile' AND qty = 4

-- name: pushdown/negation
SELECT id FROM shop.orders WHERE NOT (qty < 9 OR amount < 1000)

-- name: pushdown/boolean_comparisons
SELECT id FROM shop.customers WHERE vip = false AND region IS NOT NULL AND vip IS NOT TRUE

-- name: pushdown/decimal_literal_with_more_scale
SELECT id, amount FROM shop.orders WHERE amount > 1990.005 OR amount <= 1.011

-- name: pushdown/integer_vs_fractional_literal
SELECT id, qty FROM shop.orders WHERE qty > 8.5 AND customer_id < 100

-- name: pushdown/decimal_in_list
SELECT id FROM shop.orders WHERE amount IN (100.00, 1999.99, 500.5, 1000) OR id IN (1, 2, 3, 18001, 19999, 50001)
-- empty

-- name: pushdown/string_range
SELECT id, status FROM shop.orders WHERE status >= 'pa' AND status < 'pe'

-- name: pushdown/string_literal_as_timestamp
SELECT id FROM shop.orders WHERE created_at > '2024-12-30 12:00:00' AND created_at <= '2024-12-31 23:59:59.999999+00'

-- name: pushdown/string_literal_as_date
SELECT id, name FROM shop.customers WHERE signup = '2022-02-28' OR signup BETWEEN '2024-12-25' AND '2024-12-31'

-- name: pushdown/function_of_column
SELECT id FROM shop.orders WHERE CAST(created_at AS DATE) = DATE '2024-02-29' OR CAST(amount AS INTEGER) = 77

-- name: pushdown/id_ranges_across_commits
SELECT id, status, amount FROM shop.orders WHERE id BETWEEN 17990 AND 18010 OR id >= 19995

-- name: pushdown/empty_range
SELECT count(*), sum(amount) FROM shop.orders WHERE id BETWEEN 100 AND 50

-- name: pushdown/contradiction
SELECT id FROM shop.orders WHERE qty > 5 AND qty < 3
-- empty

-- name: pushdown/items_composite_key_point
SELECT * FROM shop.items WHERE order_id = 4242 AND line = 2 OR (order_id = 18500 AND line >= 1)

-- name: pushdown/time_travel_with_filter
SELECT id, amount FROM shop.orders FOR VERSION AS OF ${orders.v1} WHERE id > 17900 OR amount > 1995
-- expected:
SELECT id, amount FROM hist.orders_v1 WHERE id > 17900 OR amount > 1995

-- name: pushdown/time_travel_filter_on_changed_rows
SELECT o.id, o.status FROM shop.orders FOR VERSION AS OF ${orders.v2} o WHERE o.status = 'returned' AND o.note IS NULL
-- expected:
SELECT o.id, o.status FROM hist.orders_v2 o WHERE o.status = 'returned' AND o.note IS NULL

-- ============================================================== order / limit / offset

-- name: order/top_amounts
-- ordered
SELECT id, amount FROM shop.orders ORDER BY amount DESC, id LIMIT 10

-- name: order/limit_offset_timestamp
-- ordered
SELECT id, created_at FROM shop.orders ORDER BY created_at, id LIMIT 5 OFFSET 10

-- name: order/names_page
-- ordered
SELECT id, name FROM shop.customers ORDER BY name, id LIMIT 20 OFFSET 100

-- name: order/nulls_first
-- ordered
SELECT id, note FROM shop.orders ORDER BY note NULLS FIRST, id LIMIT 50 OFFSET 200

-- name: order/nulls_last_desc
-- ordered
SELECT id, note FROM shop.orders ORDER BY note DESC NULLS LAST, id DESC LIMIT 30

-- name: order/by_expression
-- ordered
SELECT id, amount * qty AS total FROM shop.orders ORDER BY amount * qty DESC, id LIMIT 10

-- name: order/by_position_whole_table
-- ordered
SELECT order_id, line, price FROM shop.items ORDER BY 1, 2

-- ============================================================== distinct

-- name: distinct/status
SELECT DISTINCT status FROM shop.orders

-- name: distinct/region_vip
SELECT DISTINCT region, vip FROM shop.customers

-- name: distinct/sku_count
SELECT count(DISTINCT sku), count(DISTINCT order_id) FROM shop.items

-- ============================================================== aggregates

-- name: aggregate/orders_totals
SELECT count(*), count(note), sum(amount), avg(amount), min(amount), max(amount),
       min(created_at), max(created_at), sum(qty)
FROM shop.orders

-- name: aggregate/items_totals
SELECT count(*), sum(price), avg(price), min(price), max(price), count(DISTINCT sku)
FROM shop.items

-- name: aggregate/customers_totals
SELECT count(*), count(region), min(signup), max(signup), max(name), bool_or(vip), bool_and(vip),
       count(*) FILTER (WHERE vip)
FROM shop.customers

-- name: aggregate/string_agg_ordered
SELECT customer_id, string_agg(CAST(id AS VARCHAR), ',' ORDER BY id) AS ids,
       string_agg(DISTINCT status, '|' ORDER BY status) AS statuses
FROM shop.orders WHERE customer_id < 60 GROUP BY customer_id

-- name: aggregate/list_and_median
SELECT status, median(amount), quantile_disc(qty, 0.9), list(id ORDER BY id)[1] AS first_id
FROM shop.orders GROUP BY status

-- name: aggregate/stddev
SELECT sku, count(*), stddev_samp(price), var_pop(price) FROM shop.items GROUP BY sku HAVING count(*) > 20

-- ============================================================== group by / having / grouping sets

-- name: group/by_status
SELECT status, count(*), sum(amount), avg(qty) FROM shop.orders GROUP BY status

-- name: group/having
SELECT customer_id, count(*) AS n, sum(amount) FROM shop.orders GROUP BY customer_id HAVING count(*) > 14

-- name: group/by_two_columns
SELECT region, vip, count(*) FROM shop.customers GROUP BY region, vip

-- name: group/by_month
-- ordered
SELECT date_trunc('month', created_at) AS month, count(*), sum(amount)
FROM shop.orders GROUP BY 1 ORDER BY 1

-- name: group/grouping_sets
SELECT status, qty, count(*), sum(amount), grouping(status, qty)
FROM shop.orders GROUP BY GROUPING SETS ((status), (qty), ())

-- name: group/rollup
SELECT region, vip, count(*) FROM shop.customers GROUP BY ROLLUP (region, vip)

-- name: group/cube
SELECT status, note IS NULL AS no_note, count(*) FROM shop.orders GROUP BY CUBE (status, note IS NULL)

-- ============================================================== joins

-- name: join/inner_region_revenue
SELECT c.region, count(*), sum(o.amount)
FROM shop.orders o JOIN shop.customers c ON o.customer_id = c.id
GROUP BY c.region

-- name: join/inner_bare_table_names
SELECT orders.id, customers.name, orders.amount
FROM shop.orders JOIN shop.customers ON orders.customer_id = customers.id
WHERE customers.vip AND orders.amount > 1800

-- name: join/left_customers_without_orders
SELECT c.id, c.name, count(o.id) AS orders
FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id
GROUP BY c.id, c.name

-- name: join/right
SELECT o.id AS order_id, c.id AS customer_id
FROM shop.orders o RIGHT JOIN shop.customers c ON o.customer_id = c.id AND o.qty = 10
WHERE c.id < 300

-- name: join/full_outer
SELECT coalesce(c.id, o.customer_id) AS customer, count(DISTINCT c.id) AS known, count(o.id) AS orders
FROM shop.customers c FULL OUTER JOIN shop.orders o ON o.customer_id = c.id
GROUP BY 1

-- name: join/full_outer_unmatched
SELECT c.id, o.id FROM shop.customers c FULL JOIN shop.orders o ON o.customer_id = c.id
WHERE c.id IS NULL OR o.id IS NULL

-- name: join/semi_exists
SELECT c.id FROM shop.customers c
WHERE EXISTS (SELECT 1 FROM shop.orders o WHERE o.customer_id = c.id AND o.status = 'returned')

-- name: join/semi_in
SELECT id, name FROM shop.customers
WHERE id IN (SELECT customer_id FROM shop.orders WHERE amount > 1990)

-- name: join/anti_not_exists
SELECT o.id, o.customer_id FROM shop.orders o
WHERE NOT EXISTS (SELECT 1 FROM shop.customers c WHERE c.id = o.customer_id)

-- name: join/anti_orders_without_items
SELECT id FROM shop.orders WHERE id NOT IN (SELECT order_id FROM shop.items)

-- name: join/self_same_name
SELECT a.id, b.id, a.name FROM shop.customers a JOIN shop.customers b ON a.name = b.name AND a.id < b.id
WHERE a.region = b.region

-- name: join/three_way
SELECT c.region, o.status, count(*) AS lines, sum(i.price) AS revenue
FROM shop.customers c
JOIN shop.orders o ON o.customer_id = c.id
JOIN shop.items i ON i.order_id = o.id
GROUP BY c.region, o.status

-- name: join/using
SELECT id, o.amount FROM shop.orders o JOIN (SELECT order_id AS id, max(line) AS lines FROM shop.items GROUP BY order_id) l USING (id)
WHERE l.lines >= 5

-- name: join/items_composite_key
SELECT a.order_id, a.line, b.line FROM shop.items a JOIN shop.items b
ON a.order_id = b.order_id AND a.line + 1 = b.line AND a.sku = b.sku

-- ============================================================== subqueries

-- name: subquery/scalar
SELECT id, amount FROM shop.orders WHERE amount > (SELECT avg(amount) * 1.9 FROM shop.orders)

-- name: subquery/correlated_where
SELECT o.id, o.amount FROM shop.orders o
WHERE o.amount > (SELECT 2 * avg(x.amount) FROM shop.orders x WHERE x.customer_id = o.customer_id)

-- name: subquery/correlated_select
SELECT c.id, (SELECT count(*) FROM shop.orders o WHERE o.customer_id = c.id) AS orders,
       (SELECT max(o.created_at) FROM shop.orders o WHERE o.customer_id = c.id) AS last_order
FROM shop.customers c WHERE c.vip

-- name: subquery/derived_table
SELECT bucket, count(*) FROM (
  SELECT id, CASE WHEN amount < 500 THEN 'small' WHEN amount < 1500 THEN 'medium' ELSE 'large' END AS bucket
  FROM shop.orders
) t GROUP BY bucket

-- name: subquery/in_aggregate
SELECT id, customer_id FROM shop.orders
WHERE customer_id IN (SELECT customer_id FROM shop.orders GROUP BY customer_id HAVING sum(amount) > 20000)

-- ============================================================== CTEs

-- name: cte/simple
WITH big AS (SELECT * FROM shop.orders WHERE amount > 1900)
SELECT status, count(*) FROM big GROUP BY status

-- name: cte/used_twice
WITH per_customer AS (
  SELECT customer_id, sum(amount) AS total FROM shop.orders GROUP BY customer_id
)
SELECT a.customer_id, a.total FROM per_customer a
WHERE a.total > (SELECT avg(total) * 2 FROM per_customer)

-- name: cte/chained
WITH lines AS (SELECT order_id, sum(price) AS value, count(*) AS n FROM shop.items GROUP BY order_id),
     enriched AS (SELECT o.id, o.customer_id, l.value, l.n FROM shop.orders o JOIN lines l ON l.order_id = o.id)
SELECT customer_id, sum(value), sum(n) FROM enriched GROUP BY customer_id

-- name: cte/self_join
WITH monthly AS (
  SELECT date_trunc('month', created_at) AS m, sum(amount) AS total FROM shop.orders GROUP BY 1
)
SELECT cur.m, cur.total, prev.total AS previous
FROM monthly cur LEFT JOIN monthly prev ON prev.m = cur.m - INTERVAL 1 MONTH

-- ============================================================== window functions

-- name: window/row_number_per_customer
SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id ORDER BY created_at, id) AS n
FROM shop.orders

-- name: window/rank_dense_rank
SELECT id, status, amount,
       rank() OVER (PARTITION BY status ORDER BY amount DESC) AS r,
       dense_rank() OVER (PARTITION BY status ORDER BY amount DESC) AS dr
FROM shop.orders

-- name: window/running_sum
SELECT id, customer_id,
       sum(amount) OVER (PARTITION BY customer_id ORDER BY created_at, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running
FROM shop.orders

-- name: window/lag_lead
SELECT id, customer_id,
       lag(amount) OVER w AS previous_amount,
       lead(id, 2) OVER w AS second_next,
       first_value(status) OVER w AS first_status
FROM shop.orders
WINDOW w AS (PARTITION BY customer_id ORDER BY created_at, id)

-- name: window/over_aggregate
SELECT status, sum(amount) AS total, sum(amount) / sum(sum(amount)) OVER () AS share,
       rank() OVER (ORDER BY sum(amount) DESC) AS r
FROM shop.orders GROUP BY status

-- name: window/qualify_latest_order
SELECT id, customer_id, created_at FROM shop.orders
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY created_at DESC, id DESC) = 1

-- name: window/qualify_top_items
SELECT order_id, line, price FROM shop.items
QUALIFY rank() OVER (PARTITION BY sku ORDER BY price DESC) <= 2

-- name: window/ntile_and_moving_average
SELECT id, ntile(4) OVER (ORDER BY amount, id) AS quartile,
       avg(amount) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) AS moving
FROM shop.orders

-- ============================================================== set operations

-- name: set/union
SELECT customer_id AS id FROM shop.orders WHERE amount > 1900
UNION
SELECT id FROM shop.customers WHERE vip AND region = 'east'

-- name: set/union_all
SELECT 'order' AS kind, id FROM shop.orders WHERE qty = 10
UNION ALL
SELECT 'item', order_id FROM shop.items WHERE price > 490

-- name: set/intersect
SELECT customer_id FROM shop.orders WHERE status = 'returned'
INTERSECT
SELECT customer_id FROM shop.orders WHERE status = 'cancelled'

-- name: set/except
SELECT id FROM shop.customers
EXCEPT
SELECT customer_id FROM shop.orders WHERE status IN ('returned', 'cancelled')

-- name: set/except_all
SELECT customer_id FROM shop.orders
EXCEPT ALL
SELECT customer_id FROM shop.orders WHERE qty > 1

-- name: set/union_ordered
-- ordered
SELECT id, 'customer' AS kind FROM shop.customers WHERE id <= 5
UNION ALL
SELECT id, 'order' FROM shop.orders WHERE id <= 5
ORDER BY kind DESC, id

-- ============================================================== CASE and casts

-- name: case/searched
SELECT id,
       CASE WHEN amount >= 1000 AND qty > 5 THEN 'big' WHEN note IS NULL THEN 'plain' ELSE 'other' END AS kind,
       CASE status WHEN 'paid' THEN 1 WHEN 'shipped' THEN 2 ELSE 0 END AS code
FROM shop.orders

-- name: case/in_aggregate
SELECT customer_id, sum(CASE WHEN status = 'returned' THEN amount ELSE 0 END) AS returned,
       count(CASE WHEN note IS NOT NULL THEN 1 END) AS with_note
FROM shop.orders GROUP BY customer_id

-- name: cast/numbers_and_text
SELECT id, CAST(amount AS INTEGER), CAST(amount AS DOUBLE), CAST(id AS VARCHAR) || '#',
       CAST(qty AS DECIMAL(5, 1)), TRY_CAST(note AS INTEGER), amount::VARCHAR
FROM shop.orders WHERE id % 7 = 0

-- name: cast/timestamps_and_dates
SELECT id, CAST(created_at AS DATE), CAST(created_at AS VARCHAR), CAST(CAST(created_at AS DATE) AS TIMESTAMP)
FROM shop.orders WHERE id % 11 = 0

-- name: cast/price_rounding
SELECT order_id, line, round(price, 2), floor(price), ceil(price), CAST(price AS DECIMAL(10, 3))
FROM shop.items WHERE order_id % 13 = 0

-- ============================================================== date functions

-- name: date/trunc_and_extract
SELECT extract(year FROM created_at) AS y, extract(quarter FROM created_at) AS q, count(*)
FROM shop.orders GROUP BY 1, 2

-- name: date/week_and_dow
SELECT date_trunc('week', created_at) AS week, dayofweek(created_at) AS dow, count(*)
FROM shop.orders WHERE created_at < TIMESTAMPTZ '2023-04-01 00:00:00+00' GROUP BY 1, 2

-- name: date/hour_histogram
SELECT extract(hour FROM created_at) AS h, count(*), avg(amount) FROM shop.orders GROUP BY 1

-- name: date/signup_arithmetic
SELECT id, signup + INTERVAL 30 DAY AS trial_end, date_diff('day', signup, DATE '2025-01-01') AS days,
       strftime(signup, '%Y/%m') AS ym, extract(dow FROM signup) AS dow
FROM shop.customers

-- name: date/days_between_signup_and_order
SELECT o.id, date_diff('day', c.signup, CAST(o.created_at AS DATE)) AS days
FROM shop.orders o JOIN shop.customers c ON c.id = o.customer_id WHERE o.qty = 3

-- ============================================================== string functions

-- name: string/functions
SELECT id, lower(name), length(name), substring(name, 1, 3), split_part(name, ' ', 2) AS last,
       concat(region, '-', id), replace(name, 'a', 'A'), lpad(CAST(id AS VARCHAR), 6, '0'),
       starts_with(name, 'M'), reverse(name)
FROM shop.customers

-- name: string/regexp
SELECT order_id, line, regexp_extract(sku, '[0-9]+') AS digits, regexp_matches(sku, '-00') AS low
FROM shop.items WHERE order_id < 2000

-- name: string/group_by_initial
SELECT left(name, 1) AS initial, count(*) FROM shop.customers GROUP BY 1

-- name: string/note_words
SELECT note, count(*), length(note) - length(replace(note, ' ', '')) + 1 AS words
FROM shop.orders WHERE note IS NOT NULL GROUP BY note

-- ============================================================== how tables may be written

-- name: syntax/from_first
FROM shop.orders SELECT status, count(*) GROUP BY status

-- name: syntax/table_statement
TABLE shop.customers

-- name: syntax/quoted_and_mixed_case_names
SELECT count(*), sum(o.amount) FROM "shop"."orders" o JOIN SHOP.Customers c ON c.id = o.customer_id

-- name: syntax/comma_join
SELECT o.id, c.region FROM shop.orders o, shop.customers c WHERE c.id = o.customer_id AND o.amount > 1990

-- name: syntax/cte_named_like_the_table
WITH orders AS (SELECT * FROM shop.orders WHERE qty = 1)
SELECT status, count(*) FROM orders GROUP BY status

-- name: syntax/table_name_in_string_and_comment
SELECT 'shop.orders FOR VERSION AS OF 1' AS text, count(*) /* shop.items */ FROM shop.orders

-- name: syntax/subquery_alias_like_a_namespace
SELECT shop_orders.status, count(*) FROM (SELECT * FROM shop.orders) AS shop_orders GROUP BY 1

-- ============================================================== time travel by snapshot id

-- name: timetravel/for_version_as_of_v1
SELECT * FROM shop.orders FOR VERSION AS OF ${orders.v1}
-- expected:
SELECT * FROM hist.orders_v1

-- name: timetravel/for_system_version_as_of_v3
SELECT * FROM shop.orders FOR SYSTEM_VERSION AS OF ${orders.v3}
-- expected:
SELECT * FROM hist.orders_v3

-- name: timetravel/spark_version_as_of_v4
SELECT * FROM shop.orders VERSION AS OF ${orders.v4}
-- expected:
SELECT * FROM hist.orders_v4

-- name: timetravel/for_version_as_of_current
SELECT * FROM shop.orders FOR VERSION AS OF ${orders.v7}
-- expected:
SELECT * FROM shop.orders

-- name: timetravel/after_writer_compaction_v6
SELECT * FROM shop.orders FOR VERSION AS OF ${orders.v6}
-- expected:
SELECT * FROM hist.orders_v6

-- name: timetravel/items_before_and_after_compaction
SELECT a.order_id, a.line, a.price AS before, b.price AS after
FROM shop.items FOR VERSION AS OF ${items.v5} a
FULL JOIN shop.items FOR VERSION AS OF ${items.v6} b ON a.order_id = b.order_id AND a.line = b.line
WHERE a.price IS DISTINCT FROM b.price
-- expected:
SELECT a.order_id, a.line, a.price AS before, b.price AS after
FROM hist.items_v5 a FULL JOIN hist.items_v6 b ON a.order_id = b.order_id AND a.line = b.line
WHERE a.price IS DISTINCT FROM b.price

-- name: timetravel/customers_v2
SELECT * FROM shop.customers FOR VERSION AS OF ${customers.v2}
-- expected:
SELECT * FROM hist.customers_v2

-- name: timetravel/items_v5
SELECT * FROM shop.items FOR VERSION AS OF ${items.v5}
-- expected:
SELECT * FROM hist.items_v5

-- name: timetravel/aggregate_v2
SELECT status, count(*), sum(amount) FROM shop.orders FOR VERSION AS OF ${orders.v2} GROUP BY status
-- expected:
SELECT status, count(*), sum(amount) FROM hist.orders_v2 GROUP BY status

-- name: timetravel/with_alias
SELECT o.id, o.qty, o.amount FROM shop.orders FOR VERSION AS OF ${orders.v4} o WHERE o.qty > 2
-- expected:
SELECT o.id, o.qty, o.amount FROM hist.orders_v4 o WHERE o.qty > 2

-- name: timetravel/with_as_alias
SELECT x.id FROM shop.orders FOR VERSION AS OF ${orders.v5} AS x WHERE x.status = 'paid'
-- expected:
SELECT x.id FROM hist.orders_v5 AS x WHERE x.status = 'paid'

-- name: timetravel/amount_changed_since_v2
SELECT o.id, prev.amount AS amount_then, o.amount AS amount_now
FROM shop.orders o JOIN shop.orders FOR VERSION AS OF ${orders.v2} prev ON prev.id = o.id
WHERE o.amount <> prev.amount
-- expected:
SELECT o.id, prev.amount AS amount_then, o.amount AS amount_now
FROM shop.orders o JOIN hist.orders_v2 prev ON prev.id = o.id
WHERE o.amount <> prev.amount

-- name: timetravel/status_changed_between_v1_and_v3
SELECT a.status AS before, b.status AS after, count(*)
FROM shop.orders FOR VERSION AS OF ${orders.v1} a
JOIN shop.orders FOR VERSION AS OF ${orders.v3} b ON a.id = b.id
WHERE a.status <> b.status GROUP BY 1, 2
-- expected:
SELECT a.status AS before, b.status AS after, count(*)
FROM hist.orders_v1 a JOIN hist.orders_v3 b ON a.id = b.id
WHERE a.status <> b.status GROUP BY 1, 2

-- name: timetravel/deleted_since_v1
SELECT id FROM shop.orders FOR VERSION AS OF ${orders.v1}
EXCEPT
SELECT id FROM shop.orders
-- expected:
SELECT id FROM hist.orders_v1 EXCEPT SELECT id FROM shop.orders

-- name: timetravel/two_tables_same_commit
SELECT c.region, count(*) FROM shop.orders FOR VERSION AS OF ${orders.v2} o
JOIN shop.customers FOR VERSION AS OF ${customers.v2} c ON c.id = o.customer_id
GROUP BY c.region
-- expected:
SELECT c.region, count(*) FROM hist.orders_v2 o JOIN hist.customers_v2 c ON c.id = o.customer_id
GROUP BY c.region

-- name: timetravel/in_cte_and_subquery
WITH old AS (SELECT * FROM shop.orders FOR VERSION AS OF ${orders.v3})
SELECT count(*), sum(amount) FROM old
WHERE id IN (SELECT order_id FROM shop.items VERSION AS OF ${items.v3} WHERE price > 400)
-- expected:
WITH old AS (SELECT * FROM hist.orders_v3)
SELECT count(*), sum(amount) FROM old
WHERE id IN (SELECT order_id FROM hist.items_v3 WHERE price > 400)

-- name: timetravel/lower_case_over_lines
select count(*), sum(amount)
from shop.orders
  for version
  as of ${orders.v5}
where qty > 1
-- expected:
SELECT count(*), sum(amount) FROM hist.orders_v5 WHERE qty > 1

-- name: timetravel/bare_table_name_qualifies_columns
SELECT orders.id, orders.amount FROM shop.orders FOR VERSION AS OF ${orders.v2} WHERE orders.qty = 1
-- expected:
SELECT orders.id, orders.amount FROM hist.orders_v2 AS orders WHERE orders.qty = 1

-- name: timetravel/correlated_exists
SELECT o.id, o.amount FROM shop.orders o
WHERE EXISTS (SELECT 1 FROM shop.orders FOR VERSION AS OF ${orders.v1} p WHERE p.id = o.id AND p.amount <> o.amount)
-- expected:
SELECT o.id, o.amount FROM shop.orders o
WHERE EXISTS (SELECT 1 FROM hist.orders_v1 p WHERE p.id = o.id AND p.amount <> o.amount)

-- name: timetravel/filter_on_timestamp_column_of_old_version
SELECT id FROM shop.orders FOR VERSION AS OF ${orders.v3}
WHERE created_at > TIMESTAMP '2024-12-01 00:00:00' AND created_at < TIMESTAMPTZ '2024-12-15 00:00:00+00'
-- expected:
SELECT id FROM hist.orders_v3
WHERE created_at > TIMESTAMP '2024-12-01 00:00:00' AND created_at < TIMESTAMPTZ '2024-12-15 00:00:00+00'

-- ============================================================== time travel by timestamp

-- name: timetravel/for_timestamp_as_of_v2
SELECT * FROM shop.orders FOR TIMESTAMP AS OF TIMESTAMP '${orders.v2.time}'
-- expected:
SELECT * FROM hist.orders_v2

-- name: timetravel/for_system_time_as_of_v5
SELECT * FROM shop.orders FOR SYSTEM_TIME AS OF TIMESTAMP '${orders.v5.time}'
-- expected:
SELECT * FROM hist.orders_v5

-- name: timetravel/spark_timestamp_as_of_v3
SELECT * FROM shop.orders TIMESTAMP AS OF '${orders.v3.time}'
-- expected:
SELECT * FROM hist.orders_v3

-- name: timetravel/timestamp_between_commits
SELECT count(*), sum(amount), max(id) FROM shop.orders FOR TIMESTAMP AS OF TIMESTAMP '${orders.v3.time_after}'
-- expected:
SELECT count(*), sum(amount), max(id) FROM hist.orders_v3

-- name: timetravel/timestamp_first_commit_with_alias
SELECT o.status, count(*) FROM shop.orders FOR TIMESTAMP AS OF TIMESTAMP '${orders.v1.time}' o GROUP BY o.status
-- expected:
SELECT o.status, count(*) FROM hist.orders_v1 o GROUP BY o.status

-- name: timetravel/timestamp_items_v4
SELECT order_id, count(*) FROM shop.items FOR SYSTEM_TIME AS OF TIMESTAMP '${items.v4.time}' GROUP BY order_id
-- expected:
SELECT order_id, count(*) FROM hist.items_v4 GROUP BY order_id

-- name: timetravel/timestamp_with_utc_zone
SELECT count(*), sum(amount) FROM shop.orders FOR TIMESTAMP AS OF TIMESTAMP '${orders.v4.time} UTC'
-- expected:
SELECT count(*), sum(amount) FROM hist.orders_v4

-- name: timetravel/timestamp_with_offset
SELECT count(*), sum(amount) FROM shop.orders FOR TIMESTAMP AS OF TIMESTAMP '${orders.v4.time_plus_02} +02:00'
-- expected:
SELECT count(*), sum(amount) FROM hist.orders_v4

-- name: timetravel/timestamp_as_of_current_timestamp
SELECT count(*), sum(amount) FROM shop.orders FOR TIMESTAMP AS OF current_timestamp
-- expected:
SELECT count(*), sum(amount) FROM shop.orders

-- ============================================================== tags and branches

-- name: ref/tag_for_version_as_of
SELECT * FROM shop.orders FOR VERSION AS OF 'v2'
-- expected:
SELECT * FROM hist.orders_v2

-- name: ref/branch_spark_version_as_of
SELECT * FROM shop.orders VERSION AS OF 'audit'
-- expected:
SELECT * FROM hist.orders_v3

-- name: ref/main_branch
SELECT count(*), sum(amount) FROM shop.orders FOR VERSION AS OF 'main'
-- expected:
SELECT count(*), sum(amount) FROM shop.orders

-- name: ref/spark_tag_identifier
SELECT * FROM shop.orders.tag_v2
-- expected:
SELECT * FROM hist.orders_v2

-- name: ref/spark_branch_identifier
SELECT * FROM shop.orders.branch_audit
-- expected:
SELECT * FROM hist.orders_v3

-- name: ref/tag_vs_branch_join
SELECT t.id, t.amount, b.amount FROM shop.orders.tag_v2 t JOIN shop.orders.branch_audit b ON b.id = t.id
WHERE t.amount <> b.amount
-- expected:
SELECT t.id, t.amount, b.amount FROM hist.orders_v2 t JOIN hist.orders_v3 b ON b.id = t.id
WHERE t.amount <> b.amount

-- ============================================================== metadata tables

-- name: metadata/snapshots_dollar
SELECT snapshot_id, parent_id, operation FROM shop."orders$snapshots"
-- expected:
SELECT snapshot_id, parent_id, operation FROM meta.orders_snapshots

-- name: metadata/snapshots_spark
SELECT snapshot_id, parent_id, operation FROM shop.orders.snapshots
-- expected:
SELECT snapshot_id, parent_id, operation FROM meta.orders_snapshots

-- name: metadata/snapshots_committed_at
-- ordered
SELECT committed_at, snapshot_id, manifest_list FROM shop."orders$snapshots" ORDER BY committed_at
-- expected:
SELECT committed_at, snapshot_id, manifest_list FROM meta.orders_snapshots ORDER BY committed_at

-- name: metadata/snapshots_customers_spark
SELECT snapshot_id, parent_id, operation, committed_at FROM shop.customers.snapshots
-- expected:
SELECT snapshot_id, parent_id, operation, committed_at FROM meta.customers_snapshots

-- name: metadata/history_dollar
SELECT made_current_at, snapshot_id, parent_id, is_current_ancestor FROM shop."orders$history"
-- expected:
SELECT made_current_at, snapshot_id, parent_id, is_current_ancestor FROM meta.orders_history

-- name: metadata/history_spark
SELECT made_current_at, snapshot_id, parent_id, is_current_ancestor FROM shop.orders.history
-- expected:
SELECT made_current_at, snapshot_id, parent_id, is_current_ancestor FROM meta.orders_history

-- name: metadata/files_dollar
SELECT file_path, record_count, file_size_in_bytes, content FROM shop."orders$files"
-- expected:
SELECT file_path, record_count, file_size_in_bytes, content FROM meta.orders_files

-- name: metadata/files_spark
SELECT file_path, record_count, file_size_in_bytes, content FROM shop.orders.files
-- expected:
SELECT file_path, record_count, file_size_in_bytes, content FROM meta.orders_files

-- name: metadata/files_items_summary
SELECT content, file_format, spec_id, count(*), sum(record_count) FROM shop.items.files GROUP BY ALL
-- expected:
SELECT content, file_format, spec_id, count(*), sum(record_count) FROM meta.items_files GROUP BY ALL

-- name: metadata/manifests_dollar
SELECT path, length, added_snapshot_id, partition_spec_id FROM shop."orders$manifests"
-- expected:
SELECT path, length, added_snapshot_id, partition_spec_id FROM meta.orders_manifests

-- name: metadata/manifests_spark
SELECT path, length, added_snapshot_id, partition_spec_id FROM shop.orders.manifests
-- expected:
SELECT path, length, added_snapshot_id, partition_spec_id FROM meta.orders_manifests

-- name: metadata/manifests_counts
SELECT content, path, added_data_files_count, existing_data_files_count, deleted_data_files_count,
       added_delete_files_count, existing_delete_files_count, deleted_delete_files_count
FROM shop.orders.manifests
-- expected:
SELECT content, path, added_data_files_count, existing_data_files_count, deleted_data_files_count,
       added_delete_files_count, existing_delete_files_count, deleted_delete_files_count
FROM meta.orders_manifests

-- name: metadata/partitions_dollar
SELECT record_count, file_count FROM shop."orders$partitions"
-- expected:
SELECT record_count, file_count FROM meta.orders_partitions

-- name: metadata/partitions_spark
SELECT record_count, file_count FROM shop.orders.partitions
-- expected:
SELECT record_count, file_count FROM meta.orders_partitions

-- name: metadata/partitions_items_details
SELECT record_count, file_count, total_data_file_size_in_bytes, position_delete_file_count,
       equality_delete_file_count, last_updated_at, last_updated_snapshot_id
FROM shop.items.partitions
-- expected:
SELECT record_count, file_count, total_data_file_size_in_bytes, position_delete_file_count,
       equality_delete_file_count, last_updated_at, last_updated_snapshot_id
FROM meta.items_partitions

-- name: metadata/refs_dollar
SELECT name, type, snapshot_id FROM shop."orders$refs"
-- expected:
SELECT name, type, snapshot_id FROM meta.orders_refs

-- name: metadata/refs_spark
SELECT name, type, snapshot_id FROM shop.orders.refs
-- expected:
SELECT name, type, snapshot_id FROM meta.orders_refs

-- name: metadata/refs_customers_main_only
SELECT name, type, snapshot_id FROM shop.customers.refs
-- expected:
SELECT name, type, snapshot_id FROM meta.customers_refs

-- name: metadata/files_agree_with_partitions
SELECT (SELECT sum(record_count) FROM shop.orders.files WHERE content = 0) = (SELECT record_count FROM shop.orders.partitions),
       (SELECT count(*) FROM shop."orders$files" WHERE content = 0) = (SELECT file_count FROM shop."orders$partitions")
-- expected:
SELECT true, true

-- name: metadata/snapshots_join_history
SELECT s.snapshot_id, s.operation, h.is_current_ancestor
FROM shop.orders.snapshots s JOIN shop.orders.history h ON h.snapshot_id = s.snapshot_id
-- expected:
SELECT s.snapshot_id, s.operation, h.is_current_ancestor
FROM meta.orders_snapshots s JOIN meta.orders_history h ON h.snapshot_id = s.snapshot_id

-- name: timetravel/each_snapshot_count
SELECT (SELECT count(*) FROM shop.orders FOR VERSION AS OF ${orders.v1}),
       (SELECT count(*) FROM shop.orders FOR VERSION AS OF ${orders.v2}),
       (SELECT count(*) FROM shop.orders FOR VERSION AS OF ${orders.v3}),
       (SELECT count(*) FROM shop.orders FOR VERSION AS OF ${orders.v4}),
       (SELECT count(*) FROM shop.orders FOR VERSION AS OF ${orders.v5}),
       (SELECT count(*) FROM shop.orders FOR VERSION AS OF ${orders.v6}),
       (SELECT count(*) FROM shop.orders FOR VERSION AS OF ${orders.v7})
-- expected:
SELECT (SELECT count(*) FROM hist.orders_v1), (SELECT count(*) FROM hist.orders_v2),
       (SELECT count(*) FROM hist.orders_v3), (SELECT count(*) FROM hist.orders_v4),
       (SELECT count(*) FROM hist.orders_v5), (SELECT count(*) FROM hist.orders_v6),
       (SELECT count(*) FROM hist.orders_v7)
