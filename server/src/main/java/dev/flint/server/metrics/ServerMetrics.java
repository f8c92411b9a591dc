package dev.flint.server.metrics;

import dev.flint.engine.generate.FinishReason;
import dev.flint.engine.sched.Completion;
import dev.flint.engine.sched.JobListener;
import dev.flint.engine.sched.Scheduler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;

/**
 * Prometheus metrics through Micrometer: requests per API, tokens in and out, time to first token and per-token
 * latency histograms, queue depth, busy slots, cancellations. {@link #observe} wraps a job's listener so every
 * transport is measured the same way.
 */
public final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter tokensIn;
    private final Counter tokensOut;
    private final Counter tokensCached;
    private final Counter cancellations;
    private final Timer firstToken;
    private final Timer perToken;

    public ServerMetrics(Scheduler scheduler) {
        tokensIn = Counter.builder("flint_prompt_tokens").description("prompt tokens received").register(registry);
        tokensCached = Counter.builder("flint_prompt_tokens_cached").description("prompt tokens reused from a slot's cache")
                .register(registry);
        tokensOut = Counter.builder("flint_generated_tokens").description("tokens generated").register(registry);
        cancellations = Counter.builder("flint_cancellations").description("jobs cancelled (message or disconnect)")
                .register(registry);
        firstToken = Timer.builder("flint_time_to_first_token").description("submission to first token")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
        perToken = Timer.builder("flint_inter_token_latency").description("generation time per token after the first")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(5)).register(registry);
        Gauge.builder("flint_queue_depth", scheduler, Scheduler::queueDepth).description("jobs waiting for a slot")
                .register(registry);
        Gauge.builder("flint_slots_busy", scheduler, Scheduler::busySlots).description("slots running a job")
                .register(registry);
        Gauge.builder("flint_slots_total", scheduler, Scheduler::slotCount).register(registry);
        FunctionCounter.builder("flint_prompt_tokens_computed", scheduler, Scheduler::promptTokensComputed)
                .description("prompt tokens evaluated by forward passes (the rest came from caches)")
                .register(registry);
        FunctionCounter.builder("flint_draft_tokens", scheduler, Scheduler::draftedTokens)
                .description("tokens proposed for verification by speculation (the draft model, else n-gram)")
                .register(registry);
        FunctionCounter.builder("flint_draft_tokens_accepted", scheduler, Scheduler::acceptedDraftTokens)
                .description("drafted tokens the model confirmed").register(registry);
        FunctionCounter.builder("flint_draft_model_tokens_computed", scheduler, Scheduler::draftTokensComputed)
                .description("tokens the draft model evaluated to follow the slots (prompts, accepted tokens)")
                .register(registry);
        Gauge.builder("flint_draft_cache_bytes", scheduler, Scheduler::draftCacheBytes)
                .description("memory held by the slots' draft-model KV caches").register(registry);
        FunctionCounter.builder("flint_prompt_tokens_restored", scheduler, Scheduler::promptTokensRestored)
                .description("prompt tokens taken back from the prefix tree after other prompts displaced them")
                .register(registry);
        Gauge.builder("flint_prefix_cache_bytes", scheduler, Scheduler::prefixCacheBytes)
                .description("host memory held by the prefix tree").register(registry);
        FunctionCounter.builder("flint_prompt_tokens_moved", scheduler, Scheduler::promptTokensMoved)
                .description("cached prompt tokens reused at a new position (keys re-rotated), e.g. a FIM suffix")
                .register(registry);
    }

    public void request(String api) {
        registry.counter("flint_requests", "api", api).increment();
    }

    public void rejected(String api, int status) {
        registry.counter("flint_requests_rejected", "api", api, "status", Integer.toString(status)).increment();
    }

    public JobListener observe(JobListener inner) {
        return new JobListener() {
            @Override
            public void onDelta(int token, String text) {
                inner.onDelta(token, text);
            }

            @Override
            public void onDone(Completion c) {
                tokensIn.increment(c.promptTokens());
                tokensCached.increment(c.cachedTokens());
                tokensOut.increment(c.generatedTokens());
                if (c.finishReason() == FinishReason.CANCELLED) {
                    cancellations.increment();
                }
                if (c.timings().firstTokenMs() >= 0) {
                    firstToken.record(Duration.ofNanos((long) (c.timings().firstTokenMs() * 1e6)));
                }
                if (c.generatedTokens() > 1) {
                    perToken.record(Duration.ofNanos((long) (c.timings().predictedMs() * 1e6 / c.generatedTokens())));
                }
                inner.onDone(c);
            }
        };
    }

    public String scrape() {
        return registry.scrape();
    }
}
