package io.floe.server;

import io.floe.core.ErrorType;
import io.floe.core.FloeException;
import java.util.Optional;
import org.slf4j.bridge.SLF4JBridgeHandler;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of the {@code floe} command line. */
@Command(
    name = "floe",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description =
        "Floe: continuous, exactly-once replication of databases into Apache Iceberg tables.",
    subcommands = {
      RunCommand.class,
      SqlCommand.class,
      DemoCommand.class,
      MaintainCommand.class,
      SchemaHistoryCommand.class,
      DlqCommand.class
    })
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    // Libraries that log through java.util.logging (the MariaDB binlog client) log where Floe
    // does, instead of on the terminal.
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    System.exit(execute(args));
  }

  /** Runs the command line and returns the exit code. */
  public static int execute(String... args) {
    CommandLine commandLine = new CommandLine(new Main());
    commandLine.setExecutionExceptionHandler(
        (exception, line, parseResult) -> {
          Optional<FloeException> floe = FloeException.in(exception);
          if (floe.isPresent()) {
            line.getErr().println("error: " + floe.get().describe());
            return exitCode(floe.get());
          }
          line.getErr().println("error: internal failure: " + exception);
          exception.printStackTrace(line.getErr());
          return ErrorType.INTERNAL.exitCode();
        });
    return commandLine.execute(args);
  }

  /** The exit code of a command that failed with {@code exception}: {@link ErrorType#exitCode}. */
  static int exitCode(FloeException exception) {
    return exception.type().exitCode();
  }

  /** Version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"floe " + (version == null ? "development build" : version)};
    }
  }
}
