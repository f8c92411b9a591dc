package dev.flint.lsp;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;

/** Where the bridge's Flint server is: a running one ({@code --server}) or one it started in-process. */
interface Backend extends AutoCloseable {
    /** The native protocol's WebSocket and the key it needs (null: none). */
    record Endpoint(URI ws, String apiKey) {
    }

    /** Whether {@link #endpoint()} would answer without waiting (an in-process model may still be loading). */
    boolean ready();

    /** The endpoint, waiting for it if it is being started; fails with a message a user can act on. */
    Endpoint endpoint() throws IOException;

    @Override
    default void close() {
    }

    /** A running server at {@code http://host:port} (its WebSocket is {@code ws://host:port/v1/ws}). */
    static Backend remote(String url, String apiKey) {
        Endpoint e = new Endpoint(webSocketUri(url), apiKey);
        return new Backend() {
            @Override
            public boolean ready() {
                return true;
            }

            @Override
            public Endpoint endpoint() {
                return e;
            }
        };
    }

    /**
     * {@code http(s)://host:port[/]} → {@code ws(s)://host:port/v1/ws}; a {@code ws(s)://} URL is taken as it is
     * ({@code /v1/ws} added when it has no path).
     */
    static URI webSocketUri(String url) {
        IllegalArgumentException bad = new IllegalArgumentException(
                "--server: expected http://HOST:PORT (or ws://...), got " + url);
        URI u;
        try {
            u = new URI(url.strip());
        } catch (URISyntaxException e) {
            throw bad;
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase();
        String ws = switch (scheme) {
            case "http", "ws" -> "ws";
            case "https", "wss" -> "wss";
            default -> throw bad;
        };
        if (u.getHost() == null) {
            throw new IllegalArgumentException("--server: no host in " + url);
        }
        String path = u.getPath() == null ? "" : u.getPath();
        if (scheme.startsWith("http") || path.isEmpty() || path.equals("/")) {
            path = path.endsWith("/") ? path + "v1/ws" : path + "/v1/ws";
        }
        try {
            return new URI(ws, null, u.getHost(), u.getPort(), path, u.getQuery(), null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("--server: cannot make a WebSocket URL from " + url);
        }
    }
}
