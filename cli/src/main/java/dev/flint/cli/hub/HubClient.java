package dev.flint.cli.hub;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The two requests a download needs, as huggingface_hub makes them: a HEAD on {@code /resolve/} for the file's
 * metadata and a (ranged) GET on the URL it points to. Redirects are followed by hand so that the token is sent to
 * the hub only, never to the CDN a large file redirects to (its URL is signed already).
 */
public final class HubClient {
    private static final int MAX_REDIRECTS = 5;

    private final HubConfig config;
    private final HttpClient http;

    public HubClient(HubConfig config) {
        this.config = config;
        // HTTP/1.1: one stream per download gains nothing from HTTP/2, and plain-http mirrors need no h2c upgrade
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER).connectTimeout(config.connectTimeout()).build();
    }

    public HubConfig config() {
        return config;
    }

    /** The file's size, sha256, commit and download URL, from the hub's answer to a HEAD. */
    public RemoteFile head(HubFile file) throws IOException {
        URI uri = config.resolveUri(file);
        for (int hop = 0; ; hop++) {
            HttpResponse<Void> r = send(request(uri, true).method("HEAD", HttpRequest.BodyPublishers.noBody())
                    .header("Accept-Encoding", "identity"), HttpResponse.BodyHandlers.discarding(), uri);
            int status = r.statusCode();
            HttpHeaders h = r.headers();
            Optional<String> location = h.firstValue("Location");
            if (status >= 300 && status < 400 && location.isPresent()) {
                URI next = uri.resolve(location.get());
                // as in huggingface_hub, only a relative redirect (a renamed repo, the resolve cache) is followed;
                // an absolute one is the CDN holding an LFS file: its URL is the download URL, and the X-Linked-*
                // headers of this answer describe the file
                if (URI.create(location.get()).isAbsolute() || hop >= MAX_REDIRECTS) {
                    return describe(file, h, next);
                }
                uri = next;
                continue;
            }
            if (status != 200) {
                throw failure(status, h, file);
            }
            return describe(file, h, uri);
        }
    }

    /** GETs {@code uri} from byte {@code offset} on; the caller checks 206 against 200 (a server ignoring Range). */
    public HttpResponse<InputStream> get(URI uri, long offset, HubFile file) throws IOException {
        boolean withToken = sameOrigin(uri, config.endpoint());
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = request(uri, withToken);
            if (offset > 0) {
                b.header("Range", "bytes=" + offset + "-");
            }
            HttpResponse<InputStream> r = send(b.GET(), HttpResponse.BodyHandlers.ofInputStream(), uri);
            int status = r.statusCode();
            Optional<String> location = r.headers().firstValue("Location");
            if (status >= 300 && status < 400 && location.isPresent() && hop < MAX_REDIRECTS) {
                r.body().close();
                URI next = uri.resolve(location.get());
                withToken &= sameOrigin(next, uri);
                uri = next;
                continue;
            }
            if (status != 200 && status != 206) {
                r.body().close();
                throw failure(status, r.headers(), file);
            }
            return r;
        }
    }

    private RemoteFile describe(HubFile file, HttpHeaders h, URI downloadUri) throws HubException {
        // huggingface_hub refuses an answer without X-Repo-Commit: it means something other than the hub answered
        // (a captive portal, a proxy's error page), and whatever it serves is not the model
        String commit = h.firstValue("X-Repo-Commit").orElseThrow(() -> new HubException(
                "the server at " + config.endpoint() + " did not answer like a Hugging Face hub (no X-Repo-Commit "
                        + "header for " + file + "); check HF_ENDPOINT, a proxy or a firewall"));
        String etag = h.firstValue("X-Linked-Etag").or(() -> h.firstValue("ETag")).orElse(null);
        String sizeText = h.firstValue("X-Linked-Size").or(() -> h.firstValue("Content-Length")).orElseThrow(
                () -> new HubException("the hub gave no size for " + file));
        long size;
        try {
            size = Long.parseLong(sizeText.strip());
        } catch (NumberFormatException e) {
            throw new HubException("the hub gave an invalid size '" + sizeText + "' for " + file);
        }
        return new RemoteFile(downloadUri, size, commit, RemoteFile.sha256FromEtag(etag));
    }

    /** A message for a failed answer, using the hub's X-Error-Code where it sends one. */
    HubException failure(int status, HttpHeaders h, HubFile file) {
        String code = h.firstValue("X-Error-Code").orElse("");
        String repoUrl = config.endpoint().toString().replaceAll("/+$", "") + "/" + file.repoId();
        boolean hasToken = config.token().isPresent();
        String tokenAdvice = hasToken
                ? "the token in HF_TOKEN was refused or has no access to it"
                : "set HF_TOKEN to a Hugging Face access token (https://huggingface.co/settings/tokens)";
        return new HubException(switch (status) {
            case 401, 403 -> {
                if (code.equals("RepoNotFound")) {
                    yield "repository " + file.repoId() + " not found on " + config.endpoint()
                            + ", or it is private: " + tokenAdvice;
                }
                if (code.equals("GatedRepo") || status == 403) {
                    yield "access to " + file.repoId() + " is restricted (HTTP " + status + "): it is a gated or "
                            + "private repository; accept its terms at " + repoUrl + " and " + tokenAdvice;
                }
                yield "the hub refused access to " + file + " (HTTP 401): the repository may be gated or private; "
                        + tokenAdvice;
            }
            case 404 -> switch (code) {
                case "RepoNotFound" -> "repository " + file.repoId() + " not found on " + config.endpoint();
                case "RevisionNotFound" -> "revision '" + file.revision() + "' not found in " + file.repoId();
                default -> "file '" + file.file() + "' not found in " + file.repoId() + " (revision "
                        + file.revision() + ", HTTP 404); check the name at " + repoUrl;
            };
            case 416 -> "the hub refused the byte range for " + file + " (HTTP 416)";
            case 429 -> "the hub is rate-limiting requests (HTTP 429); wait a minute and run the command again";
            default -> status >= 500
                    ? "the hub answered HTTP " + status + " for " + file + "; it may be down, try again later"
                    : "unexpected HTTP " + status + " from the hub for " + file;
        });
    }

    private <T> HttpResponse<T> send(HttpRequest.Builder b, HttpResponse.BodyHandler<T> handler, URI uri)
            throws IOException {
        try {
            return http.send(b.build(), handler);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new java.io.InterruptedIOException("interrupted while talking to " + uri.getHost());
        } catch (IOException e) {
            throw unreachable(uri, e);
        }
    }

    /** Turns a connection failure into a message that names the host and what probably went wrong. */
    static HubException unreachable(URI uri, IOException e) {
        String host = uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "");
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return new HubException("cannot resolve host " + uri.getHost() + ": are you offline? "
                        + "(set HF_ENDPOINT for a mirror)", e);
            }
            if (t instanceof HttpConnectTimeoutException) {
                return new HubException("timed out connecting to " + host + ": are you offline or behind a proxy?", e);
            }
            if (t instanceof ConnectException) {
                return new HubException("cannot reach " + host + " (" + Objects.requireNonNullElse(t.getMessage(),
                        "connection refused") + "): check the network connection and HF_ENDPOINT", e);
            }
            if (t instanceof HttpTimeoutException) {
                return new HubException("timed out waiting for " + host, e);
            }
        }
        return new HubException("connection to " + host + " failed: " + e, e);
    }

    /** A request; the timeout bounds the wait for the answer's headers, not the body. */
    private HttpRequest.Builder request(URI uri, boolean withToken) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).header("User-Agent", userAgent())
                .timeout(Duration.ofSeconds(30));
        if (withToken) {
            config.token().ifPresent(t -> b.header("Authorization", "Bearer " + t));
        }
        return b;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getHost(), b.getHost())
                && a.getPort() == b.getPort();
    }

    private static String userAgent() {
        String v = HubClient.class.getPackage().getImplementationVersion();
        return "flint/" + (v == null ? "dev" : v) + "; java/" + Runtime.version().feature();
    }
}
