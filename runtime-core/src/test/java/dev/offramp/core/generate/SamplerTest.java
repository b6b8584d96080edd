package dev.offramp.core.generate;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SamplerTest {

    static float[] logits(long seed, int n) {
        Random r = new Random(seed);
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) (r.nextGaussian() * 3);
        }
        return l;
    }

    @Test
    void greedyIsArgmaxFirstOnTies() {
        Sampler s = new Sampler(SamplerSettings.greedy(), 5);
        assertThat(s.sample(new float[] {1, 3, 3, -1, 2}, 0, new int[0], 0)).isEqualTo(1);
        assertThat(s.sample(new float[] {9, 1, 3, 3, -1, 2}, 1, new int[0], 0)).isEqualTo(1);
    }

    @Test
    void sameSeedSameDrawsAndTopKOneIsGreedy() {
        float[] base = logits(1, 300);
        SamplerSettings set = SamplerSettings.defaults().withTopK(0).withTopP(1f).withMinP(0f).withTemperature(1.5f).withSeed(99);
        Sampler a = new Sampler(set, 300);
        Sampler b = new Sampler(set, 300);
        Sampler c = new Sampler(set.withSeed(100), 300);
        boolean differs = false;
        for (int i = 0; i < 50; i++) {
            int x = a.sample(base.clone(), 0, new int[0], 0);
            assertThat(b.sample(base.clone(), 0, new int[0], 0)).isEqualTo(x);
            differs |= c.sample(base.clone(), 0, new int[0], 0) != x;
        }
        assertThat(differs).isTrue();
        Sampler k1 = new Sampler(set.withTopK(1), 300);
        for (int i = 0; i < 20; i++) {
            assertThat(k1.sample(base.clone(), 0, new int[0], 0)).isEqualTo(Sampler.argmax(base, 0, 300));
        }
    }

    @Test
    void topKTopPAndMinPRestrictTheSupport() {
        float[] l = {5, 4, 3, 0, -2, -10};
        // top-k 2: only ids 0 and 1 ever drawn
        assertSupport(new Sampler(SamplerSettings.defaults().withTopK(2).withTopP(1).withMinP(0).withTemperature(5), 6), l, Set.of(0, 1));
        // probabilities at T=1: 0.665, 0.245, 0.090, ... -> top-p 0.8 keeps {0, 1}
        assertSupport(new Sampler(SamplerSettings.defaults().withTopK(0).withTopP(0.8f).withMinP(0).withTemperature(1), 6), l, Set.of(0, 1));
        // min-p 0.2: keeps p >= 0.2 * p0, i.e. logit >= 5 + ln 0.2 = 3.39 -> {0, 1}
        assertSupport(new Sampler(SamplerSettings.defaults().withTopK(0).withTopP(1).withMinP(0.2f).withTemperature(3), 6), l, Set.of(0, 1));
    }

    private static void assertSupport(Sampler s, float[] l, Set<Integer> expected) {
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < 400; i++) {
            seen.add(s.sample(l.clone(), 0, new int[0], 0));
        }
        assertThat(seen).isEqualTo(expected);
    }

    @Test
    void repetitionPenaltyFollowsLlamaCppSignRuleAndWindow() {
        SamplerSettings set = SamplerSettings.greedy().withRepeatPenalty(2f, 2);
        float[] l = {4, 3, -1, -3};
        new Sampler(set, 4).sample(l, 0, new int[] {1, 0, 2, 2}, 4);
        // window = last 2 tokens = {2}: only id 2 is penalized, once (negative -> multiplied)
        assertThat(l).containsExactly(4, 3, -2, -3);
        float[] l2 = {4, 3, -1, -3};
        int id = new Sampler(set.withRepeatPenalty(3f, 4), 4).sample(l2, 0, new int[] {0, 2}, 2);
        assertThat(l2).containsExactly(4f / 3, 3, -3, -3);
        assertThat(id).isEqualTo(1);
        float[] l3 = {4, 3, -1, -3};
        new Sampler(SamplerSettings.greedy().withFrequencyPresence(0.5f, 1f), 4).sample(l3, 0, new int[] {0, 0, 3}, 3);
        assertThat(l3).containsExactly(4 - 1 - 1, 3, -1, -3 - 0.5f - 1);
    }

    @Test
    void invalidSettingsAreRejected() {
        assertThatThrownBy(() -> SamplerSettings.defaults().withRepeatPenalty(0, 64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SamplerSettings.defaults().withTemperature(Float.NaN)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void heapAndSortTopKKeepTheSameCandidates() {
        float[] base = logits(5, 1000);
        base[17] = base[18] = 50f; // a tie: the lower id must come first in both paths
        for (int k : new int[] {1, 2, 7, 100, 125, 126, 500, 0}) {
            SamplerSettings set = SamplerSettings.defaults().withTopK(k).withTopP(1f).withMinP(0f).withTemperature(1f).withSeed(3);
            Sampler s = new Sampler(set, 1000);
            int kk = k == 0 ? 1000 : k;
            java.util.Set<Integer> seen = new java.util.HashSet<>();
            for (int i = 0; i < 300; i++) {
                seen.add(s.sample(base.clone(), 0, new int[0], 0));
            }
            Integer[] order = new Integer[1000];
            for (int i = 0; i < 1000; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, (a, b) -> base[a] != base[b] ? Float.compare(base[b], base[a]) : Integer.compare(a, b));
            java.util.Set<Integer> allowed = new java.util.HashSet<>(java.util.Arrays.asList(order).subList(0, kk));
            assertThat(allowed).containsAll(seen);
            if (k == 1) {
                assertThat(seen).containsExactly(17);
            }
        }
    }
}
