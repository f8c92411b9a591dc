package dev.flint.cli.replay;

import java.net.URI;

/**
 * What every request carries. Defaults are llama.vim's: {@code n_prefix} 256 and {@code n_suffix} 64 lines,
 * {@code n_predict} 128, {@code t_max_prompt_ms} 500, and {@code t_max_predict_ms} 250 (llama.vim sends 250 for a
 * request triggered by typing; its configured 1000 applies only to the speculative follow-up request).
 * {@code temperature} null leaves the server's default (llama.vim sends none).
 */
public record ReplaySettings(URI base, String apiKey, int nPredict, int nPrefix, int nSuffix, int tMaxPromptMs,
                             int tMaxPredictMs, Double temperature, int timeoutMs) {

    /** {@code --url} as given: a server root, or llama.vim's endpoint ending in {@code /infill}. */
    public static URI baseOf(String url) {
        URI u;
        try {
            u = URI.create(url.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--url '" + url + "' is not a URL: " + e.getMessage());
        }
        if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
            throw new IllegalArgumentException("--url must be http://HOST:PORT or https://HOST:PORT, got '" + url + "'");
        }
        String path = u.getPath() == null ? "" : u.getPath();
        if (path.endsWith("/infill")) {
            path = path.substring(0, path.length() - "/infill".length());
        }
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        return URI.create(u.getScheme() + "://" + u.getRawAuthority() + path);
    }

    URI infill() {
        return URI.create(base + "/infill");
    }

    URI webSocket() {
        return URI.create(("https".equals(base.getScheme()) ? "wss" : "ws") + base.toString()
                .substring(base.getScheme().length()) + "/v1/ws");
    }
}
