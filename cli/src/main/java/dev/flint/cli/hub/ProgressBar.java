package dev.flint.cli.hub;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * A download's progress on stderr: percentage, bar, bytes, rate and ETA. On a terminal one line is redrawn (at most
 * ten times a second); into a file or pipe it writes a line per 10 % instead, so logs stay readable.
 */
public final class ProgressBar implements DownloadListener {
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final int BAR_WIDTH = 24;

    private final PrintWriter err;
    private final boolean terminal;
    private final LongSupplier nanoTime;

    private String name;
    private long total;
    private long resumedFrom;
    private long startNanos;
    private long lastDraw;
    private int lastDecile;
    private long done;
    private long drawnDone = -1;
    private int drawnWidth;

    public ProgressBar(PrintWriter err, boolean terminal, LongSupplier nanoTime) {
        this.err = err;
        this.terminal = terminal;
        this.nanoTime = nanoTime;
    }

    /** A bar for this process's stderr: redrawn in place when stderr is a terminal. */
    public static ProgressBar forStderr(PrintWriter err) {
        return new ProgressBar(err, System.console() != null && System.console().isTerminal(), System::nanoTime);
    }

    @Override
    public void started(String name, long total, long resumedFrom) {
        this.name = name;
        this.total = total;
        this.resumedFrom = resumedFrom;
        this.done = resumedFrom;
        this.startNanos = nanoTime.getAsLong();
        this.lastDraw = Long.MIN_VALUE;
        this.lastDecile = total > 0 ? (int) (resumedFrom * 10 / total) : 0;
        draw(true);
    }

    @Override
    public void progress(long done) {
        this.done = done;
        draw(false);
    }

    @Override
    public void finished(boolean complete) {
        draw(true);
        if (terminal) {
            err.println();
        }
        err.flush();
    }

    @Override
    public void note(String message) {
        if (terminal && drawnWidth > 0) {
            err.print("\r" + " ".repeat(drawnWidth) + "\r");
            drawnWidth = 0;
        }
        err.println(message);
        err.flush();
    }

    private void draw(boolean force) {
        long now = nanoTime.getAsLong();
        if (terminal) {
            if (!force && now - lastDraw < REDRAW_NANOS) {
                return;
            }
            lastDraw = now;
            String line = line(now);
            // pad over a longer previous line (the ETA can shrink)
            err.print("\r" + line + " ".repeat(Math.max(0, drawnWidth - line.length())));
            drawnWidth = line.length();
            err.flush();
        } else {
            int decile = total > 0 ? (int) (done * 10 / total) : 0;
            if ((!force && decile == lastDecile) || done == drawnDone) {
                return; // nothing new for the log
            }
            lastDecile = decile;
            drawnDone = done;
            err.println(line(now));
            err.flush();
        }
    }

    private String line(long now) {
        double seconds = (now - startNanos) / 1e9;
        double rate = seconds > 0 ? (done - resumedFrom) / seconds : 0;
        return render(name, done, total, rate);
    }

    /** One progress line; {@code rate} in bytes per second (0 when not known yet). */
    static String render(String name, long done, long total, double rate) {
        StringBuilder sb = new StringBuilder(name).append("  ");
        int pct = total > 0 ? (int) Math.min(100, done * 100 / total) : 0;
        int filled = total > 0 ? (int) Math.min(BAR_WIDTH, done * BAR_WIDTH / total) : 0;
        sb.append(String.format(Locale.ROOT, "%3d%% [", pct)).append("#".repeat(filled))
                .append(".".repeat(BAR_WIDTH - filled)).append("]  ")
                .append(bytes(done)).append(" / ").append(bytes(total));
        if (rate > 0) {
            sb.append("  ").append(bytes((long) rate)).append("/s");
            if (done < total) {
                sb.append("  ETA ").append(duration((long) Math.ceil((total - done) / rate)));
            }
        }
        return sb.toString();
    }

    /** 1536 -> "1.5 KiB". */
    public static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** 83 -> "1:23", 3723 -> "1:02:03". */
    static String duration(long s) {
        return s >= 3600
                ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
