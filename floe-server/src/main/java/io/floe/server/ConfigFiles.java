package io.floe.server;

import io.floe.core.ErrorCode;
import io.floe.core.FloeException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves which configuration file a command reads. */
final class ConfigFiles {
  static final Path DEFAULT = Path.of("floe.yaml");

  private ConfigFiles() {}

  static Path choose(Path positional, Path option) {
    if (positional != null && option != null && !positional.equals(option)) {
      throw new FloeException(
          ErrorCode.CONFIG_INVALID,
          "Cannot choose a configuration file: both "
              + positional
              + " and -c "
              + option
              + " were given; pass one");
    }
    Path file = positional != null ? positional : option != null ? option : DEFAULT;
    if (!Files.isRegularFile(file)) {
      throw new FloeException(
          ErrorCode.CONFIG_UNREADABLE,
          "Cannot read configuration "
              + file.toAbsolutePath()
              + ": no such file; pass the path of your floe.yaml (see docs/configuration.md)");
    }
    return file;
  }
}
