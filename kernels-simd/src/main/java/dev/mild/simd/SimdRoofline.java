package dev.mild.simd;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * For benchmarks: the kernel's exp and log loops on their own, the roofline its throughput is measured
 * against (exps per second of the exp the kernel uses, on this machine, in the same run). Plain arrays in
 * and out, so callers need no Vector API types; only usable where the {@code simd} backend is.
 */
public final class SimdRoofline {
    private SimdRoofline() {
    }

    /**
     * What array lengths must be a multiple of.
     *
     * @return two vectors' worth of float lanes
     */
    public static int blockLength() {
        return 2 * Species.L;
    }

    /**
     * {@code e[i] = 2^(d[i] scale[0])} for every element, with the lane sums the kernel also keeps: one exp per
     * element, the kernel's exp loop ({@link VectorMath#exp2Groups}) as one softmax over all of {@code d}, in its two
     * halves.
     *
     * @param d     inputs, length a multiple of {@link #blockLength()}. Not modified.
     * @param e     outputs, same length. Modified.
     * @param scale one element, the scale: an array, as the kernel's plan holds it, so that a call allocates nothing
     *              (the roofline is measured without the allocation the kernel does not make). Not modified.
     * @param sum   lane sums, at least {@link #blockLength()} floats. Modified.
     * @return {@code sum[0]}, a value derived from the result (a sink for benchmarks)
     */
    public static float exp2(float[] d, float[] e, float[] scale, float[] sum) {
        VectorMath.exp2Groups(d, d.length, e, 0, scale, 0, sum, 0, 1);
        return sum[0];
    }

    /**
     * The exp loop called as the kernel calls it: at p = 8 with distinct margins (rows in lanes) each group's
     * exps are one call of 8 vectors over the same inputs. Here {@code e[c callLength + i] = 2^(d[i] scale[0])}
     * for every call c (inputs {@code d[0 .. callLength)}), the lane sums of the last call into {@code sum}:
     * as many exps as {@link #exp2}, in short loops.
     *
     * @param d          inputs, length a multiple of {@code callLength}. Not modified.
     * @param e          outputs, same length. Modified.
     * @param scale      one element, the scale, as for {@link #exp2}. Not modified.
     * @param sum        lane sums, at least {@link #blockLength()} floats. Modified.
     * @param callLength elements per call: a positive multiple of {@link #blockLength()} that divides
     *                   {@code d.length}
     * @return {@code sum[0]}, a value derived from the result (a sink for benchmarks)
     * @throws IllegalArgumentException if {@code callLength} is not such a multiple
     */
    public static float exp2InCalls(float[] d, float[] e, float[] scale, float[] sum, int callLength) {
        if (callLength <= 0 || callLength % blockLength() != 0 || d.length % callLength != 0) {
            throw new IllegalArgumentException("callLength " + callLength + " must be a positive multiple of "
                    + blockLength() + " that divides the input length " + d.length);
        }
        for (int off = 0; off < d.length; off += callLength) { // as many exps as d has elements, like exp2
            VectorMath.exp2Groups(d, callLength, e, off, scale, 0, sum, 0, 1);
        }
        return sum[0];
    }

    /**
     * {@code out[i] = log(1 + z[i])} with the kernel's float log1p lanes, including the division for
     * {@code 1/(1 + z)} that the kernel shares with the softmax coefficient: one log per element.
     *
     * @param z       inputs {@code >= 0}, length a multiple of {@link #blockLength()}. Not modified.
     * @param out     outputs, same length. Modified.
     * @param inverse {@code 1 / (1 + z)}, same length. Modified.
     * @return {@code out[0]}, a value derived from the result (a sink for benchmarks)
     */
    public static float log1p(float[] z, float[] out, float[] inverse) {
        VectorMath.log1p(z, out, inverse, z.length);
        return out[0];
    }

    /**
     * The same loop as {@link #exp2} with the Vector API's own {@code VectorOperators.EXP} (Intel SVML on
     * x86 once compiled), for the comparison that chose {@link #exp2}: {@code e[i] = e^(d[i] scale ln 2)}.
     *
     * @param d     inputs, length a multiple of {@link #blockLength()}. Not modified.
     * @param e     outputs, same length. Modified.
     * @param scale the scale
     * @param sum   lane sums, at least one vector's worth (half of {@link #blockLength()}) of floats. Modified.
     * @return {@code sum[0]}, a value derived from the result (a sink for benchmarks)
     */
    public static float vectorApiExp(float[] d, float[] e, float scale, float[] sum) {
        VectorSpecies<Float> f = Species.F;
        int l = Species.L;
        float s = scale * 0.6931472f;
        FloatVector z0 = FloatVector.zero(f);
        FloatVector z1 = FloatVector.zero(f);
        for (int i = 0; i < d.length; i += 2 * l) {
            FloatVector e0 = FloatVector.fromArray(f, d, i).mul(s).lanewise(VectorOperators.EXP);
            FloatVector e1 = FloatVector.fromArray(f, d, i + l).mul(s).lanewise(VectorOperators.EXP);
            e0.intoArray(e, i);
            e1.intoArray(e, i + l);
            z0 = z0.add(e0);
            z1 = z1.add(e1);
        }
        z0.add(z1).intoArray(sum, 0);
        return sum[0];
    }

    /**
     * {@code out[i] = log(1 + z[i])} with the Vector API's {@code VectorOperators.LOG1P}, for the comparison with
     * {@link #log1p}.
     *
     * @param z   inputs, length a multiple of {@link #blockLength()}. Not modified.
     * @param out outputs, same length. Modified.
     * @return {@code out[0]}, a value derived from the result (a sink for benchmarks)
     */
    public static float vectorApiLog1p(float[] z, float[] out) {
        VectorSpecies<Float> f = Species.F;
        for (int i = 0; i < z.length; i += Species.L) {
            FloatVector.fromArray(f, z, i).lanewise(VectorOperators.LOG1P).intoArray(out, i);
        }
        return out[0];
    }
}
