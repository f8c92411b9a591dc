package dev.flint.lsp;

import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.sched.SchedulerOptions;
import dev.flint.server.FlintServer;
import dev.flint.server.ModelService;
import dev.flint.server.ServerConfig;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * {@code flint lsp -m MODEL}: a Flint server of its own on a loopback port, reached through the same WebSocket as a
 * remote one so both modes share one code path. The model loads in the background while the editor initializes;
 * a random API key keeps other local users off the port.
 */
final class InProcessBackend implements Backend {
    private final CompletableFuture<Running> running = new CompletableFuture<>();

    private record Running(Engine engine, ModelService service, FlintServer server, Endpoint endpoint) {
    }

    InProcessBackend(Path model, int threads, int ctx, int slots) {
        Thread.ofPlatform().name("flint-lsp-load").daemon().start(() -> {
            try {
                running.complete(start(model, threads, ctx, slots));
            } catch (Throwable e) {
                Log.warn("cannot start the model " + model + ": " + FlintSocket.rootMessage(e));
                running.completeExceptionally(e);
            }
        });
    }

    private static Running start(Path model, int threads, int ctx, int slots) throws IOException {
        long t0 = System.nanoTime();
        Engine engine = Engine.load(model, EngineOptions.defaults().withThreads(threads).withContextLength(ctx));
        ModelService service = null;
        try {
            service = new ModelService(engine, model, new SchedulerOptions(slots, ctx, 16, Math.max(64, slots)));
            byte[] key = new byte[16];
            new SecureRandom().nextBytes(key);
            String apiKey = HexFormat.of().formatHex(key);
            FlintServer server = new FlintServer(service, new ServerConfig("127.0.0.1", 0, apiKey, false,
                    ServerConfig.DEFAULT_MAX_BODY)).start();
            Log.info(String.format("serving %s in-process on 127.0.0.1:%d (loaded in %d ms)", service.modelId(),
                    server.port(), (System.nanoTime() - t0) / 1_000_000));
            return new Running(engine, service, server,
                    new Endpoint(URI.create("ws://127.0.0.1:" + server.port() + "/v1/ws"), apiKey));
        } catch (RuntimeException e) {
            if (service != null) {
                service.close();
            }
            engine.close();
            throw e;
        }
    }

    @Override
    public boolean ready() {
        return running.isDone() && !running.isCompletedExceptionally();
    }

    @Override
    public Endpoint endpoint() throws IOException {
        try {
            return running.get().endpoint();
        } catch (ExecutionException e) {
            throw new IOException("the in-process model failed to start: " + FlintSocket.rootMessage(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the model was loading", e);
        }
    }

    @Override
    public void close() {
        running.thenAccept(r -> {
            r.server().close();
            r.service().close();
            r.engine().close();
        });
    }
}
