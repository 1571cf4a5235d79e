package io.floe.core.writer;

import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.OutputFile;

/**
 * A FileIO that runs {@link #before} (once) when the next output file is created: a test makes
 * another commit land while a writer writes its batch this way.
 */
final class OnNextOutput extends ForwardingFileIO {
  volatile Runnable before;

  OnNextOutput(FileIO delegate) {
    super(delegate);
  }

  @Override
  public OutputFile newOutputFile(String path) {
    Runnable action = before;
    if (action != null) {
      before = null;
      action.run();
    }
    return super.newOutputFile(path);
  }
}
