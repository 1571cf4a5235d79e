package io.floe.core.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.core.catalog.IcebergFailures.Kind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.exceptions.RuntimeIOException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.jdbc.UncheckedSQLException;
import org.junit.jupiter.api.Test;

class IcebergFailuresTest {
  @Test
  void commitOutcomesByType() {
    assertThat(IcebergFailures.classify(new CommitFailedException("lost the race")))
        .isEqualTo(Kind.CONFLICT);
    assertThat(IcebergFailures.classify(new ValidationException("missing data files")))
        .isEqualTo(Kind.INVALID);
    assertThat(IcebergFailures.classify(new CommitStateUnknownException(new SQLException("gone"))))
        .isEqualTo(Kind.UNKNOWN_OUTCOME);
  }

  @Test
  void anUnknownOutcomeCausedByStorageIsStillUnknown() {
    assertThat(
            IcebergFailures.classify(
                new CommitStateUnknownException(new UncheckedIOException(new IOException("s3")))))
        .isEqualTo(Kind.UNKNOWN_OUTCOME);
  }

  @Test
  void storageFailuresAnywhereInTheChain() {
    assertThat(IcebergFailures.classify(new RuntimeIOException(new IOException("disk full"))))
        .isEqualTo(Kind.STORAGE);
    assertThat(IcebergFailures.classify(new NotFoundException("no such file: %s", "a.parquet")))
        .isEqualTo(Kind.STORAGE);
    assertThat(
            IcebergFailures.classify(
                new IllegalStateException(
                    "wrapped", new UncheckedIOException(new IOException("disk")))))
        .isEqualTo(Kind.STORAGE);
    assertThat(IcebergFailures.storageFailure(new IllegalStateException("a bug"))).isFalse();
  }

  @Test
  void catalogDatabaseFailures() {
    assertThat(
            IcebergFailures.classify(
                new UncheckedSQLException(
                    new SQLException("database is locked"), "Unknown failure")))
        .isEqualTo(Kind.CATALOG);
    assertThat(
            IcebergFailures.classify(
                new RuntimeException("wrapped", new SQLException("database is locked"))))
        .isEqualTo(Kind.CATALOG);
  }

  @Test
  void anythingElseIsABug() {
    assertThat(IcebergFailures.classify(new IllegalStateException("a bug"))).isEqualTo(Kind.BUG);
    assertThat(IcebergFailures.classify(new NullPointerException())).isEqualTo(Kind.BUG);
  }

  @Test
  void aCauseChainThatLoopsEnds() {
    RuntimeException first = new RuntimeException("first");
    RuntimeException second = new RuntimeException("second", first);
    first.initCause(second);
    assertThat(IcebergFailures.classify(first)).isEqualTo(Kind.BUG);
  }

  @Test
  void onlyConflictsAndInvalidCommitsCommittedNothing() {
    assertThat(Kind.CONFLICT.nothingCommitted()).isTrue();
    assertThat(Kind.INVALID.nothingCommitted()).isTrue();
    assertThat(Kind.UNKNOWN_OUTCOME.nothingCommitted()).isFalse();
    assertThat(Kind.STORAGE.nothingCommitted()).isFalse();
    assertThat(Kind.CATALOG.nothingCommitted()).isFalse();
    assertThat(Kind.BUG.nothingCommitted()).isFalse();
  }
}
