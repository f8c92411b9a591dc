package dev.flint.cli.hub;

/** Hears how a download goes (the progress bar, or nothing). Called from the downloading thread. */
public interface DownloadListener {
    DownloadListener NONE = new DownloadListener() {};

    /** The transfer starts: {@code total} bytes, of which {@code resumedFrom} are already on disk. */
    default void started(String name, long total, long resumedFrom) {}

    /** {@code done} of the total bytes are on disk now. */
    default void progress(long done) {}

    /** The transfer ended, complete or not. */
    default void finished(boolean complete) {}

    /** A note for the user (a resumed download, a missing checksum). */
    default void note(String message) {}
}
