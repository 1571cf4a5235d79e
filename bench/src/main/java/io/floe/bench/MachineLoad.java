package io.floe.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * CPU use over a measured interval: the whole machine (from {@code /proc/stat}), this JVM, and the
 * embedded PostgreSQL's processes. The benchmarks run on a shared machine; these figures say how
 * much of it the measurement actually had.
 */
final class MachineLoad {
  private final Optional<ProcessHandle> postmaster;
  private final long startNanos;
  private final long[] startMachine;
  private final long startJvmCpuNanos;
  private final long startPostgresCpuNanos;

  private MachineLoad(Optional<ProcessHandle> postmaster) {
    this.postmaster = postmaster;
    this.startNanos = System.nanoTime();
    this.startMachine = machineTicks();
    this.startJvmCpuNanos = jvmCpuNanos();
    this.startPostgresCpuNanos = postgresCpuNanos();
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
   * PostgreSQL (processes alive now).
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
    return Bench.format(
        "cores=%d machine_busy_cores=%s jvm_cores=%.2f postgres_cores=%.2f other_cores=%s",
        cores,
        busy,
        jvm,
        postgres,
        busy.equals("n/a")
            ? "n/a"
            : Bench.format("%.2f", Math.max(0, Double.parseDouble(busy) - jvm - postgres)));
  }

  /** Total and idle (idle + iowait) ticks of all CPUs, or null off Linux. */
  private static long[] machineTicks() {
    try {
      String[] fields = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
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

  private long postgresCpuNanos() {
    if (postmaster.isEmpty()) {
      return 0;
    }
    long total = cpuNanos(postmaster.get());
    total += postmaster.get().descendants().mapToLong(MachineLoad::cpuNanos).sum();
    return total;
  }

  private static long cpuNanos(ProcessHandle process) {
    return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
  }
}
