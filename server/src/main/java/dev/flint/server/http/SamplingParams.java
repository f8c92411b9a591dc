package dev.flint.server.http;

import dev.flint.engine.sampling.SamplerConfig;
import dev.flint.engine.sched.Speculation;

/**
 * Reads sampler fields shared by the OpenAI and llama.cpp APIs onto a base configuration (each API's defaults), and a
 * request's speculative-decoding limits.
 */
public final class SamplingParams {
    private SamplingParams() {
    }

    /**
     * A request's speculative-decoding limits, under llama.cpp's names ({@code speculative.n_max},
     * {@code speculative.n_min}, {@code speculative.p_min}); fields left out take the server's settings. A request
     * may draft fewer tokens than the server's {@code --draft-max}, not more (values above it are capped).
     */
    public static Speculation speculation(Params p) {
        int nMax = p.integer("speculative.n_max", -1, 0, 64);
        int nMin = p.integer("speculative.n_min", -1, 0, 64);
        float pMin = (float) p.number("speculative.p_min", -1, 0, 1);
        if (nMax >= 0 && nMin > nMax) {
            throw ApiException.badParam("speculative.n_min", "'speculative.n_min' (" + nMin
                    + ") must not exceed 'speculative.n_max' (" + nMax + ")");
        }
        return nMax < 0 && nMin < 0 && pMin < 0 ? Speculation.SERVER : new Speculation(nMax, nMin, pMin);
    }

    public static SamplerConfig read(Params p, SamplerConfig base) {
        float temperature = (float) p.number("temperature", base.temperature(), 0, 100);
        float topP = (float) p.number("top_p", base.topP(), 0, 1);
        int topK = p.integer("top_k", base.topK(), 0, 1_000_000);
        float minP = (float) p.number("min_p", base.minP(), 0, 1);
        float repeat = (float) p.number("repeat_penalty", base.repeatPenalty(), 0.01, 100);
        float freq = (float) p.number("frequency_penalty", base.frequencyPenalty(), -2, 2);
        float presence = (float) p.number("presence_penalty", base.presencePenalty(), -2, 2);
        int lastN = p.integer("repeat_last_n", base.penaltyLastN(), -1, 1_000_000);
        Long seed = p.optionalLong("seed");
        if (seed != null && seed == 0xFFFFFFFFL) {
            seed = null; // llama.cpp's "random seed"
        }
        return new SamplerConfig(temperature, topK, topP, minP, repeat, freq, presence, lastN,
                seed != null ? seed : base.seed());
    }

    /** OpenAI's defaults: temperature 1, no top-k, top-p 1. */
    public static SamplerConfig openAiDefaults() {
        return new SamplerConfig(1f, 0, 1f, 0f, 1f, 0f, 0f, 64, null);
    }
}
