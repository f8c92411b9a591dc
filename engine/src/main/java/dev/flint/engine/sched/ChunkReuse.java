package dev.flint.engine.sched;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the runs of a new prompt that a slot's cache already holds at other positions, beyond their common prefix:
 * llama.cpp's {@code --cache-reuse}, generalised. llama.cpp only reuses a cached run that continues the prompt exactly
 * at the end of what is reused so far, so a cache can only close gaps (text deleted); a keystroke inserts text before
 * the suffix, and there it recomputes the whole suffix. Here the new tokens in between are computed and the runs
 * after them are moved (in either direction) to their new positions, keys re-rotated.
 *
 * <p>Runs are found in order in both sequences, so the moves never cross: moves to the left run first in ascending
 * order, moves to the right in descending order, and none overwrites another's source.
 */
final class ChunkReuse {
    /** Cache positions {@code [from, from + length)} hold prompt positions {@code [to, to + length)}. */
    record Move(int from, int to, int length) {
    }

    private static final int KEY = 4;            // tokens hashed to find candidate starts
    private static final int MAX_CANDIDATES = 64; // per prompt position, so repetitive text stays linear

    private ChunkReuse() {
    }

    /**
     * @param cached   the slot's tokens; {@code [0, cachedLength)} are valid
     * @param prompt   the new prompt
     * @param reused   prompt tokens already reused as the common prefix
     * @param minRun   shortest run worth moving (≥ 1)
     * @return moves in prompt order, covering prompt positions in {@code [reused, prompt.length - 1)}: the last
     *         prompt token is always computed, since its logits are needed
     */
    static List<Move> plan(int[] cached, int cachedLength, int[] prompt, int reused, int minRun) {
        List<Move> moves = new ArrayList<>();
        int limit = prompt.length - 1;
        int key = Math.min(KEY, Math.max(1, minRun));
        if (minRun < 1 || reused >= limit || cachedLength - reused < minRun) {
            return moves;
        }
        Map<Long, List<Integer>> starts = new HashMap<>();
        for (int c = reused; c + key <= cachedLength; c++) {
            starts.computeIfAbsent(hash(cached, c, key), h -> new ArrayList<>()).add(c);
        }
        int floor = reused; // cache positions below are taken
        int p = reused;
        while (p + minRun <= limit) {
            List<Integer> candidates = starts.get(hash(prompt, p, key));
            int best = 0;
            int bestFrom = -1;
            if (candidates != null) {
                int seen = 0;
                for (int c : candidates) {
                    if (c < floor) {
                        continue;
                    }
                    if (++seen > MAX_CANDIDATES) {
                        break;
                    }
                    int m = 0;
                    while (c + m < cachedLength && p + m < limit && cached[c + m] == prompt[p + m]) {
                        m++;
                    }
                    if (m > best) {
                        best = m;
                        bestFrom = c;
                    }
                }
            }
            if (best >= minRun) {
                moves.add(new Move(bestFrom, p, best));
                p += best;
                floor = bestFrom + best;
            } else {
                p++;
            }
        }
        return moves;
    }

    /** The order in which to carry the moves out so that none overwrites a source still to be read. */
    static List<Move> executionOrder(List<Move> moves) {
        List<Move> out = new ArrayList<>(moves.size());
        for (Move m : moves) {
            if (m.to() <= m.from()) {
                out.add(m);
            }
        }
        for (int i = moves.size() - 1; i >= 0; i--) {
            if (moves.get(i).to() > moves.get(i).from()) {
                out.add(moves.get(i));
            }
        }
        return out;
    }

    private static long hash(int[] t, int at, int n) {
        long h = 1125899906842597L;
        for (int i = 0; i < n; i++) {
            h = 31 * h + t[at + i];
        }
        return h;
    }
}
