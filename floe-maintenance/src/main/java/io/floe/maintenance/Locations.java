package io.floe.maintenance;

import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.Paths;

/**
 * One spelling per file location, so that locations written in table metadata can be compared with
 * locations a listing returns: Floe writes plain absolute paths, other writers {@code file:} URIs
 * ({@code file:/a}, {@code file:///a}), and either may contain doubled slashes.
 */
final class Locations {
  private Locations() {}

  static String normalize(String location) {
    String path = location;
    if (location.startsWith("file:")) {
      try {
        return Paths.get(URI.create(location)).normalize().toString();
      } catch (IllegalArgumentException e) {
        // Not a well-formed URI (e.g. an unescaped space): drop the scheme and read it as a path.
        path = "/" + location.substring("file:".length()).replaceFirst("^/+", "");
      }
    }
    if (path.startsWith("/")) {
      try {
        return Paths.get(path).normalize().toString();
      } catch (InvalidPathException e) {
        return path;
      }
    }
    return path;
  }

  /** The location as a directory prefix, ending with one slash. */
  static String directory(String location) {
    return location.endsWith("/") ? location : location + "/";
  }
}
