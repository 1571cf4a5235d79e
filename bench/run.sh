#!/usr/bin/env bash
# Runs Floe's benchmarks. See bench/README.md.
#
#   bench/run.sh full-load|streaming|freshness|stream|enrich|read-cost|read-amplification|compaction|snapshot-growth|sql|rest-catalog|mariadb [size arguments...]
#   bench/run.sh all      # every benchmark at full size, one after the other
#   bench/run.sh quick    # every benchmark at a reduced size (a smoke run of a few minutes)
#
# Builds first if the benchmark jar is missing or older than any pom.xml or main source file.
# Environment: BENCH_SKIP_BUILD=1 skips that check; BENCH_MAVEN_FLAGS adds Maven flags (e.g. -o);
# BENCH_JAVA_OPTS adds JVM options (e.g. -Dfloe.bench.keep=true keeps the warehouses).
# read-amplification: -Dfloe.bench.maintenanceIntervalSeconds=N sets the maintenance interval.
set -euo pipefail

script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
root="$(dirname "$(dirname "$script")")"
cd "$root"
jar=bench/target/floe-bench-0.1.0-SNAPSHOT.jar
classpath_file=bench/target/classpath.txt

usage() {
  sed -n '2,12p' "$script" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

main_class() {
  case "$1" in
    full-load) echo FullLoadBenchmark ;;
    streaming) echo StreamingBenchmark ;;
    freshness) echo FreshnessBenchmark ;;
    stream) echo StreamBenchmark ;;
    enrich) echo EnrichBenchmark ;;
    read-cost) echo ReadCostBenchmark ;;
    read-amplification) echo ReadAmplificationBenchmark ;;
    compaction) echo CompactionBenchmark ;;
    snapshot-growth) echo SnapshotGrowthBenchmark ;;
    sql) echo SqlBenchmark ;;
    rest-catalog) echo RestCatalogBenchmark ;;
    mariadb) echo MariaDbBenchmark ;;
    *) return 1 ;;
  esac
}

needs_build() {
  [[ ! -f $jar || ! -f $classpath_file ]] && return 0
  [[ -n "$(find pom.xml ./*/pom.xml ./*/src/main -newer "$jar" -type f -print -quit 2>/dev/null)" ]]
}

build() {
  if [[ ${BENCH_SKIP_BUILD:-} == 1 ]] || ! needs_build; then
    return
  fi
  echo "Building: ./mvnw -B -q ${BENCH_MAVEN_FLAGS:+$BENCH_MAVEN_FLAGS }-Dquick -DskipTests install" >&2
  # shellcheck disable=SC2086 # flags are meant to split
  ./mvnw -B -q ${BENCH_MAVEN_FLAGS:-} -Dquick -DskipTests install
}

# Other work may reinstall Floe's jars while a benchmark runs: run from private copies of them.
runtime_classpath() {
  local dir=bench/target/run-lib
  rm -rf "$dir"
  mkdir -p "$dir"
  local classpath="" entry
  local -a entries
  IFS=: read -ra entries <"$classpath_file"
  for entry in "$jar" "${entries[@]}"; do
    if [[ $entry == "$jar" || $entry == */io/floe/* || $entry == "$root"/* ]]; then
      cp -r "$entry" "$dir/"
      entry="$dir/$(basename "$entry")"
    fi
    classpath+="${classpath:+:}$entry"
  done
  echo "$classpath"
}

run_one() {
  local name=$1
  shift
  local class
  class=$(main_class "$name") || usage
  echo "=== $name $* ($(date -u +%FT%TZ))"
  # shellcheck disable=SC2086 # options are meant to split
  java -Xmx8g ${BENCH_JAVA_OPTS:-} \
    -Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener \
    -cp "$(runtime_classpath)" "io.floe.bench.$class" "$@"
}

run_all() {
  local -a plan=("$@")
  local results
  results=$(mktemp)
  trap 'rm -f "$results"' RETURN
  local step
  local -a failed=()
  for step in "${plan[@]}"; do
    # shellcheck disable=SC2086 # a step is a name followed by its size arguments
    if ! run_one $step | tee -a "$results"; then
      failed+=("$step")
    fi
  done
  echo
  echo "=== Summary"
  grep '^RESULT' "$results" || true
  if [[ ${#failed[@]} -gt 0 ]]; then
    echo "=== Failed to run: ${failed[*]}"
    return 1
  fi
}

[[ $# -ge 1 ]] || usage
name=$1
shift
case "$name" in
  -h | --help) usage ;;
  all)
    build
    run_all full-load streaming freshness stream enrich read-cost read-amplification compaction snapshot-growth sql \
      rest-catalog mariadb
    ;;
  quick)
    build
    run_all "full-load 200000 1" "streaming 50000 20 4 100000 1" "freshness 20" "stream 50000 10 1000 10000 1" "enrich 50000 100000 1" "read-cost 20" \
      "read-amplification 120 500 200000 30 3" "compaction 300000 40 500 15 1" \
      "snapshot-growth 700 300 5" "sql 1000000 31 3" "rest-catalog 60 16 1 10 8" "mariadb 200000 50000 1"
    ;;
  *)
    main_class "$name" >/dev/null || usage
    build
    run_one "$name" "$@"
    ;;
esac
