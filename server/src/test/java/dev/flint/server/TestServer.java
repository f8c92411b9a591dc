package dev.flint.server;

import dev.flint.engine.Fixtures;
import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.sched.SchedulerOptions;
import dev.flint.engine.spec.DraftModel;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;

/** A real server on a loopback port over a fixture model, for integration tests. */
public final class TestServer implements AutoCloseable {
    public final Engine engine;
    public final ModelService service;
    public final FlintServer server;
    public final HttpClient http = HttpClient.newHttpClient();

    public TestServer(String model, int slots, int ctx, int queue, String apiKey) throws IOException {
        this(model(model), slots, ctx, queue, apiKey);
    }

    public final DraftModel draft;

    public TestServer(Path model, int slots, int ctx, int queue, String apiKey) throws IOException {
        this(model, new SchedulerOptions(slots, ctx, queue, 64), null, apiKey);
    }

    /** A server with these scheduler options and, when {@code draftModel} is not null, that draft model. */
    public TestServer(Path model, SchedulerOptions options, Path draftModel, String apiKey) throws IOException {
        engine = Engine.load(model, EngineOptions.defaults().withThreads(1).withWarmup(false)
                .withContextLength(options.contextLength()));
        draft = draftModel == null ? null : DraftModel.load(draftModel, engine, false);
        service = new ModelService(engine, model, options, draft);
        server = new FlintServer(service, new ServerConfig("127.0.0.1", 0, apiKey, false,
                ServerConfig.DEFAULT_MAX_BODY)).start();
    }

    public static Path fixtures() {
        return Fixtures.dir();
    }

    public static Path model(String file) {
        return fixtures().resolve("models").resolve(file);
    }

    public String base() {
        return "http://127.0.0.1:" + server.port();
    }

    public URI uri(String path) {
        return URI.create(base() + path);
    }

    public HttpResponse<String> post(String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> postBytes(String path, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        server.close();
        service.close();
        if (draft != null) {
            draft.close();
        }
        engine.close();
    }
}
