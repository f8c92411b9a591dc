package dev.flint.engine.tensor;

import dev.flint.engine.ModelLoadException;
import jdk.incubator.vector.FloatVector;

/**
 * The vector width the kernels need. They are written for 256- and 512-bit vectors (AVX2 and AVX-512 on x86-64):
 * their byte and short species are fractions of the float one, and at 128 bits (ARM NEON, x86 without AVX2) those
 * fractions do not exist, so the kernel classes would fail to initialise with an error that names no cause. Checked
 * before any kernel class is touched, so such a machine gets a sentence instead.
 */
public final class VectorWidth {
    /** The fewest bits per vector the kernels run on. */
    public static final int REQUIRED_BITS = 256;

    private VectorWidth() {}

    /** Throws, with the reason, if this JVM's preferred vectors are narrower than the kernels need. */
    public static void require() {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        if (bits < REQUIRED_BITS) {
            throw new ModelLoadException("this machine's vectors are " + bits + " bits wide as the JVM uses them"
                    + " (os.arch " + System.getProperty("os.arch") + "); Flint's kernels need at least "
                    + REQUIRED_BITS + " bits: an x86-64 CPU with AVX2 or AVX-512. 128-bit machines (ARM NEON, x86"
                    + " without AVX2) are not supported yet");
        }
    }
}
