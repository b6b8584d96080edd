package dev.offramp.bench;

import java.util.List;
import java.util.Optional;

/**
 * Every system at one thread count. The first system is Offramp; ratios are Offramp / peer.
 *
 * @param threads       threads every system used
 * @param readGbps      the machine's read bandwidth at this thread count, measured in the same run (GB/s)
 * @param systems       Offramp first, then the peers
 */
public record ThreadRun(int threads, double readGbps, List<SystemResult> systems) {

    public ThreadRun {
        systems = List.copyOf(systems);
    }

    public SystemResult offramp() {
        return systems.getFirst();
    }

    public List<SystemResult> peers() {
        return systems.subList(1, systems.size());
    }

    /** The peer to compare with first: the native build when it ran, else the first that ran. */
    public Optional<SystemResult> primaryPeer() {
        return peers().stream().filter(SystemResult::ok)
                .min(java.util.Comparator.comparingInt(p -> p.name().contains("native") ? 0 : 1));
    }

    public static double ratio(double offramp, double peer) {
        return peer > 0 && !Double.isNaN(peer) && !Double.isNaN(offramp) ? offramp / peer : Double.NaN;
    }
}
