package dev.flint.cli;

import dev.flint.cli.hub.Downloader;
import dev.flint.cli.hub.HubClient;
import dev.flint.cli.hub.HubConfig;
import dev.flint.cli.hub.HubFile;
import dev.flint.cli.hub.ProgressBar;
import dev.flint.cli.models.ModelCache;
import dev.flint.cli.models.ModelCatalog;
import dev.flint.cli.models.ModelResolver;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;

/** {@code flint pull}: downloads a GGUF model from Hugging Face into the cache. */
@Command(name = "pull", mixinStandardHelpOptions = true,
        description = {"Download a GGUF model from Hugging Face into the cache, with resume and sha256 check.",
                "MODEL is a short name (see README) or hf://OWNER/REPO/FILE.gguf[@REVISION].",
                "Set HF_TOKEN for gated or private repositories, HF_ENDPOINT for a mirror."})
final class PullCommand extends CliCommand {
    @Parameters(arity = "0..1", paramLabel = "MODEL",
            description = "short name or hf:// reference (default: " + ModelCatalog.DEFAULT + ")")
    String model;

    @Option(names = "--cache-dir", paramLabel = "DIR",
            description = "cache directory (default: $FLINT_HOME, else ~/.cache/flint)")
    Path cacheDir;

    @Option(names = "--endpoint", paramLabel = "URL",
            description = "hub URL (default: $HF_ENDPOINT, else " + HubConfig.DEFAULT_ENDPOINT + ")")
    String endpoint;

    @Override
    public Integer call() throws Exception {
        if (model != null && !model.startsWith(HubFile.SCHEME) && ModelCatalog.find(model).isEmpty()) {
            throw new IllegalArgumentException("unknown model '" + model + "': use a short name ("
                    + ModelCatalog.names() + ") or hf://OWNER/REPO/FILE.gguf");
        }
        HubFile file = ModelResolver.reference(model).orElseThrow();
        ModelCache cache = cacheDir != null ? new ModelCache(cacheDir) : ModelCache.fromEnvironment();
        HubConfig hub = HubConfig.fromEnvironment();
        if (endpoint != null) {
            hub = new HubConfig(java.net.URI.create(endpoint), hub.token(), hub.connectTimeout());
        }
        ModelResolver resolver = new ModelResolver(cache, new Downloader(new HubClient(hub)),
                () -> ProgressBar.forStderr(err()), err());
        Downloader.Result r = resolver.pull(file);
        if (!r.downloaded()) {
            err().println("flint: " + file + " is cached already");
        }
        out().println(r.path());
        return 0;
    }
}
