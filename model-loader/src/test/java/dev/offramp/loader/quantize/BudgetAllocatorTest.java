package dev.offramp.loader.quantize;

import dev.offramp.core.tensor.DType;
import dev.offramp.loader.quantize.BudgetAllocator.Allocation;
import dev.offramp.loader.quantize.BudgetAllocator.Item;
import dev.offramp.loader.quantize.BudgetAllocator.Option;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The greedy multiple-choice knapsack behind {@code --mixed}: budget respected, hull pruning, the
 * documented order of upgrades, and the documented optimality bound against exhaustive search.
 */
class BudgetAllocatorTest {

    private static final DType[] TYPES = {DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.Q8_0};

    @Test
    void spendsBytesWhereTheyBuyTheMostLossPerByte() {
        // a: 100 -> 200 bytes saves 10 (0.1/byte); b: 100 -> 200 saves 30 (0.3/byte), 200 -> 300 saves 15 (0.15/byte)
        Item a = new Item("a", List.of(new Option(DType.Q2_K, 100, 20), new Option(DType.Q4_K, 200, 10)));
        Item b = new Item("b", List.of(new Option(DType.Q2_K, 100, 50), new Option(DType.Q4_K, 200, 20),
                new Option(DType.Q6_K, 300, 5)));
        // 250 fixed + 200 smallest; 150 left: b's first upgrade (100) fits, then nothing else does
        Allocation x = BudgetAllocator.allocate(List.of(a, b), 250, 600);
        assertThat(x.chosen().get("a").type()).isEqualTo(DType.Q2_K);
        assertThat(x.chosen().get("b").type()).isEqualTo(DType.Q4_K);
        assertThat(x.bytes()).isEqualTo(250 + 100 + 200);
        assertThat(x.loss()).isEqualTo(40.0);
        // 200 left: b twice (0.3 then 0.15 per byte) beats a (0.1 per byte)
        Allocation y = BudgetAllocator.allocate(List.of(a, b), 250, 650);
        assertThat(y.chosen().get("b").type()).isEqualTo(DType.Q6_K);
        assertThat(y.chosen().get("a").type()).isEqualTo(DType.Q2_K);
        assertThat(y.loss()).isEqualTo(25.0);
        // everything fits: every tensor at its lowest loss
        Allocation z = BudgetAllocator.allocate(List.of(a, b), 250, 10_000);
        assertThat(z.loss()).isEqualTo(15.0);
        assertThat(z.bytes()).isEqualTo(750);
    }

    @Test
    void hullDropsDominatedAndNonConvexOptions() {
        List<Option> h = BudgetAllocator.hull(List.of(
                new Option(DType.Q4_0, 450, 4.0),   // same size as Q4_K, worse
                new Option(DType.Q4_K, 450, 3.0),
                new Option(DType.Q2_K, 260, 10.0),
                new Option(DType.Q3_K, 340, 9.5),   // above the line from Q2_K to Q4_K: never worth its bytes
                new Option(DType.Q5_1, 600, 3.0),   // more bytes, no gain
                new Option(DType.Q6_K, 650, 1.0)));
        assertThat(h).extracting(Option::type).containsExactly(DType.Q2_K, DType.Q4_K, DType.Q6_K);
    }

