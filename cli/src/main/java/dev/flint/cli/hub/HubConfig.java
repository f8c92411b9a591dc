package dev.flint.cli.hub;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Where the hub is and how to reach it. The environment variables are Hugging Face's own ({@code HF_ENDPOINT},
 * {@code HF_TOKEN}), so a mirror or a token set up for huggingface-cli works here too.
 */
public record HubConfig(URI endpoint, Optional<String> token, Duration connectTimeout) {
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    public HubConfig {
        String s = endpoint.toString();
        if (!(s.startsWith("http://") || s.startsWith("https://")) || endpoint.getHost() == null) {
            throw new IllegalArgumentException("HF_ENDPOINT must be an http(s) URL like " + DEFAULT_ENDPOINT
                    + ", got '" + s + "'");
        }
        token = token.filter(t -> !t.isBlank()).map(String::strip);
    }

    public static HubConfig of(String endpoint) {
        return new HubConfig(URI.create(endpoint), Optional.empty(), Duration.ofSeconds(10));
    }

    public static HubConfig fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    static HubConfig fromEnvironment(Map<String, String> env) {
        String endpoint = env.getOrDefault("HF_ENDPOINT", "");
        return new HubConfig(URI.create(endpoint.isBlank() ? DEFAULT_ENDPOINT : endpoint.strip()),
                Optional.ofNullable(env.get("HF_TOKEN")), Duration.ofSeconds(10));
    }

    public HubConfig withToken(String token) {
        return new HubConfig(endpoint, Optional.ofNullable(token), connectTimeout);
    }

    /** {@code ENDPOINT/OWNER/REPO/resolve/REVISION/FILE}, the URL huggingface_hub's hf_hub_url builds. */
    public URI resolveUri(HubFile f) {
        String base = endpoint.toString().replaceAll("/+$", "");
        StringBuilder path = new StringBuilder(base).append('/').append(encode(f.owner())).append('/')
                .append(encode(f.repo())).append("/resolve/").append(encode(f.revision()));
        for (String part : f.file().split("/")) {
            path.append('/').append(encode(part));
        }
        return URI.create(path.toString());
    }

    /** Percent-encodes a path segment (RFC 3986 unreserved characters stay as they are). */
    static String encode(String segment) {
        StringBuilder sb = new StringBuilder();
        for (byte b : segment.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xff);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                sb.append(c);
            } else {
                sb.append('%').append(String.format("%02X", b & 0xff));
            }
        }
        return sb.toString();
    }
}
