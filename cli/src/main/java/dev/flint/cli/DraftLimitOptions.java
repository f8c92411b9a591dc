package dev.flint.cli;

import dev.flint.engine.sched.SchedulerOptions;
import picocli.CommandLine.Option;

/** How drafts are cut short: options shared by every command that speculates (llama-server's names). */
final class DraftLimitOptions {
    @Option(names = "--draft-min", defaultValue = "0", paramLabel = "N",
            description = "drafts shorter than N are not verified (default ${DEFAULT-VALUE})")
    int draftMin;

    @Option(names = "--draft-p-min", defaultValue = "" + SchedulerOptions.DEFAULT_DRAFT_P_MIN, paramLabel = "P",
            description = "the draft model stops drafting after a token it gives less than probability P (default "
                    + "${DEFAULT-VALUE})")
    float draftPMin;

    @Option(names = {"-cd", "--ctx-size-draft"}, defaultValue = "0", paramLabel = "N",
            description = "cells of the draft model's cache per slot (default ${DEFAULT-VALUE}: the context size); a "
                    + "smaller one drafts from the last tokens only and saves the draft model's cache memory")
    int draftContext;

    /** These limits on top of {@code options}. */
    SchedulerOptions applyTo(SchedulerOptions options) {
        return options.withDraftMin(draftMin).withDraftPMin(draftPMin).withDraftContextLength(draftContext);
    }
}
