package dev.flint.engine.tokenizer;

/**
 * One step of a pre-tokenizer: refines every segment of the text into smaller ones. Segments are consecutive runs of
 * code points given by their lengths; a rule never merges segments, so the result again covers the whole text.
 */
interface SplitRule {
    void split(SplitText text, IntList segments, IntList out);
}
