package dev.flint.cli.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;

/**
 * Downloads one hub file to a target path the way a large model must be fetched: into {@code TARGET.part}, resumed
 * with an HTTP Range after an interruption (in this run or a later one), checked against the hub's sha256 and size,
 * then renamed into place atomically, so the target either does not exist or is the verified file. A lock on
 * {@code TARGET.lock} makes concurrent pulls of the same file (threads or processes) wait for one download.
 */
public final class Downloader {
    /** Free bytes for new files in a directory (a parameter so tests can fill the disk). */
    @FunctionalInterface
    public interface FreeSpace {
        long usableBytes(Path dir) throws IOException;
    }

    /** Where the file is, and whether this call downloaded it (false: it was cached already). */
    public record Result(Path path, boolean downloaded) {}

    private static final int BUFFER = 1 << 20;

    private final HubClient client;
    private final FreeSpace freeSpace;
    private final int attempts;
    private final Duration stallTimeout;

    /**
     * {@code attempts}: how many transfers one call makes (resuming each time) before giving up;
     * {@code stallTimeout}: how long a transfer may receive nothing before it counts as broken off.
     */
    public Downloader(HubClient client, FreeSpace freeSpace, int attempts, Duration stallTimeout) {
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be at least 1");
        }
        this.client = client;
        this.freeSpace = freeSpace;
        this.attempts = attempts;
        this.stallTimeout = stallTimeout;
    }

    public Downloader(HubClient client) {
        this(client, dir -> Files.getFileStore(dir).getUsableSpace(), 3, Duration.ofSeconds(30));
    }

    public static Path partFile(Path target) {
        return target.resolveSibling(target.getFileName() + ".part");
    }

    public static Path lockFile(Path target) {
        return target.resolveSibling(target.getFileName() + ".lock");
    }

    public Result download(HubFile file, Path target, DownloadListener listener) throws IOException {
        Files.createDirectories(target.toAbsolutePath().getParent());
        try (PullLock lock = PullLock.acquire(lockFile(target))) {
            if (Files.isRegularFile(target)) {
                return new Result(target, false); // another pull finished it while this one waited
            }
            RemoteFile remote = client.head(file);
            fetch(file, remote, target, listener);
            return new Result(target, true);
        }
    }

    private void fetch(HubFile file, RemoteFile remote, Path target, DownloadListener listener) throws IOException {
        Path part = partFile(target);
        long have = Files.exists(part) ? Files.size(part) : 0;
        if (have > remote.size()) {
            Files.delete(part); // not a prefix of this file (it changed on the hub): start over
            have = 0;
        }
        long free = freeSpace.usableBytes(target.toAbsolutePath().getParent());
        if (free < remote.size() - have) {
            throw new HubException("not enough disk space for " + file.fileName() + ": it needs "
                    + ProgressBar.bytes(remote.size() - have) + " more, " + ProgressBar.bytes(free) + " are free in "
                    + target.toAbsolutePath().getParent() + " (set FLINT_HOME to cache models elsewhere)");
        }
        if (remote.sha256().isEmpty()) {
            listener.note("note: the hub publishes no sha256 for " + file + "; only its size is checked");
        }
        if (have > 0) {
            listener.note("resuming " + file.fileName() + " from " + ProgressBar.bytes(have) + " of "
                    + ProgressBar.bytes(remote.size()));
        }
        MessageDigest sha = sha256();
        hashExisting(part, have, sha);

        listener.started(file.fileName(), remote.size(), have);
        long[] hashed = {have}; // bytes in the digest; the file is cut back to this before each resume
        boolean complete = false;
        try {
            for (int attempt = 1; hashed[0] < remote.size(); attempt++) {
                try {
                    transfer(file, remote, part, hashed, sha, listener);
                } catch (HubException e) {
                    throw e;
                } catch (IOException e) {
                    if (isDiskFull(e)) {
                        throw new HubException("disk full while writing " + part + ": free some space and run the "
                                + "same command again to resume", e);
                    }
                    if (attempt >= attempts) {
                        throw new HubException("download of " + file.fileName() + " interrupted after "
                                + ProgressBar.bytes(hashed[0]) + " of " + ProgressBar.bytes(remote.size()) + " (" + e
                                + "); run the same command again to resume", e);
                    }
                    // the bytes written so far are in the digest already; resume where the file ends
                    sleep(500L * attempt);
                }
            }
            complete = true;
        } finally {
            listener.finished(complete);
        }
        verify(file, remote, part, sha);
        move(part, target);
    }

    /** Appends the body of one GET to {@code part}, counting what is on disk and hashed in {@code hashed[0]}. */
    private void transfer(HubFile file, RemoteFile remote, Path part, long[] hashed, MessageDigest sha,
                          DownloadListener listener) throws IOException {
        HttpResponse<InputStream> r = client.get(remote.downloadUri(), hashed[0], file);
        try (InputStream in = r.body();
             StallWatchdog watchdog = new StallWatchdog(in, stallTimeout);
             FileChannel out = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            if (hashed[0] > 0 && r.statusCode() == 200) {
                // the server ignored the Range and sends the whole file: take it from the start
                hashed[0] = 0;
                sha.reset();
                listener.note("the server does not resume downloads; starting " + file.fileName() + " over");
            }
            out.truncate(hashed[0]);
            out.position(hashed[0]);
            byte[] buf = new byte[BUFFER];
            for (int n; (n = read(in, buf, watchdog)) > 0; ) {
                if (hashed[0] + n > remote.size()) {
                    throw new HubException("the server sent more than the " + remote.size() + " bytes the hub "
                            + "announced for " + file + "; run the command again");
                }
                ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                while (bb.hasRemaining()) {
                    out.write(bb);
                }
                sha.update(buf, 0, n); // only bytes that are on disk, so a resume can go on from the file's end
                hashed[0] += n;
                listener.progress(hashed[0]);
            }
            out.force(false);
        }
        if (hashed[0] < remote.size()) {
            throw new java.io.EOFException("connection closed after " + hashed[0] + " of " + remote.size() + " bytes");
        }
    }

    private int read(InputStream in, byte[] buf, StallWatchdog watchdog) throws IOException {
        try {
            int n = in.read(buf);
            watchdog.alive();
            return n;
        } catch (IOException e) {
            if (watchdog.fired()) {
                throw new IOException("no data for " + stallTimeout.toSeconds() + " s", e);
            }
            throw e;
        }
    }

    private static void verify(HubFile file, RemoteFile remote, Path part, MessageDigest sha) throws IOException {
        long size = Files.size(part);
        if (size != remote.size()) {
            Files.deleteIfExists(part);
            throw new HubException("size mismatch for " + file + ": expected " + remote.size() + " bytes, got "
                    + size + "; the download was deleted, run the command again");
        }
        if (remote.sha256().isPresent()) {
            String actual = HexFormat.of().formatHex(sha.digest());
            if (!actual.equals(remote.sha256().get())) {
                Files.deleteIfExists(part);
                throw new HubException("checksum mismatch for " + file + ": the hub publishes sha256 "
                        + remote.sha256().get() + ", the download has " + actual
                        + "; the download was deleted, run the command again");
            }
        }
    }

    private static void move(Path part, Path target) throws IOException {
        try {
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void hashExisting(Path part, long length, MessageDigest sha) throws IOException {
        if (length == 0) {
            return;
        }
        try (InputStream in = Files.newInputStream(part)) {
            byte[] buf = new byte[BUFFER];
            long left = length;
            for (int n; left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0; left -= n) {
                sha.update(buf, 0, n);
            }
        }
    }

    static boolean isDiskFull(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (m.contains("no space left") || m.contains("not enough space") || m.contains("disk quota")) {
                return true;
            }
        }
        return false;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    private static void sleep(long millis) throws java.io.InterruptedIOException {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted");
        }
    }
}
