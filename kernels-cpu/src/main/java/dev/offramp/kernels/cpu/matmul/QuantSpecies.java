package dev.offramp.kernels.cpu.matmul;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float species of a vector kernel and the byte species it loads quants with, as constants.
 *
 * <p>Why a class per width: C2 turns Vector API calls into SIMD instructions only when the species is
 * a compile-time constant. A species held in an instance field is not one, and such code runs slower
 * than scalar code (every vector becomes a heap object). The kernels therefore read their species
 * through {@link #floats()}/{@link #bytes()} of one of these tiny subclasses: a process uses one
 * width, the call site stays monomorphic, C2 inlines it and the species folds to a constant. Tests
 * that mix widths in one JVM are slower but compute the same values.
 */
abstract class QuantSpecies {
    abstract VectorSpecies<Float> floats();

    /** Bytes per quant load: {@code max(64, lanes * 8)} bits, so one load widens to whole float vectors. */
    abstract VectorSpecies<Byte> bytes();

    static QuantSpecies of(VectorSpecies<Float> species) {
        if (species.elementType() != float.class) {
            throw new IllegalArgumentException("not a float species: " + species);
        }
        return switch (species.vectorBitSize()) {
            case 512 -> new W512();
            case 256 -> new W256();
            case 128 -> new W128();
            case 64 -> new W64();
            default -> new Other(species);
        };
    }

    private static final class W512 extends QuantSpecies {
        @Override
        VectorSpecies<Float> floats() {
            return FloatVector.SPECIES_512;
        }

        @Override
        VectorSpecies<Byte> bytes() {
            return ByteVector.SPECIES_128;
        }
    }

    private static final class W256 extends QuantSpecies {
        @Override
        VectorSpecies<Float> floats() {
            return FloatVector.SPECIES_256;
        }

        @Override
        VectorSpecies<Byte> bytes() {
            return ByteVector.SPECIES_64;
        }
    }

    private static final class W128 extends QuantSpecies {
        @Override
        VectorSpecies<Float> floats() {
            return FloatVector.SPECIES_128;
        }

        @Override
        VectorSpecies<Byte> bytes() {
            return ByteVector.SPECIES_64;
        }
    }

    private static final class W64 extends QuantSpecies {
        @Override
        VectorSpecies<Float> floats() {
            return FloatVector.SPECIES_64;
        }

        @Override
        VectorSpecies<Byte> bytes() {
            return ByteVector.SPECIES_64;
        }
    }

    /** Any other width (e.g. a scalable ARM SVE shape): correct, perhaps not fast. */
    private static final class Other extends QuantSpecies {
        private final VectorSpecies<Float> floats;
        private final VectorSpecies<Byte> bytes;

        Other(VectorSpecies<Float> floats) {
            this.floats = floats;
            this.bytes = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, floats.length() * 8)));
        }

        @Override
        VectorSpecies<Float> floats() {
            return floats;
        }

        @Override
        VectorSpecies<Byte> bytes() {
            return bytes;
        }
    }
}
