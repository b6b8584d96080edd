package dev.offramp.bench;

import java.io.IOException;

/**
 * One system under test (Offramp or a llama.cpp peer), started once per thread count and asked for
 * timed repetitions in turn with the others, so slow drifts of a shared machine hit all alike.
 */
interface BenchSystem extends AutoCloseable {

    /** Short name for tables ({@code offramp}, {@code llama.cpp (de.kherud)}, ...). */
    String name();

    /** The build measured (named in every report); may be refined once the system has run. */
    String build();

    /** One pp + tg repetition. */
    Sample measure() throws IOException, InterruptedException;

    @Override
    void close();
}
