package io.floe.core.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.iceberg.io.BulkDeletionFailureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalFileIOTest {
  @TempDir Path warehouse;

  @Test
  void deletesManyFilesAndCountsTheOnesItCannot() throws IOException {
    Path first = Files.writeString(warehouse.resolve("a.metadata.json"), "{}");
    Path second = Files.writeString(warehouse.resolve("b.metadata.json"), "{}");
    // A directory with a file in it cannot be deleted as a file.
    Path busy = Files.createDirectories(warehouse.resolve("busy"));
    Files.writeString(busy.resolve("inside"), "x");
    LocalFileIO io = new LocalFileIO();

    assertThatThrownBy(
            () ->
                io.deleteFiles(
                    List.of(
                        "file:" + first,
                        busy.toString(),
                        warehouse.resolve("gone").toString(),
                        second.toString())))
        .isInstanceOfSatisfying(
            BulkDeletionFailureException.class,
            failure -> assertThat(failure.numberFailedObjects()).isEqualTo(1));
    assertThat(first).doesNotExist();
    assertThat(second).as("deleted after the failure").doesNotExist();
    assertThat(busy.resolve("inside")).exists();

    io.deleteFiles(List.of(busy.resolve("inside").toString()));
    assertThat(busy.resolve("inside")).doesNotExist();
  }
}
