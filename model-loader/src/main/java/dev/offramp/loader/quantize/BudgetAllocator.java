package dev.offramp.loader.quantize;

import dev.offramp.core.tensor.DType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;

/**
 * Chooses one storage option per tensor so that the total predicted loss is small and the bytes fit a
 * budget (a multiple-choice knapsack), greedily by loss saved per extra byte.
 *
 * <p>Each tensor's options are first reduced to their lower convex hull in the (bytes, loss) plane:
 * options that cost more bytes without lowering the loss are dropped, and so are options above the line
 * between two neighbours (they are never the best use of their bytes). Every tensor starts at its
 * smallest option; then the upgrade (one step along some tensor's hull) with the largest
 * {@code loss saved / bytes added} is applied, as long as it fits; an upgrade that does not fit ends
 * that tensor's upgrades and the others continue. Because hull slopes only flatten, the state when the
 * first upgrade does not fit is the exact optimum of the relaxation in which a tensor may take a
 * fraction of an upgrade, so the final loss is above the true (discrete) optimum by at most the saving
 * of that first upgrade that did not fit. Last, the bytes still left go to whichever single option
 * change (hull or not) lowers the loss most and fits, until none does: the result is maximal (no one
 * tensor can still move to a lower-loss option within the budget).
 *
 * <pre>{@code
 * List<BudgetAllocator.Item> items = List.of(new BudgetAllocator.Item("blk.0.attn_v.weight", List.of(
 *         new BudgetAllocator.Option(DType.Q2_K, 10_752, 0.031), new BudgetAllocator.Option(DType.Q4_K, 18_432, 0.004))));
 * BudgetAllocator.Allocation a = BudgetAllocator.allocate(items, 0, 20_000);
 * }</pre>
 */
public final class BudgetAllocator {

    private BudgetAllocator() {
    }

    /** One way to store a tensor: its type, its bytes, and the loss it is predicted to add. */
    public record Option(DType type, long bytes, double loss) {
        public Option {
            Objects.requireNonNull(type, "type");
            if (bytes < 0 || !(loss >= 0) || Double.isInfinite(loss)) {
                throw new IllegalArgumentException("option " + type + ": bytes " + bytes + ", loss " + loss);
            }
        }
    }

    /** A tensor and its options (at least one). */
    public record Item(String name, List<Option> options) {
        public Item {
            options = List.copyOf(options);
            if (options.isEmpty()) {
                throw new IllegalArgumentException("tensor " + name + " has no storage option");
            }
        }
    }

    /**
     * The choice per tensor (in the items' order), the total bytes (items plus {@code fixedBytes}) and the
     * summed predicted loss.
     */
    public record Allocation(Map<String, Option> chosen, long bytes, double loss) {
    }

    /**
     * @param fixedBytes bytes outside the items (norms, tensors kept as they are) that count against the budget
     * @throws IllegalArgumentException when even the smallest option of every tensor exceeds the budget
     */
    public static Allocation allocate(List<Item> items, long fixedBytes, long budget) {
        List<List<Option>> hulls = new ArrayList<>();
        long bytes = fixedBytes;
        for (Item it : items) {
            List<Option> h = hull(it.options());
            hulls.add(h);
            bytes += h.getFirst().bytes();
        }
        if (bytes > budget) {
            throw new IllegalArgumentException("budget of " + budget + " bytes is below the smallest possible size, "
                    + bytes + " bytes");
        }
        int[] at = new int[items.size()];
        // Highest saving per byte first; ties go to the earlier tensor so the result is deterministic.
        PriorityQueue<int[]> queue = new PriorityQueue<>(Comparator
                .comparingDouble((int[] e) -> -slope(hulls.get(e[0]), e[1]))
                .thenComparingInt(e -> e[0]));
        for (int i = 0; i < items.size(); i++) {
            if (hulls.get(i).size() > 1) {
                queue.add(new int[] {i, 0});
            }
        }
        while (!queue.isEmpty()) {
            int[] e = queue.poll();
            List<Option> h = hulls.get(e[0]);
            long extra = h.get(e[1] + 1).bytes() - h.get(e[1]).bytes();
            if (bytes + extra > budget) {
                continue;
            }
            bytes += extra;
            at[e[0]] = e[1] + 1;
            if (e[1] + 2 < h.size()) {
                queue.add(new int[] {e[0], e[1] + 1});
            }
        }
        Option[] cur = new Option[items.size()];
        for (int i = 0; i < items.size(); i++) {
            cur[i] = hulls.get(i).get(at[i]);
        }
        // Fill: options off the hull (or smaller steps) may still use the bytes the hull steps could not.
        while (true) {
            int bi = -1;
            Option bo = null;
            double gain = 0;
            for (int i = 0; i < items.size(); i++) {
                for (Option o : items.get(i).options()) {
                    double g = cur[i].loss() - o.loss();
                    if (g > gain && bytes - cur[i].bytes() + o.bytes() <= budget) {
                        gain = g;
                        bi = i;
                        bo = o;
                    }
                }
            }
            if (bi < 0) {
                break;
            }
            bytes += bo.bytes() - cur[bi].bytes();
            cur[bi] = bo;
        }
        Map<String, Option> chosen = new LinkedHashMap<>();
        double loss = 0;
        for (int i = 0; i < items.size(); i++) {
            Option o = cur[i];
            chosen.put(items.get(i).name(), o);
            loss += o.loss();
        }
        return new Allocation(chosen, bytes, loss);
    }

    /** Loss saved per byte added by moving from hull point {@code i} to {@code i + 1}. */
    private static double slope(List<Option> h, int i) {
        return (h.get(i).loss() - h.get(i + 1).loss()) / (double) (h.get(i + 1).bytes() - h.get(i).bytes());
    }

    /**
     * The lower convex hull of the options, by increasing bytes and strictly decreasing loss. Among equal
     * sizes the lowest loss wins (e.g. Q4_K against Q4_0); the smallest option is always kept.
     */
    static List<Option> hull(List<Option> options) {
        List<Option> sorted = new ArrayList<>(options);
        sorted.sort(Comparator.comparingLong(Option::bytes).thenComparingDouble(Option::loss)
                .thenComparing(o -> o.type().name()));
        List<Option> h = new ArrayList<>();
        for (Option o : sorted) {
            Option last = h.isEmpty() ? null : h.getLast();
            if (last != null && (o.bytes() == last.bytes() || o.loss() >= last.loss())) {
                continue; // same size but not better, or more bytes for no gain
            }
            // Drop the last point while it lies on or above the segment from its predecessor to o.
            while (h.size() >= 2) {
                Option a = h.get(h.size() - 2);
                Option b = h.getLast();
                double cross = (b.bytes() - a.bytes()) * (o.loss() - a.loss())
                        - (b.loss() - a.loss()) * (double) (o.bytes() - a.bytes());
                if (cross > 0) {
                    break;
                }
                h.removeLast();
            }
            h.add(o);
        }
        return h;
    }
}
