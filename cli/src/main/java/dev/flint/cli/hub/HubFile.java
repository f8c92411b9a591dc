package dev.flint.cli.hub;

import java.util.Locale;

/**
 * One file in a Hugging Face model repository: {@code hf://OWNER/REPO/PATH.gguf}, at a revision (a branch, tag or
 * commit; {@code main} unless given as {@code hf://OWNER/REPO/PATH.gguf@REVISION}).
 */
public record HubFile(String owner, String repo, String file, String revision) {
    public static final String SCHEME = "hf://";

    public HubFile {
        checkSegment(owner, "owner");
        checkSegment(repo, "repository");
        if (file == null || file.isEmpty()) {
            throw new IllegalArgumentException("no file named after the repository: use hf://OWNER/REPO/FILE.gguf");
        }
        for (String part : file.split("/", -1)) {
            checkSegment(part, "file path");
        }
        if (!file.toLowerCase(Locale.ROOT).endsWith(".gguf")) {
            throw new IllegalArgumentException("'" + file + "' is not a .gguf file; Flint loads GGUF models only");
        }
        for (String part : revision == null ? new String[] {null} : revision.split("/", -1)) {
            checkSegment(part, "revision"); // a branch may have slashes (refs/pr/1); it is one URL segment
        }
    }

    /** Parses {@code hf://OWNER/REPO/PATH/TO/FILE.gguf[@REVISION]}. */
    public static HubFile parse(String ref) {
        if (!ref.startsWith(SCHEME)) {
            throw new IllegalArgumentException("'" + ref + "' is not an hf:// reference (hf://OWNER/REPO/FILE.gguf)");
        }
        String rest = ref.substring(SCHEME.length());
        String revision = "main";
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            revision = rest.substring(at + 1);
            rest = rest.substring(0, at);
        }
        String[] parts = rest.split("/", 3);
        if (parts.length < 3) {
            throw new IllegalArgumentException("'" + ref + "' names no file: use hf://OWNER/REPO/FILE.gguf");
        }
        return new HubFile(parts[0], parts[1], parts[2], revision);
    }

    public String repoId() {
        return owner + "/" + repo;
    }

    /** The file's name without its folders. */
    public String fileName() {
        return file.substring(file.lastIndexOf('/') + 1);
    }

    @Override
    public String toString() {
        return SCHEME + repoId() + "/" + file + ("main".equals(revision) ? "" : "@" + revision);
    }

    // Segments become both URL path segments and cache directories: refuse what could escape either.
    private static void checkSegment(String s, String what) {
        if (s == null || s.isEmpty() || s.equals(".") || s.equals("..") || s.contains("\\") || s.contains("/")
                || s.chars().anyMatch(c -> c < 0x20)) {
            throw new IllegalArgumentException("invalid " + what + " '" + s + "' in a Hugging Face reference");
        }
    }
}
