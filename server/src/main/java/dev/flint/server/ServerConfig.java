package dev.flint.server;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * How to serve: where to listen, the optional API key, and whether a non-loopback bind without a key was explicitly
 * allowed ({@code --insecure}).
 */
public record ServerConfig(String host, int port, String apiKey, boolean insecure, long maxBodyBytes) {
    public static final long DEFAULT_MAX_BODY = 4L << 20;

    public ServerConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be within 0..65535");
        }
        if (apiKey != null && apiKey.isBlank()) {
            apiKey = null;
        }
    }

    public static ServerConfig loopback(int port) {
        return new ServerConfig("127.0.0.1", port, null, false, DEFAULT_MAX_BODY);
    }

    /** Refuses to expose an unauthenticated server beyond this machine unless told to. */
    public void checkExposure() {
        boolean loopback;
        try {
            loopback = InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve host " + host);
        }
        if (!loopback && apiKey == null && !insecure) {
            throw new IllegalArgumentException("refusing to listen on " + host + " (not loopback) without --api-key;"
                    + " pass --api-key KEY, or --insecure to serve without authentication");
        }
    }
}
