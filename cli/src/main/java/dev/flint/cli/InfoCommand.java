package dev.flint.cli;

import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.gguf.GgufTensor;
import dev.flint.engine.model.ModelConfig;
import dev.flint.engine.tensor.GgmlType;
import dev.flint.engine.tokenizer.Tokenizer;
import dev.flint.engine.tokenizer.Vocabulary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** Describes a model file: architecture, hyper-parameters, tensor types, tokenizer, FIM tokens, size. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a GGUF model.")
final class InfoCommand extends CliCommand {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = "--json", description = "print JSON instead of text")
    boolean json;

    @Option(names = {"-t", "--threads"}, hidden = true)
    int threads;

    @Override
    public Integer call() throws Exception {
        try (GgufFile f = GgufFile.open(model)) {
            Map<String, Object> info = describe(f);
            if (json) {
                out().println(Json.write(info));
            } else {
                print(info, "");
            }
        }
        return 0;
    }

    static Map<String, Object> describe(GgufFile f) {
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("file", f.path().toString());
        info.put("gguf_version", f.version());
        info.put("size_bytes", f.fileSize());
        ModelConfig c = ModelConfig.from(f);
        info.put("architecture", c.architecture().ggufName);
        info.put("name", c.name());
        Map<String, Object> hp = new LinkedHashMap<>();
        hp.put("context_length", c.contextLength());
        hp.put("embedding_length", c.embeddingLength());
        hp.put("block_count", c.blockCount());
        hp.put("feed_forward_length", c.feedForwardLength());
        hp.put("head_count", c.headCount());
        hp.put("head_count_kv", c.headCountKv());
        hp.put("head_dim", c.headDim());
        hp.put("rope_dim", c.ropeDim());
        hp.put("rope_freq_base", c.ropeFreqBase());
        hp.put("rope_freq_scale", c.ropeFreqScale());
        hp.put("norm_eps", c.normEps());
        info.put("hyperparameters", hp);

        Map<String, Integer> types = new TreeMap<>();
        long params = 0;
        for (GgufTensor t : f.tensors().values()) {
            types.merge(t.type().name(), 1, Integer::sum);
            params += t.elementCount();
        }
        info.put("parameters", params);
        info.put("tensor_count", f.tensors().size());
        info.put("tensor_types", types);
        String unsupported = f.tensors().values().stream().map(GgufTensor::type).filter(t -> !t.supported)
                .map(GgmlType::name).distinct().reduce((a, b) -> a + ", " + b).orElse(null);
        if (unsupported != null) {
            info.put("unsupported_tensor_types", unsupported);
        }

        Tokenizer tok = Tokenizer.fromGguf(f);
        Vocabulary v = tok.vocabulary();
        Map<String, Object> tk = new LinkedHashMap<>();
        tk.put("model", v.model().ggufName);
        tk.put("pre", v.preName());
        tk.put("size", v.size());
        tk.put("add_bos", v.addBos());
        tk.put("bos", special(v, v.bos()));
        tk.put("eos", special(v, v.eos()));
        tk.put("eot", special(v, v.eot()));
        Map<String, Object> fim = new LinkedHashMap<>();
        fim.put("prefix", special(v, v.special().fimPrefix()));
        fim.put("suffix", special(v, v.special().fimSuffix()));
        fim.put("middle", special(v, v.special().fimMiddle()));
        fim.put("pad", special(v, v.special().fimPad()));
        fim.put("repo", special(v, v.special().fimRepo()));
        fim.put("file_sep", special(v, v.special().fimSep()));
        tk.put("fim", fim);
        info.put("tokenizer", tk);
        return info;
    }

    private static Object special(Vocabulary v, int id) {
        return id < 0 ? null : Map.of("id", id, "text", v.token(id));
    }

    @SuppressWarnings("unchecked")
    private void print(Map<String, Object> m, String indent) {
        for (var e : m.entrySet()) {
            if (e.getValue() instanceof Map<?, ?> sub) {
                if (!indent.isEmpty() && sub.keySet().equals(java.util.Set.of("id", "text"))) {
                    out().println(indent + e.getKey() + ": " + sub.get("id") + " " + sub.get("text"));
                    continue;
                }
                out().println(indent + e.getKey() + ":");
                print((Map<String, Object>) sub, indent + "  ");
            } else {
                out().println(indent + e.getKey() + ": " + (e.getValue() == null ? "-" : e.getValue()));
            }
        }
    }
}
