package io.floe.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * CPU use over a measured interval: the whole machine (from {@code /proc/stat}), this JVM, and the
 * embedded PostgreSQL's processes. The benchmarks run on a shared machine; these figures say how
 * much of it the measurement actually had.
 */
final class MachineLoad {
  /** USER_HZ, which Linux fixes at 100 for /proc figures on every common architecture. */
  private static final long CLOCK_TICKS_PER_SECOND = 100;

  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private final Optional<ProcessHandle> postmaster;
  private final long startNanos;
  private final long[] startMachine;
  private final long startJvmCpuNanos;
  private final long startPostgresCpuNanos;
  private final long startWalSenderCpuNanos;

  private MachineLoad(Optional<ProcessHandle> postmaster) {
    this.postmaster = postmaster;
    this.startNanos = System.nanoTime();
    this.startMachine = machineTicks();
    this.startJvmCpuNanos = jvmCpuNanos();
    this.startPostgresCpuNanos = postgresCpuNanos();
    this.startWalSenderCpuNanos = walSenderCpuNanos();
  }

  /** Starts measuring the machine and this JVM, for a benchmark without PostgreSQL. */
  static MachineLoad start() {
    return new MachineLoad(Optional.empty());
  }

  /** The 1, 5 and 15 minute load averages from {@code /proc/loadavg}, or "n/a" off Linux. */
  static String loadAverage() {
    try {
      String[] fields = fields(Files.readString(Path.of("/proc/loadavg")));
      return fields[0] + " " + fields[1] + " " + fields[2];
    } catch (IOException | RuntimeException e) {
      return "n/a";
    }
  }

  /** Starts measuring; {@code postgresDataDirectory} locates the server's postmaster.pid. */
  static MachineLoad start(Path postgresDataDirectory) {
    Optional<ProcessHandle> postmaster = Optional.empty();
    try {
      String pid = Files.readAllLines(postgresDataDirectory.resolve("postmaster.pid")).get(0);
      postmaster = ProcessHandle.of(Long.parseLong(pid.trim()));
    } catch (IOException | RuntimeException e) {
      // Without the pid the PostgreSQL figure is left out.
    }
    return new MachineLoad(postmaster);
  }

  /**
   * CPU use since {@link #start}, in cores: {@code machine_busy} of {@code cores}, this JVM, and
   * PostgreSQL.
   */
  String summary() {
    double seconds = Bench.seconds(System.nanoTime() - startNanos);
    long[] machine = machineTicks();
    int cores = Runtime.getRuntime().availableProcessors();
    String busy = "n/a";
    if (machine != null && startMachine != null && machine[0] > startMachine[0]) {
      double fraction =
          1.0 - (double) (machine[1] - startMachine[1]) / (machine[0] - startMachine[0]);
      busy = Bench.format("%.2f", fraction * cores);
    }
    double jvm = Bench.seconds(jvmCpuNanos() - startJvmCpuNanos) / seconds;
    double postgres = Bench.seconds(postgresCpuNanos() - startPostgresCpuNanos) / seconds;
    double walSender = Bench.seconds(walSenderCpuNanos() - startWalSenderCpuNanos) / seconds;
    String other =
        busy.equals("n/a")
            ? "n/a"
            : Bench.format("%.2f", Math.max(0, Double.parseDouble(busy) - jvm - postgres));
    if (postmaster.isEmpty()) {
      return Bench.format(
          "cores=%d machine_busy_cores=%s jvm_cores=%.2f other_cores=%s", cores, busy, jvm, other);
    }
    return Bench.format(
        "cores=%d machine_busy_cores=%s jvm_cores=%.2f postgres_cores=%.2f (walsender %.2f)"
            + " other_cores=%s",
        cores, busy, jvm, postgres, walSender, other);
  }

  /** Total and idle (idle + iowait) ticks of all CPUs, or null off Linux. */
  private static long[] machineTicks() {
    try {
      String[] fields = fields(Files.readAllLines(Path.of("/proc/stat")).get(0));
      long total = 0;
      for (int i = 1; i < Math.min(fields.length, 9); i++) {
        total += Long.parseLong(fields[i]);
      }
      return new long[] {total, Long.parseLong(fields[4]) + Long.parseLong(fields[5])};
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  private static long jvmCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean bean) {
      return bean.getProcessCpuTime();
    }
    return 0;
  }

  /**
   * CPU time of the postmaster, of its live children, and of its exited children (which the
   * postmaster has reaped, so the kernel counts them in its {@code cutime} and {@code cstime}).
   */
  private long postgresCpuNanos() {
    if (postmaster.isEmpty()) {
      return 0;
    }
    long ticks = ticks(postmaster.get().pid(), true);
    ticks += postmaster.get().children().mapToLong(child -> ticks(child.pid(), false)).sum();
    return ticks * 1_000_000_000L / CLOCK_TICKS_PER_SECOND;
  }

  /**
   * CPU time of the live WAL senders, which decode the WAL for the pipeline. A WAL sender that
   * started during the measurement counts in full.
   */
  private long walSenderCpuNanos() {
    if (postmaster.isEmpty()) {
      return 0;
    }
    long ticks =
        postmaster
            .get()
            .children()
            .filter(child -> isWalSender(child.pid()))
            .mapToLong(child -> ticks(child.pid(), false))
            .sum();
    return ticks * 1_000_000_000L / CLOCK_TICKS_PER_SECOND;
  }

  private static boolean isWalSender(long pid) {
    try {
      return Files.readString(Path.of("/proc", Long.toString(pid), "cmdline"))
          .contains("walsender");
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** utime + stime (+ cutime + cstime) of a process from {@code /proc/<pid>/stat}; 0 if gone. */
  private static long ticks(long pid, boolean withReapedChildren) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name, which is in parentheses and may contain spaces.
      String[] fields = fields(stat.substring(stat.lastIndexOf(')') + 2));
      // fields[0] is field 3 (state); utime, stime, cutime, cstime are fields 14 to 17.
      long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      if (withReapedChildren) {
        ticks += Long.parseLong(fields[13]) + Long.parseLong(fields[14]);
      }
      return ticks;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private static String[] fields(String line) {
    return WHITESPACE.splitAsStream(line.trim()).toArray(String[]::new);
  }
}
