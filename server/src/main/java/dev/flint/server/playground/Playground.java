package dev.flint.server.playground;

import io.javalin.http.Context;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The playground page at {@code /}: an editor with ghost-text completions over the native WebSocket protocol, plain
 * HTML/CSS/JS from the classpath (no build step, nothing fetched from elsewhere). Its few files are read once and
 * served from memory; they hold no data, so they are the only routes left public when the server has an API key:
 * the page asks for the key and sends it on every call it makes.
 */
public final class Playground {
    /** Served path → classpath resource and content type. A fixed table: no path ever reaches the class loader. */
    private static final Map<String, Asset> ASSETS = Map.of(
            "/", load("index.html", "text/html; charset=utf-8"),
            "/playground/playground.js", load("playground.js", "text/javascript; charset=utf-8"),
            "/playground/playground.css", load("playground.css", "text/css; charset=utf-8"));

    /**
     * Same-origin only: the page talks to this server and nothing else (its WebSocket included; ws: is spelled out
     * because CSP's 'self' covers same-origin WebSockets only in newer browsers).
     */
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private record Asset(byte[] bytes, String contentType) {
    }

    private Playground() {
    }

    /** The paths the playground serves; the server mounts each as a GET route. */
    public static Iterable<String> paths() {
        return ASSETS.keySet();
    }

    /** Whether {@code path} is one of the page's static files (public even when the server has an API key). */
    public static boolean isPublic(String path) {
        return ASSETS.containsKey(path);
    }

    public static void serve(Context ctx) {
        Asset a = ASSETS.get(ctx.path());
        ctx.header("Content-Security-Policy", CSP).header("X-Content-Type-Options", "nosniff")
                .header("Cache-Control", "no-cache").contentType(a.contentType()).result(a.bytes());
    }

    private static Asset load(String name, String contentType) {
        try (InputStream in = Playground.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("playground resource " + name + " is missing from the jar");
            }
            return new Asset(in.readAllBytes(), contentType);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
