package dev.flint.server;

import dev.flint.server.api.llamacpp.LlamaCompletionHandler;
import dev.flint.server.api.llamacpp.LlamaInfoHandlers;
import dev.flint.server.api.openai.ChatCompletionsHandler;
import dev.flint.server.api.openai.CompletionsHandler;
import dev.flint.server.http.ApiException;
import dev.flint.server.http.Json;
import dev.flint.server.playground.Playground;
import dev.flint.server.ws.WsEndpoint;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import io.javalin.json.JavalinJackson;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;

/**
 * The HTTP and WebSocket front of a {@link ModelService}: Javalin 6 on Jetty with virtual threads. Routes:
 * native protocol at {@code /v1/ws}; OpenAI {@code /v1/completions}, {@code /v1/chat/completions},
 * {@code /v1/models}; llama.cpp {@code /completion}, {@code /infill}, {@code /tokenize}, {@code /detokenize},
 * {@code /health}, {@code /props}, {@code /slots}; Prometheus {@code /metrics}; the playground page at {@code /}.
 * Errors leave as one JSON shape.
 */
public final class FlintServer implements AutoCloseable {
    private final ModelService service;
    private final ServerConfig config;
    private final Javalin app;

    public FlintServer(ModelService service, ServerConfig config) {
        config.checkExposure();
        this.service = service;
        this.config = config;
        var openAi = new CompletionsHandler(service);
        var chat = new ChatCompletionsHandler(service);
        var infill = new LlamaCompletionHandler(service, true);
        var completion = new LlamaCompletionHandler(service, false);
        var info = new LlamaInfoHandlers(service);
        var ws = new WsEndpoint(service);
        this.app = Javalin.create(c -> {
            c.useVirtualThreads = true;
            c.showJavalinBanner = false;
            c.http.maxRequestSize = config.maxBodyBytes();
            c.jsonMapper(new JavalinJackson(Json.MAPPER, true));
            c.jetty.modifyWebSocketServletFactory(f -> {
                f.setMaxTextMessageSize(config.maxBodyBytes());
                f.setIdleTimeout(Duration.ofMinutes(10));
            });
            c.router.mount(r -> {
                r.before(this::authorize);
                r.wsBeforeUpgrade(this::authorize); // the WebSocket handshake needs the key too
                r.post("/v1/completions", openAi::handle);
                r.post("/v1/chat/completions", chat::handle);
                r.post("/chat/completions", chat::handle);
                r.get("/v1/models", this::models);
                r.get("/models", this::models);
                r.post("/completion", completion::handle);
                r.post("/completions", completion::handle);
                r.post("/infill", infill::handle);
                r.post("/tokenize", info::tokenize);
                r.post("/detokenize", info::detokenize);
                r.get("/health", info::health);
                r.get("/v1/health", info::health);
                r.get("/props", info::props);
                r.get("/slots", info::slots);
                r.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                        .result(service.metrics().scrape()));
                r.ws("/v1/ws", ws::configure);
                for (String path : Playground.paths()) {
                    r.get(path, Playground::serve);
                }
            });
        });
        app.exception(ApiException.class, (e, ctx) -> {
            service.metrics().rejected("http", e.status()); // not the path: unknown paths would explode the label set
            error(ctx, e);
        });
        app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, new ApiException(e.getStatus(),
                e.getStatus() == 413 ? "request_too_large" : "invalid_request_error",
                e.getStatus() == 413 ? "the request body is larger than " + config.maxBodyBytes() + " bytes"
                        : e.getMessage(), null)));
        app.exception(Exception.class, (e, ctx) -> error(ctx, new ApiException(500, "server_error",
                "internal error: " + e, null)));
        app.error(404, ctx -> {
            if (ctx.result() == null || ctx.result().isEmpty() || !ctx.res().getContentType().contains("json")) {
                error(ctx, new ApiException(404, "not_found_error", "no route " + ctx.method() + " " + ctx.path(),
                        null));
            }
        });
        app.error(405, ctx -> error(ctx, new ApiException(405, "invalid_request_error",
                "method " + ctx.method() + " not allowed on " + ctx.path(), null)));
    }

    public FlintServer start() {
        app.start(config.host(), config.port());
        return this;
    }

    public int port() {
        return app.port();
    }

    public ModelService service() {
        return service;
    }

    /**
     * Bearer key on everything except {@code /health} (llama.cpp leaves it public for load balancers) and the
     * playground's static files (the page asks for the key and sends it on its own calls).
     */
    private void authorize(Context ctx) {
        if (config.apiKey() == null || ctx.path().endsWith("/health")
                || ctx.method() == HandlerType.GET && Playground.isPublic(ctx.path())) {
            return;
        }
        String h = ctx.header("Authorization");
        String given = h != null && h.startsWith("Bearer ") ? h.substring(7) : ctx.queryParam("api_key");
        if (given == null || !MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8),
                config.apiKey().getBytes(StandardCharsets.UTF_8))) {
            throw new ApiException(401, "authentication_error", "invalid or missing API key", null);
        }
    }

    private void models(Context ctx) {
        ObjectNode r = Json.object().put("object", "list");
        r.putArray("data").addObject().put("id", service.modelId()).put("object", "model")
                .put("created", service.created()).put("owned_by", "flint");
        ctx.json(r);
    }

    /**
     * The one error body: OpenAI's {@code {"error": {message, type, param, code}}}, where {@code code} is the HTTP
     * status as llama.cpp's server writes it, so both kinds of client read it.
     */
    static void error(Context ctx, ApiException e) {
        ObjectNode body = Json.object();
        ObjectNode err = body.putObject("error").put("message", e.getMessage()).put("type", e.type());
        if (e.param() != null) {
            err.put("param", e.param());
        } else {
            err.putNull("param");
        }
        err.put("code", e.status());
        ctx.status(HttpStatus.forStatus(e.status())).contentType("application/json").result(Json.write(body));
    }

    @Override
    public void close() {
        app.stop();
    }
}
