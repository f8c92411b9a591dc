package dev.flint.engine.generate;

/** Why a generation ended. */
public enum FinishReason {
    /** The model produced an end-of-generation token. */
    EOS,
    /** The text reached one of the request's stop strings. */
    STOP,
    /** The request's token limit was reached. */
    LENGTH,
    /** The context window is full. */
    CONTEXT,
    /** The requester cancelled. */
    CANCELLED
}
