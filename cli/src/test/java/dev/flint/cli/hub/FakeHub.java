package dev.flint.cli.hub;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Hugging Face hub on loopback with the real URL layout and headers: {@code /OWNER/REPO/resolve/REV/FILE} answers
 * HEAD and GET with a 302 to a "CDN" (a second server, so another origin) plus {@code X-Repo-Commit},
 * {@code X-Linked-Etag} and {@code X-Linked-Size}; the CDN serves the bytes with Range support. It records the
 * requests it saw and can cut a transfer short, publish a wrong hash or demand a token.
 */
public final class FakeHub implements AutoCloseable {
    public static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    /** A hosted file and how to misbehave with it. */
    public static final class Hosted {
        final byte[] content;
        String publishedSha;
        volatile int cutAfterBytesOnce = -1;
        volatile long throttleNanosPer64k;
        volatile long stallMillisOnce;
        String requiredToken;

        Hosted(byte[] content) {
            this.content = content;
            this.publishedSha = sha256(content);
        }

        public Hosted publishSha(String sha) {
            this.publishedSha = sha;
            return this;
        }

        /** The first CDN GET sends the full Content-Length but only {@code n} bytes, then drops the connection. */
        public Hosted cutOnceAfter(int n) {
            this.cutAfterBytesOnce = n;
            return this;
        }

        /** The first CDN GET sends {@code n} bytes and then nothing for {@code millis} before dropping. */
        public Hosted stallOnceAfter(int n, long millis) {
            this.cutAfterBytesOnce = n;
            this.stallMillisOnce = millis;
            return this;
        }

        /** Slows the CDN so concurrent pulls really overlap. */
        public Hosted throttle(long nanosPer64k) {
            this.throttleNanosPer64k = nanosPer64k;
            return this;
        }

        /** Answers 401 GatedRepo unless {@code Authorization: Bearer token} is sent. */
        public Hosted gated(String token) {
            this.requiredToken = token;
            return this;
        }
    }

    private final HttpServer hub;
    private final HttpServer cdn;
    private final Map<String, Hosted> files = new ConcurrentHashMap<>();
    private final Map<String, String> renamed = new ConcurrentHashMap<>();
    public final AtomicInteger cdnGets = new AtomicInteger();
    public final List<String> rangesSeen = new CopyOnWriteArrayList<>();
    public final List<String> hubAuthorizations = new CopyOnWriteArrayList<>();
    public final List<String> cdnAuthorizations = new CopyOnWriteArrayList<>();
    public volatile boolean sendRepoCommit = true;

    public FakeHub() throws IOException {
        InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        hub = HttpServer.create(loopback, 0);
        cdn = HttpServer.create(loopback, 0);
        hub.createContext("/", this::hub);
        cdn.createContext("/cdn/", this::cdn);
        // a thread per exchange: concurrent pulls must not queue behind each other in the server
        hub.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        cdn.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
        hub.start();
        cdn.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + hub.getAddress().getPort();
    }

    public HubConfig config() {
        return HubConfig.of(endpoint());
    }

    /** Hosts {@code content} as {@code OWNER/REPO/FILE} on main. */
    public Hosted host(String repoId, String file, byte[] content) {
        Hosted h = new Hosted(content);
        files.put(repoId + "/resolve/main/" + file, h);
        return h;
    }

    /** Answers requests for {@code oldRepoId} with a relative 307 to {@code newRepoId}, as the hub does. */
    public void rename(String oldRepoId, String newRepoId) {
        renamed.put(oldRepoId + "/", newRepoId + "/");
    }

    private void hub(HttpExchange ex) throws IOException {
        try (ex) {
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth != null) {
                hubAuthorizations.add(auth);
            }
            String path = ex.getRequestURI().getPath().substring(1);
            if (sendRepoCommit) {
                ex.getResponseHeaders().add("X-Repo-Commit", COMMIT);
            }
            for (var r : renamed.entrySet()) {
                if (path.startsWith(r.getKey())) {
                    ex.getResponseHeaders().add("Location", "/" + r.getValue() + path.substring(r.getKey().length()));
                    ex.sendResponseHeaders(307, -1);
                    return;
                }
            }
            Hosted h = files.get(path);
            if (h == null) {
                ex.getResponseHeaders().add("X-Error-Code", "EntryNotFound");
                ex.sendResponseHeaders(404, -1);
                return;
            }
            if (h.requiredToken != null && !("Bearer " + h.requiredToken).equals(auth)) {
                ex.getResponseHeaders().add("X-Error-Code", "GatedRepo");
                ex.sendResponseHeaders(401, -1);
                return;
            }
            ex.getResponseHeaders().add("X-Linked-Etag", "\"" + h.publishedSha + "\"");
            ex.getResponseHeaders().add("X-Linked-Size", Long.toString(h.content.length));
            ex.getResponseHeaders().add("ETag", "\"1234abcd\"");
            ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + cdn.getAddress().getPort() + "/cdn/" + path
                    + "?signature=abc");
            ex.sendResponseHeaders(302, -1);
        }
    }

    private void cdn(HttpExchange ex) throws IOException {
        try (ex) {
            if (!ex.getRequestMethod().equals("GET")) {
                ex.sendResponseHeaders(405, -1);
                return;
            }
            cdnGets.incrementAndGet();
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth != null) {
                cdnAuthorizations.add(auth);
            }
            Hosted h = files.get(ex.getRequestURI().getPath().substring("/cdn/".length()));
            if (h == null) {
                ex.sendResponseHeaders(404, -1);
                return;
            }
            int from = 0;
            String range = ex.getRequestHeaders().getFirst("Range");
            if (range != null) {
                rangesSeen.add(range);
                from = Integer.parseInt(range.replaceAll("bytes=(\\d+)-.*", "$1"));
                ex.getResponseHeaders().add("Content-Range",
                        "bytes " + from + "-" + (h.content.length - 1) + "/" + h.content.length);
            }
            int length = h.content.length - from;
            ex.sendResponseHeaders(range != null ? 206 : 200, length);
            int cut = h.cutAfterBytesOnce;
            h.cutAfterBytesOnce = -1;
            OutputStream out = ex.getResponseBody();
            int end = cut >= 0 ? Math.min(h.content.length, from + cut) : h.content.length;
            for (int pos = from; pos < end; pos += 65536) {
                out.write(h.content, pos, Math.min(65536, end - pos));
                out.flush();
                if (h.throttleNanosPer64k > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(h.throttleNanosPer64k);
                }
            }
            if (cut >= 0 && h.stallMillisOnce > 0) {
                long millis = h.stallMillisOnce;
                h.stallMillisOnce = 0;
                try {
                    Thread.sleep(millis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (cut >= 0) {
                // fewer bytes than announced, then an exception out of the handler: the server closes the connection
                throw new IOException("fake hub: cutting the connection after " + cut + " bytes");
            }
        }
    }

    public static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        hub.stop(0);
        cdn.stop(0);
    }
}
