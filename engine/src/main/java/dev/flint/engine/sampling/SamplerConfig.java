package dev.flint.engine.sampling;

/**
 * How to pick the next token. Defaults are llama.cpp's. {@code temperature <= 0} means greedy; {@code topK <= 0},
 * {@code topP >= 1}, {@code minP <= 0}, {@code repeatPenalty == 1} and zero frequency/presence penalties switch those
 * stages off. {@code seed == null} draws a random seed.
 */
public record SamplerConfig(float temperature, int topK, float topP, float minP, float repeatPenalty,
                            float frequencyPenalty, float presencePenalty, int penaltyLastN, Long seed) {

    public SamplerConfig {
        if (Float.isNaN(temperature) || Float.isNaN(topP) || Float.isNaN(minP) || Float.isNaN(repeatPenalty)) {
            throw new IllegalArgumentException("sampling parameters must be numbers");
        }
        if (topP < 0 || minP < 0 || minP > 1) {
            throw new IllegalArgumentException("top_p must be >= 0 and min_p within [0, 1]");
        }
        if (repeatPenalty <= 0) {
            throw new IllegalArgumentException("repeat penalty must be > 0");
        }
        if (penaltyLastN < -1) {
            throw new IllegalArgumentException("penalty_last_n must be >= -1");
        }
    }

    public static SamplerConfig defaults() {
        return new SamplerConfig(0.8f, 40, 0.95f, 0.05f, 1.0f, 0f, 0f, 64, null);
    }

    public static SamplerConfig greedy() {
        return new SamplerConfig(0f, 0, 1f, 0f, 1.0f, 0f, 0f, 64, null);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }

    public SamplerConfig withTemperature(float t) {
        return new SamplerConfig(t, topK, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerConfig withTopK(int k) {
        return new SamplerConfig(temperature, k, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerConfig withTopP(float p) {
        return new SamplerConfig(temperature, topK, p, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerConfig withMinP(float p) {
        return new SamplerConfig(temperature, topK, topP, p, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerConfig withRepeatPenalty(float r) {
        return new SamplerConfig(temperature, topK, topP, minP, r, frequencyPenalty, presencePenalty, penaltyLastN, seed);
    }

    public SamplerConfig withPenalties(float repeat, float frequency, float presence, int lastN) {
        return new SamplerConfig(temperature, topK, topP, minP, repeat, frequency, presence, lastN, seed);
    }

    public SamplerConfig withSeed(Long s) {
        return new SamplerConfig(temperature, topK, topP, minP, repeatPenalty, frequencyPenalty, presencePenalty, penaltyLastN, s);
    }
}