    @Test
    void refusesABudgetBelowTheSmallestPlan() {
        Item a = new Item("blk.0.attn_q.weight", List.of(new Option(DType.Q2_K, 100, 1), new Option(DType.Q8_0, 300, 0)));
        assertThatThrownBy(() -> BudgetAllocator.allocate(List.of(a), 50, 149))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("150 bytes");
        assertThatThrownBy(() -> new Item("x", List.of())).hasMessageContaining("x");
        assertThatThrownBy(() -> new Option(DType.Q2_K, 10, Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }

    /**
     * Seeded random instances shaped like real ones (sizes proportional to bits per weight, loss falling
     * with bits): the allocation never exceeds the budget, is maximal (no single further upgrade fits and
     * helps), and is within the documented bound of the exhaustive optimum: optimum <= greedy <= optimum
     * + the saving of the best upgrade that did not fit.
     */
    @Test
    void seededInstancesRespectTheBudgetAndTheOptimalityBound() {
        Random rnd = new Random(20261122);
        double[] bpw = {2.625, 3.4375, 4.5, 5.5, 6.5625, 8.5};
        int exactMatches = 0;
        for (int trial = 0; trial < 300; trial++) {
            int n = 2 + rnd.nextInt(4);
            List<Item> items = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long elements = 256L * (1 + rnd.nextInt(8));
                double sens = Math.exp(rnd.nextGaussian() * 2);
                List<Option> opts = new ArrayList<>();
                for (int t = 0; t < TYPES.length; t++) {
                    if (rnd.nextInt(5) == 0 && t > 0) {
                        continue;
                    }
                    double noise = 0.5 + rnd.nextDouble();
                    opts.add(new Option(TYPES[t], (long) (elements * bpw[t] / 8), sens * Math.pow(4, -bpw[t]) * noise));
                }
                items.add(new Item("t" + i, opts));
            }
            long min = items.stream().mapToLong(it -> it.options().stream().mapToLong(Option::bytes).min().orElseThrow()).sum();
            long max = items.stream().mapToLong(it -> it.options().stream().mapToLong(Option::bytes).max().orElseThrow()).sum();
            long fixed = rnd.nextInt(1000);
            long budget = fixed + min + (long) (rnd.nextDouble() * (max - min));
            Allocation a = BudgetAllocator.allocate(items, fixed, budget);

            long bytes = fixed + a.chosen().values().stream().mapToLong(Option::bytes).sum();
            assertThat(bytes).isEqualTo(a.bytes()).isLessThanOrEqualTo(budget);
            double best = exhaustive(items, 0, budget - fixed, 0);
            assertThat(a.loss()).isGreaterThanOrEqualTo(best - 1e-12);
            double slack = 0;
            for (Item it : items) {
                Option cur = a.chosen().get(it.name());
                for (Option o : it.options()) {
                    if (o.loss() < cur.loss()) {
                        // maximal: no lower-loss option of a single tensor still fits
                        assertThat(a.bytes() - cur.bytes() + o.bytes()).isGreaterThan(budget);
                        slack = Math.max(slack, cur.loss() - o.loss());
                    }
                }
            }
            assertThat(a.loss()).isLessThanOrEqualTo(best + slack + 1e-12);
            if (Math.abs(a.loss() - best) < 1e-12) {
                exactMatches++;
            }
        }
        // not a guarantee, but a greedy that is usually off would be a broken greedy
        assertThat(exactMatches).isGreaterThan(150);
    }

    private static double exhaustive(List<Item> items, int i, long left, double acc) {
        if (i == items.size()) {
            return acc;
        }
        double best = Double.POSITIVE_INFINITY;
        for (Option o : items.get(i).options()) {
            if (o.bytes() <= left) {
                best = Math.min(best, exhaustive(items, i + 1, left - o.bytes(), acc + o.loss()));
            }
        }
        return best;
    }

    @Test
    void resultKeepsTheItemsOrderAndIsDeterministic() {
        List<Item> items = List.of(
                new Item("z", List.of(new Option(DType.Q2_K, 10, 1), new Option(DType.Q4_K, 20, 0.5))),
                new Item("a", List.of(new Option(DType.Q2_K, 10, 1), new Option(DType.Q4_K, 20, 0.5))));
        Allocation x = BudgetAllocator.allocate(items, 0, 30);
        assertThat(x.chosen().keySet()).containsExactly("z", "a");
        // equal slopes: the earlier tensor gets the bytes
        assertThat(x.chosen()).isEqualTo(Map.of("z", items.get(0).options().get(1), "a", items.get(1).options().get(0)));
    }
}
