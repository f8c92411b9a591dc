package dev.flint.engine.sched;

/**
 * @param slots          sequences evaluated concurrently, each with its own KV cache
 * @param contextLength  tokens per slot
 * @param queueCapacity  jobs that may wait for a slot; more are refused
 * @param stepTokens     tokens one forward pass evaluates at most (decode tokens of all slots plus prompt chunks)
 */
public record SchedulerOptions(int slots, int contextLength, int queueCapacity, int stepTokens) {
    public SchedulerOptions {
        if (slots < 1 || contextLength < 2 || queueCapacity < 0 || stepTokens < slots) {
            throw new IllegalArgumentException("bad scheduler options: slots " + slots + ", context " + contextLength
                    + ", queue " + queueCapacity + ", step tokens " + stepTokens);
        }
    }
}
