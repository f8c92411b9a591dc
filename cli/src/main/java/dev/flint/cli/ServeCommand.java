package dev.flint.cli;

import dev.flint.cli.models.ModelCatalog;
import dev.flint.cli.models.ModelResolver;
import dev.flint.engine.Engine;
import dev.flint.engine.EngineOptions;
import dev.flint.engine.sched.SchedulerOptions;
import dev.flint.engine.spec.DraftModel;
import dev.flint.server.FlintServer;
import dev.flint.server.ModelService;
import dev.flint.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/** {@code flint serve}: the WebSocket, OpenAI- and llama.cpp-compatible server over one model. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model: native WebSocket protocol at /v1/ws, OpenAI /v1/*, llama.cpp /infill etc.")
final class ServeCommand extends CliCommand {
    @Option(names = {"-m", "--model"}, paramLabel = "MODEL",
            description = "GGUF file, short name or hf://OWNER/REPO/FILE.gguf (default: "
                    + ModelCatalog.DEFAULT + "; short names and hf:// are pulled into the cache when missing)")
    String model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default 127.0.0.1)")
    String host;

    @Option(names = "--port", defaultValue = "8012", description = "port (default 8012, llama.vim's)")
    int port;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "compute threads (default: available CPUs)")
    int threads;

    @Option(names = {"-np", "--parallel"}, defaultValue = "4", paramLabel = "N",
            description = "slots: requests decoded together in one batched forward pass (default 4)")
    int parallel;

    @Option(names = {"-c", "--ctx"}, defaultValue = "4096", paramLabel = "N",
            description = "context tokens per slot (default 4096)")
    int ctx;

    @Option(names = "--queue", defaultValue = "64", paramLabel = "N",
            description = "requests that may wait for a slot before the server answers 503 (default 64)")
    int queue;

    @Option(names = "--cache-reuse", defaultValue = "" + SchedulerOptions.DEFAULT_CACHE_REUSE, paramLabel = "N",
            description = "reuse cached runs of at least N tokens that moved (e.g. a FIM suffix after a keystroke), "
                    + "re-rotating their keys instead of recomputing them; 0 turns it off (default ${DEFAULT-VALUE})")
    int cacheReuse;

    @Option(names = "--cache-ram", defaultValue = "" + SchedulerOptions.DEFAULT_CACHE_RAM_MIB, paramLabel = "MiB",
            description = "host memory for the prefix tree that keeps prompts displaced from their slots, so other "
                    + "files and editors do not thrash one another; 0 turns it off (default ${DEFAULT-VALUE})")
    int cacheRam;

    @Option(names = {"--draft", "-md", "--model-draft"}, paramLabel = "MODEL",
            description = "a small model sharing the main model's vocabulary (e.g. Qwen2.5-Coder-0.5B for 7B) drafts "
                    + "tokens that the main model verifies in one batched step; same output (GGUF file, short name or "
                    + "hf://, like -m). Without it, --draft-max turns on n-gram self-speculation instead")
    String draft;

    @Option(names = "--draft-max", paramLabel = "N",
            description = "tokens drafted per step, verified in the same forward pass (same output): by the draft "
                    + "model when --draft is given (default " + SchedulerOptions.DEFAULT_DRAFT_MAX + "), else from "
                    + "n-grams of the context (default 0 = off)")
    Integer draftMax;

    @Mixin
    DraftLimitOptions draftLimits;

    @Option(names = "--api-key", paramLabel = "KEY", description = "require 'Authorization: Bearer KEY'")
    String apiKey;

    @Option(names = "--insecure", description = "allow a non-loopback --host without --api-key")
    boolean insecure;

    @Override
    public Integer call() throws Exception {
        ServerConfig config = new ServerConfig(host, port, apiKey, insecure, ServerConfig.DEFAULT_MAX_BODY);
        config.checkExposure(); // before spending seconds on loading
        int nDraft = draftMax != null ? draftMax : draft != null ? SchedulerOptions.DEFAULT_DRAFT_MAX : 0;
        SchedulerOptions options = draftLimits.applyTo(new SchedulerOptions(parallel, ctx, queue,
                Math.max(64, parallel), cacheReuse, nDraft, cacheRam)); // checked before loading too
        ModelResolver resolver = ModelResolver.fromEnvironment(err());
        Path model = resolver.resolve(this.model);
        Path draftPath = draft == null ? null : resolver.resolve(draft);
        Engine engine = Engine.load(model, EngineOptions.defaults().withThreads(threads).withContextLength(ctx));
        DraftModel draftModel;
        try {
            draftModel = draftPath == null ? null : DraftModel.load(draftPath, engine, true);
        } catch (RuntimeException | IOException e) {
            engine.close();
            throw e;
        }
        ModelService service = new ModelService(engine, model, options, draftModel);
        FlintServer server = new FlintServer(service, config).start();
        out().printf("flint: serving %s on http://%s:%d (%d slots x %d tokens; WebSocket at /v1/ws; FIM: %s; "
                        + "speculation: %s)%n",
                service.modelId(), host, server.port(), parallel, ctx,
                service.fim().map(f -> f.tokens().family()).orElse("none"),
                nDraft == 0 ? "off" : (draftModel != null ? "draft model " + draftPath.getFileName() : "n-gram")
                        + ", up to " + nDraft + " tokens");
        out().flush();
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            service.close();
            if (draftModel != null) {
                draftModel.close();
            }
            engine.close();
            stop.countDown();
        }));
        stop.await();
        return 0;
    }
}
