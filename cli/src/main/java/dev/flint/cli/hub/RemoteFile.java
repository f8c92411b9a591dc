package dev.flint.cli.hub;

import java.net.URI;
import java.util.Optional;

/**
 * What the hub's HEAD says about a file: where to download it (the CDN URL an LFS file redirects to), its size, the
 * commit it resolved to and, for LFS files, the sha256 of its content ({@code X-Linked-Etag}). Small non-LFS files
 * carry a git blob id instead, which is no content hash, so {@code sha256} is empty for them.
 */
public record RemoteFile(URI downloadUri, long size, String commit, Optional<String> sha256) {
    /** The sha256 in an etag as the hub sends it ({@code "abc..."}, maybe weak {@code W/"..."}), if 64 hex digits. */
    static Optional<String> sha256FromEtag(String etag) {
        if (etag == null) {
            return Optional.empty();
        }
        String e = etag.strip();
        if (e.startsWith("W/")) {
            e = e.substring(2);
        }
        e = e.replace("\"", "").toLowerCase(java.util.Locale.ROOT);
        return e.matches("[0-9a-f]{64}") ? Optional.of(e) : Optional.empty();
    }
}
