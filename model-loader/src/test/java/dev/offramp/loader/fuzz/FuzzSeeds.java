package dev.offramp.loader.fuzz;

/** Seeds for fuzz cases, shared by every seeded fuzz test of the module. */
public final class FuzzSeeds {

    private FuzzSeeds() {
    }

    /**
     * Scrambles a case number into a seed. java.util.Random's first draws from consecutive seeds are
     * nearly equal (nextInt(8) stays the same for ~10,000 seeds in a row), so unscrambled case seeds
     * keep picking the same mutation.
     */
    public static long caseSeed(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L; // SplitMix64's finalizer
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
