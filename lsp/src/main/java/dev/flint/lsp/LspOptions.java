package dev.flint.lsp;

import java.util.List;

/**
 * How the bridge asks for completions. The request defaults suit code completion as llama.vim does it: a short
 * fill-in-the-middle continuation that stops at a blank line, at a line indented less than the cursor's, or at the
 * first newline after {@code tMaxPredictMs} of generation.
 *
 * @param debounceMs    a request superseded within this window never reaches the server
 * @param maxTokens     {@code max_tokens} of each completion
 * @param tMaxPredictMs {@code t_max_predict_ms} (0: no time budget)
 * @param stop          stop strings
 * @param extraChunks   at most this many {@code extra} chunks from the other open documents
 * @param extraLines    lines per chunk
 * @param trace         log every WebSocket message to stderr
 */
public record LspOptions(int debounceMs, int maxTokens, int tMaxPredictMs, List<String> stop, int extraChunks,
                         int extraLines, boolean trace) {
    public static final int DEFAULT_DEBOUNCE_MS = 75;
    /** Characters per {@code extra} chunk, whatever its line count: long minified lines must not blow the budget. */
    static final int EXTRA_MAX_CHARS = 4096;

    public LspOptions {
        stop = List.copyOf(stop);
        if (debounceMs < 0 || maxTokens < 1 || tMaxPredictMs < 0 || extraChunks < 0 || extraLines < 1) {
            throw new IllegalArgumentException("need --debounce-ms >= 0, --max-tokens >= 1, --t-max-predict-ms >= 0");
        }
    }

    public static LspOptions defaults() {
        return new LspOptions(DEFAULT_DEBOUNCE_MS, 96, 500, List.of("\n\n"), 8, 64, false);
    }

    public LspOptions withDebounceMs(int ms) {
        return new LspOptions(ms, maxTokens, tMaxPredictMs, stop, extraChunks, extraLines, trace);
    }

    public LspOptions withMaxTokens(int n) {
        return new LspOptions(debounceMs, n, tMaxPredictMs, stop, extraChunks, extraLines, trace);
    }

    public LspOptions withTMaxPredictMs(int ms) {
        return new LspOptions(debounceMs, maxTokens, ms, stop, extraChunks, extraLines, trace);
    }

    public LspOptions withStop(List<String> s) {
        return new LspOptions(debounceMs, maxTokens, tMaxPredictMs, s, extraChunks, extraLines, trace);
    }

    public LspOptions withTrace(boolean t) {
        return new LspOptions(debounceMs, maxTokens, tMaxPredictMs, stop, extraChunks, extraLines, t);
    }
}
