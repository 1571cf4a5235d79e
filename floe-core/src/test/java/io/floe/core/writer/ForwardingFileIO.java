package io.floe.core.writer;

import static java.util.Objects.requireNonNull;

import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;

/** A FileIO that passes everything on to another; tests override what they intercept. */
class ForwardingFileIO implements FileIO {
  private final FileIO delegate;

  ForwardingFileIO(FileIO delegate) {
    this.delegate = requireNonNull(delegate, "delegate is null");
  }

  @Override
  public InputFile newInputFile(String path) {
    return delegate.newInputFile(path);
  }

  @Override
  public OutputFile newOutputFile(String path) {
    return delegate.newOutputFile(path);
  }

  @Override
  public void deleteFile(String path) {
    delegate.deleteFile(path);
  }
}
