package dev.flint.cli;

import dev.flint.engine.gguf.GgufFile;
import dev.flint.engine.tokenizer.Tokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Prints the token ids of a text as JSON. Works on vocab-only GGUF files too. */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Tokenize text with a model's tokenizer and print the ids as JSON.")
final class TokenizeCommand extends CliCommand {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "MODEL", description = "GGUF file (vocab-only files work)")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    PromptInput input;

    @Option(names = "--no-bos", description = "do not add BOS/EOS even if the model's metadata asks for them")
    boolean noBos;

    @Option(names = "--no-special", description = "treat special-token text (e.g. <|fim_prefix|>) as plain text")
    boolean noSpecial;

    @Option(names = "--pieces", description = "also print each token's text")
    boolean pieces;

    @Option(names = {"-t", "--threads"}, hidden = true, description = "accepted for symmetry; tokenizing is single-threaded")
    int threads;

    @Override
    public Integer call() throws Exception {
        String text = input.read();
        try (GgufFile f = GgufFile.open(model)) {
            Tokenizer tok = Tokenizer.fromGguf(f);
            int[] ids = tok.encode(text, !noBos, !noSpecial);
            Map<String, Object> out = new LinkedHashMap<>();
            out.put("n_tokens", ids.length);
            out.put("tokens", ids);
            if (pieces) {
                String[] p = new String[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    p[i] = tok.vocabulary().token(ids[i]);
                }
                out.put("pieces", p);
            }
            out().println(Json.write(out));
        }
        return 0;
    }
}
