package dev.flint.engine.generate;

/** A prompt plus generation would not fit in the session's context window. */
public final class ContextOverflowException extends IllegalArgumentException {
    private final int needed;
    private final int capacity;

    public ContextOverflowException(int needed, int capacity) {
        super("needs " + needed + " tokens of context but the context holds " + capacity);
        this.needed = needed;
        this.capacity = capacity;
    }

    public int needed() {
        return needed;
    }

    public int capacity() {
        return capacity;
    }
}
