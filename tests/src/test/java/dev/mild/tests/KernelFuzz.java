package dev.mild.tests;

import dev.mild.InvalidInputException;
import dev.mild.loss.Backends;
import dev.mild.loss.Checks;
import dev.mild.loss.GradientError;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.LossConfig;
import dev.mild.loss.LossKernel;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import dev.mild.opencl.OpenClKernel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Seeded random corner cases of the loss family, each run on every fast backend and compared with the float64
 * reference ({@link KernelFuzzTest} runs it). A case draws p (around the SIMD widths and OpenCL tiles), B
 * (around chunk sizes, and a few batches of several thousand rows so that threads matter), odd offsets with NaN
 * around the input views and sentinels around the outputs, margins (equal, distinct, grouped, one float or
 * double bit apart, 1e-30 to 1e30), nu, additive margins (LDAM-like, negative, near their limit), scores (ties
 * at the maximum, signed zeros, subnormals, 1e4, exponents at float32's underflow thresholds, near ties on the
 * margin's scale) and weights (signed, zero rows, one-hot, realizable, 1e6, 1e-6).
 *
 * <p>Each case must, on every backend: meet {@link Tolerance#FLOAT32} (loss, loss-only pass, mean, gradient);
 * give the same bits on 1, 2 and 5 threads and on a repeated call (and, for the CPU backends, in the loss-only
 * pass); write nothing outside its output views. A gradient outside the tolerance is excused only by one of
 * {@link Excuse}'s rules, the exclusions README's "Checking the math" documents, each decided from the case's
 * own numbers; excused cases are counted per rule and backend.
 */
final class KernelFuzz {

    /** Widths where vector loops, tiles and masks change: 1..130 around 8, 16, 32, 64, 128. */
    static final int[] SPECIAL_P = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 130};
    static final int[] BATCHES = {0, 1, 2, 15, 16, 17, 31, 33, 1000};
    static final double[] NUS = {0, 0.5, 1, 1, 1, 2, 5, 10, 0.999, 1.001, 3, 7.5};
    static final String[] MARGINS = {"equal", "distinct", "distinctWide", "groups", "lastFloatBit", "lastDoubleBit",
        "tiny", "huge", "extreme", "extreme"};
    static final String[] DELTAS = {"none", "none", "small", "ldam", "negative", "nearLimit", "nearLimit"};
    /** "mixed" (last) draws one of the others per row. */
    static final String[] SCORES = {"gauss", "equal", "tieMax", "signedZero", "subnormal", "threshold", "plus88",
        "maxFirst", "maxLast", "big", "tinyScale", "rhoScaled", "rhoScaled", "nearTie", "mixed"};
    /** "atLimit": each row's {@code sum |w|} just under {@link LossConfig#maxRowWeight} of the row's own spread. */
    static final String[] WEIGHTS = {"pos", "signed", "zeroRows", "oneHot", "realizable", "equal", "huge", "tiny",
        "atLimit"};

    /** Written around every output view: a kernel must leave it alone. */
    static final float SENTINEL = -12345.5f;
    static final int[] HOST_THREADS = {1, 2, 5};

    /** One generated case: the inputs sit at the offsets of larger arrays filled with NaN. */
    record Case(long seed, String description, LossConfig config, int rows, int scoresAt, int weightsAt,
                int lossAt, int gradAt, float[] scores, float[] weights) {
        int experts() {
            return config.experts();
        }

        double score(int row, int j) {
            return scores[scoresAt + row * experts() + j];
        }

        double weight(int row, int k) {
            return weights[weightsAt + row * experts() + k];
        }
    }

    // ---- the cases ------------------------------------------------------------------------------------------

    /** The seed of case {@code index} of a run with seed {@code runSeed} (printed with every failure). */
    static long caseSeed(long runSeed, int index) {
        return runSeed * 1_000_003L + index;
    }

    static Case generate(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int p = r.nextBoolean() ? SPECIAL_P[r.nextInt(SPECIAL_P.length)] : 1 + r.nextInt(130);
        int rows = BATCHES[r.nextInt(BATCHES.length)];
        if (r.nextInt(20) == 0 && p <= 24) {
            rows = 2049 + r.nextInt(3000); // several chunks per thread
        }
        if ((long) rows * p * p > 4_000_000 && r.nextInt(4) != 0) {
            rows = 33; // keeps most O(B p^2) cases short
        }
        String marginKind = MARGINS[r.nextInt(MARGINS.length)];
        double[] rho = margins(marginKind, p, r);
        double nu = NUS[r.nextInt(NUS.length)];
        String deltaKind = DELTAS[r.nextInt(DELTAS.length)];
        double[] delta = deltas(deltaKind, rho, r);
        LossConfig config;
        try {
            config = LossConfig.of(rho, delta, nu);
        } catch (InvalidInputException e) { // e.g. nu < 1 with margins validation refuses: drop what it names
            deltaKind = "none(fallback)";
            try {
                config = LossConfig.of(rho, null, nu);
            } catch (InvalidInputException e2) {
                nu = 1;
                config = LossConfig.of(rho, null, 1);
            }
        }
        String scoreKind = SCORES[r.nextInt(SCORES.length)];
        String weightKind = WEIGHTS[r.nextInt(WEIGHTS.length)];
        int scoresAt = oddOffsetOrZero(r);
        int weightsAt = oddOffsetOrZero(r);
        int lossAt = oddOffsetOrZero(r);
        int gradAt = oddOffsetOrZero(r);
        float[] scores = new float[scoresAt + rows * p + r.nextInt(40)];
        float[] weights = new float[weightsAt + rows * p + r.nextInt(40)];
        Arrays.fill(scores, Float.NaN); // outside the views: must never be read
        Arrays.fill(weights, Float.NaN);
        float[] f = new float[p];
        float[] w = new float[p];
        for (int i = 0; i < rows; i++) {
            String kind = scoreKind.equals("mixed") ? SCORES[r.nextInt(SCORES.length - 1)] : scoreKind;
            rowScores(kind, config, f, r);
            fitSpread(config, f);
            // atLimit, one row in three: tied scores and all the weight on the top expert (the first of the tie). The
            // top expert's share forms a w zRest with zRest = p - 1 before it divides by Z, an intermediate p times the
            // bound's factor (OpenCL overflowed there at p >= 34 until the bound took p into account).
            boolean tiedTop = weightKind.equals("atLimit") && r.nextInt(3) == 0;
            if (tiedTop) {
                Arrays.fill(f, f[0]);
            }
            System.arraycopy(f, 0, scores, scoresAt + i * p, p);
            rowWeights(weightKind, w, r);
            if (tiedTop) {
                Arrays.fill(w, 0f);
                w[0] = r.nextBoolean() ? 1f : -1f;
            }
            if (weightKind.equals("atLimit")) {
                toLimit(config, f, w);
            }
            System.arraycopy(w, 0, weights, weightsAt + i * p, p);
        }
        String description = String.format(Locale.ROOT,
                "case seed %d: p=%d B=%d margins=%s (%s) nu=%s delta=%s scores=%s weights=%s offsets=%d/%d/%d/%d",
                seed, p, rows, marginKind, config.isLogSumExp() ? "logsumexp" : "general", nu, deltaKind, scoreKind,
                weightKind, scoresAt, weightsAt, lossAt, gradAt);
        return new Case(seed, description, config, rows, scoresAt, weightsAt, lossAt, gradAt, scores, weights);
    }

    private static int oddOffsetOrZero(SplittableRandom r) {
        return r.nextInt(4) == 0 ? 0 : 1 + 2 * r.nextInt(20);
    }

    static double[] margins(String kind, int p, SplittableRandom r) {
        double[] rho = new double[p];
        switch (kind) {
            case "equal" -> Arrays.fill(rho, new double[] {1e-3, 0.01, 0.3, 1, 3, 1e3}[r.nextInt(6)]);
            case "distinct" -> {
                for (int k = 0; k < p; k++) {
                    rho[k] = 0.3 + 2.7 * r.nextDouble();
                }
            }
            case "distinctWide" -> {
                for (int k = 0; k < p; k++) {
                    rho[k] = Math.pow(10, -3 + 6 * r.nextDouble());
                }
            }
            case "groups" -> pickFrom(rho, 2 + r.nextInt(3), -1.5, 3, r);
            case "lastFloatBit" -> { // margins equal or one float32 ulp apart
                float base = (float) Math.pow(10, -3 + 6 * r.nextDouble());
                for (int k = 0; k < p; k++) {
                    int t = r.nextInt(3);
                    rho[k] = t == 0 ? base : t == 1 ? Math.nextUp(base) : Math.nextDown(base);
                }
            }
            case "lastDoubleBit" -> {
                double base = Math.pow(10, -3 + 6 * r.nextDouble());
                for (int k = 0; k < p; k++) {
                    int t = r.nextInt(3);
                    rho[k] = t == 0 ? base : t == 1 ? Math.nextUp(base) : Math.nextDown(base);
                }
            }
            case "tiny" -> {
                for (int k = 0; k < p; k++) {
                    rho[k] = r.nextBoolean() ? 1e-3 : 1e-3 * (1 + r.nextDouble());
                }
            }
            case "huge" -> {
                for (int k = 0; k < p; k++) {
                    rho[k] = r.nextBoolean() ? 1e3 : 1e3 * (1 + r.nextDouble());
                }
            }
            default -> pickFrom(rho, 1 + r.nextInt(3), -30, 60, r); // extreme: across validation's whole range
        }
        return rho;
    }

    /** Fills {@code rho} from {@code n} values 10^(lo + span u), u uniform. */
    private static void pickFrom(double[] rho, int n, double lo, double span, SplittableRandom r) {
        double[] values = new double[n];
        for (int g = 0; g < n; g++) {
            values[g] = Math.pow(10, lo + span * r.nextDouble());
        }
        for (int k = 0; k < rho.length; k++) {
            rho[k] = values[r.nextInt(n)];
        }
    }

    static double[] deltas(String kind, double[] rho, SplittableRandom r) {
        if (kind.equals("none")) {
            return null;
        }
        double[] d = new double[rho.length];
        for (int k = 0; k < rho.length; k++) {
            double v = switch (kind) {
                case "small" -> 0.6 * r.nextDouble() - 0.1;
                case "ldam" -> r.nextInt(4) == 0 ? 0 : 30 * r.nextDouble();
                case "nearLimit" -> (r.nextBoolean() ? 1 : -1) * (0.9 + 0.0999 * r.nextDouble()) * LossConfig.maxDelta(rho[k]);
                default -> r.nextInt(4) == 0 ? 0 : -30 * r.nextDouble(); // negative
            };
            double limit = Math.max(0, 0.99 * LossConfig.maxDelta(rho[k]));
            d[k] = Math.max(-limit, Math.min(limit, v));
        }
        return d;
    }

    private static double gaussScale(SplittableRandom r) {
        return new double[] {1e-30, 1e-3, 1, 3, 100, 1e4}[r.nextInt(6)];
    }

    static void rowScores(String kind, LossConfig c, float[] f, SplittableRandom r) {
        int p = f.length;
        switch (kind) {
            case "gauss" -> {
                double s = gaussScale(r);
                for (int j = 0; j < p; j++) {
                    f[j] = (float) (s * r.nextGaussian());
                }
            }
            case "equal" -> Arrays.fill(f, new float[] {0f, -0f, 1f, -3.5f, 1e4f, 1e-30f, Float.MIN_VALUE}[r.nextInt(7)]);
            case "tieMax" -> { // the maximum shared by two or three experts, often the first or the last
                double s = gaussScale(r);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < p; j++) {
                    f[j] = (float) (s * r.nextGaussian());
                    max = Math.max(max, f[j]);
                }
                float top = r.nextBoolean() ? max : Math.nextUp(max);
                f[r.nextInt(p)] = top;
                f[r.nextInt(3) == 0 ? p - 1 : r.nextInt(p)] = top;
                if (r.nextInt(4) == 0) {
                    f[0] = top;
                }
            }
            case "signedZero" -> {
                for (int j = 0; j < p; j++) {
                    int t = r.nextInt(4);
                    f[j] = t == 0 ? 0f : t == 1 ? -0f : t == 2 ? -Float.MIN_VALUE : (float) -Math.abs(r.nextGaussian());
                }
            }
            case "subnormal" -> {
                for (int j = 0; j < p; j++) {
                    f[j] = Float.MIN_VALUE * (r.nextInt(2000) - 1000) * (r.nextBoolean() ? 1 : 1 << r.nextInt(20));
                }
            }
            case "threshold", "plus88" -> {
                // exponents a_k (f_j - max), for a random expert's a_k, at float32's underflow thresholds: normal
                // range ends at -87.3, SIMD's exp2 flushes below about -87.7, subnormals end at -103.3
                double a = c.inverseMargin(r.nextInt(p));
                double base = r.nextInt(3) == 0 ? 0 : 1e3 * r.nextGaussian();
                double[] marks = kind.equals("threshold")
                        ? new double[] {-80, -86.5, -87.3, -87.4, -87.7, -88.0, -88.1, -88.8, -89.5, -95, -103.2,
                            -103.3, -103.9, -104.0, -104.5, -110}
                        : new double[] {-88.0, -88.7, -88.72, -88.8, -89, -87.9};
                for (int j = 0; j < p; j++) {
                    double t = r.nextInt(3) == 0 ? 0 : marks[r.nextInt(marks.length)] + 0.01 * r.nextGaussian();
                    f[j] = (float) (base + t / a);
                }
                f[r.nextInt(p)] = (float) base;
            }
            case "maxFirst", "maxLast" -> {
                double s = gaussScale(r);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < p; j++) {
                    f[j] = (float) (s * r.nextGaussian());
                    max = Math.max(max, f[j]);
                }
                f[kind.equals("maxFirst") ? 0 : p - 1] = r.nextBoolean() ? Math.nextUp(max) : max + (float) (s * 5);
            }
            case "big" -> {
                for (int j = 0; j < p; j++) {
                    f[j] = (float) (1e4 * (r.nextBoolean() ? 1 : -1) + r.nextGaussian() * (r.nextBoolean() ? 1 : 1e-2));
                }
            }
            case "rhoScaled" -> { // exponents a_k (f_j - f_max) spread over [-spread, 0] for a random expert's a_k
                double rho = 1 / c.inverseMargin(r.nextInt(p));
                double spread = new double[] {1, 10, 30, 100}[r.nextInt(4)];
                double base = r.nextInt(3) == 0 ? 0 : rho * 1e3 * r.nextGaussian();
                for (int j = 0; j < p; j++) {
                    f[j] = (float) (base - rho * spread * r.nextDouble());
                }
            }
            case "nearTie" -> { // scores within 1e-7 to 1e-3 margins of each other: near a stationary point
                double rho = 1 / c.inverseMargin(r.nextInt(p));
                double base = r.nextInt(3) == 0 ? 0 : rho * 100 * r.nextGaussian();
                double eps = new double[] {1e-7, 1e-5, 1e-3}[r.nextInt(3)];
                for (int j = 0; j < p; j++) {
                    f[j] = (float) (base + rho * eps * r.nextGaussian());
                }
            }
            default -> { // tinyScale
                for (int j = 0; j < p; j++) {
                    f[j] = (float) (1e-30 * r.nextGaussian() + (r.nextBoolean() ? 0 : 1e-38 * r.nextGaussian()));
                }
            }
        }
    }

    /** Shrinks the row towards its maximum until its spread is within what validation accepts for the loss. */
    static void fitSpread(LossConfig c, float[] f) {
        double limit = c.maxScoreSpread();
        for (int attempt = 0; attempt < 10; attempt++) {
            float max = Float.NEGATIVE_INFINITY;
            float min = Float.POSITIVE_INFINITY;
            for (float v : f) {
                max = Math.max(max, v);
                min = Math.min(min, v);
            }
            double spread = (double) max - min;
            if (spread <= limit) {
                return;
            }
            double factor = 0.9 * limit / spread;
            for (int j = 0; j < f.length; j++) {
                f[j] = (float) (max - (max - (double) f[j]) * factor);
            }
        }
    }

    static void rowWeights(String kind, float[] w, SplittableRandom r) {
        int p = w.length;
        switch (kind) {
            case "pos" -> fillUniform(w, r, 0, 2);
            case "signed" -> fillUniform(w, r, -0.5, 2);
            case "zeroRows" -> {
                if (r.nextInt(3) == 0) {
                    Arrays.fill(w, 0f);
                } else {
                    fillUniform(w, r, 0, 2);
                }
            }
            case "oneHot" -> {
                Arrays.fill(w, 0f);
                w[r.nextInt(p)] = r.nextInt(4) == 0 ? (float) (1 + 3 * r.nextDouble()) : 1f;
            }
            case "realizable" -> { // MATH.md's realizable family: w_k = (number wrong) - c_k - p + 2, costs 0/1
                int[] cost = new int[p];
                int wrong = 0;
                for (int k = 0; k < p; k++) {
                    cost[k] = r.nextInt(2);
                    wrong += cost[k];
                }
                for (int k = 0; k < p; k++) {
                    w[k] = wrong - cost[k] - p + 2;
                }
            }
            case "equal" -> Arrays.fill(w, (float) (r.nextBoolean() ? 1 : 4 * r.nextGaussian()));
            case "huge" -> scaledUniform(w, r, 1e6f);
            case "atLimit" -> scaledUniform(w, r, 1f); // then scaled by toLimit
            default -> scaledUniform(w, r, 1e-6f); // tiny
        }
    }

    /**
     * Scales the row's weights so that their magnitudes sum to just under what {@link dev.mild.loss.Checks#weights}
     * accepts with the row's own spread (validation uses the batch's, never smaller): the largest weights a caller
     * of {@link dev.mild.loss.Loss} can pass, where every backend must still stay finite and agree.
     */
    static void toLimit(LossConfig c, float[] f, float[] w) {
        float max = Float.NEGATIVE_INFINITY;
        float min = Float.POSITIVE_INFINITY;
        for (float v : f) {
            max = Math.max(max, v);
            min = Math.min(min, v);
        }
        double sum = 0.0;
        for (float v : w) {
            sum += Math.abs(v);
        }
        if (sum == 0.0) {
            return;
        }
        double scale = 0.999 * c.maxRowWeight((double) max - min) / sum;
        for (int k = 0; k < w.length; k++) {
            w[k] = (float) (w[k] * scale);
        }
    }

    private static void scaledUniform(float[] w, SplittableRandom r, float scale) {
        fillUniform(w, r, r.nextBoolean() ? 0 : -0.5, 2);
        for (int k = 0; k < w.length; k++) {
            w[k] *= scale;
        }
    }

    private static void fillUniform(float[] w, SplittableRandom r, double lo, double hi) {
        for (int k = 0; k < w.length; k++) {
            w[k] = (float) (lo + (hi - lo) * r.nextDouble());
        }
    }

    // ---- the truth ------------------------------------------------------------------------------------------

    /** The float64 reference on the case's view, with the size of the terms of each loss and gradient entry. */
    record Truth(double[] loss, double[] lossTerms, double[] grad, double[] gradTerms, double mean, double meanTerms) {
        static Truth of(Case c) {
            int n = c.rows() * c.experts();
            double[] s = new double[n];
            double[] w = new double[n];
            for (int q = 0; q < n; q++) {
                s[q] = c.scores()[c.scoresAt() + q];
                w[q] = c.weights()[c.weightsAt() + q];
            }
            double[] loss = new double[c.rows()];
            double[] lossTerms = new double[c.rows()];
            double[] grad = new double[n];
            double[] gradTerms = new double[n];
            double mean = ReferenceKernel.evaluate(c.config(), c.rows(), s, w, loss, grad, lossTerms, gradTerms);
            double meanTerms = Arrays.stream(lossTerms).sum() / Math.max(1, c.rows());
            return new Truth(loss, lossTerms, grad, gradTerms, mean, meanTerms);
        }
    }

    // ---- the excuses ----------------------------------------------------------------------------------------

    /**
     * The documented exclusions (README "Checking the math"), each a rule on the case's own numbers. A gradient
     * outside {@link Tolerance#FLOAT32} is excused by a rule only when the rule says this case can be that far
     * off and the error stays within what it allows.
     */
    enum Excuse {
        /**
         * The true gradient is below float32's smallest normal number (1.2e-38) everywhere: neither measure can
         * be met in float32 there. Excused when the backend's error is below it as well.
         */
        GRADIENT_BELOW_FLOAT32_NORMALS,
        /**
         * Softmax terms {@code e_j = exp(a_k (f_j - max))} below float32's normal range are flushed (SIMD) or
         * kept with fewer digits (scalar, OpenCL), which can lose each such term's whole contribution
         * {@code |w_k| a_k e^delta_k e^(a_k (f_j - f_k)) S_k^-nu / B} to entries j and k. Excused when those
         * contributions can exceed the tolerance, and every entry's error is within them plus the tolerance.
         */
        FLUSHED_SOFTMAX_TERMS,
        /**
         * OpenCL only: the kernel forms {@code a_k e^(delta_k + x_k) S_k^-nu} and its products with {@code w_k}
         * and {@code 1/B} in float32, so an expert whose value falls below float32's normal range loses its
         * contributions (weights ~1e6 with rho ~3e29 and nu 10). Excused as the rule above, for those experts.
         */
        OPENCL_UNDERFLOWED_COEFFICIENT
    }

    /** exp of this is twice float32's smallest normal: below it a float32 value has lost digits. */
    private static final double LOG_FLOAT32_NORMAL = Math.log(2.0 * Float.MIN_NORMAL);

    /** The rule that excuses {@code got}'s gradient on {@code backend}, or null when none does. */
    static Excuse excuse(Case c, Truth truth, double[] got, String backend) {
        double error = GradientError.maxAbsDiff(got, truth.grad());
        if (Support.maxAbs(truth.grad()) < Float.MIN_NORMAL && error < Float.MIN_NORMAL) {
            return Excuse.GRADIENT_BELOW_FLOAT32_NORMALS;
        }
        Tolerance tol = Tolerance.FLOAT32;
        double allowed = Math.max(tol.gradNormwise() * Support.maxAbs(truth.grad()),
                tol.gradTermwise() * Support.maxAbs(truth.gradTerms()));
        if (explainedBy(lostContributions(c, false), got, truth, allowed)) {
            return Excuse.FLUSHED_SOFTMAX_TERMS;
        }
        if (backend.equals(OpenClKernel.NAME) && explainedBy(lostContributions(c, true), got, truth, allowed)) {
            return Excuse.OPENCL_UNDERFLOWED_COEFFICIENT;
        }
        return null;
    }

    /** The bound exceeds the tolerance somewhere, and every entry's error is within its bound plus the tolerance. */
    private static boolean explainedBy(double[] bound, double[] got, Truth truth, double allowed) {
        if (Support.maxAbs(bound) <= allowed) {
            return false; // these inputs cannot put the gradient outside the tolerance: no excuse
        }
        for (int q = 0; q < got.length; q++) {
            if (!(Math.abs(got[q] - truth.grad()[q]) <= bound[q] + allowed)) { // NaN is never explained
                return false;
            }
        }
        return true;
    }

    /**
     * Per gradient entry, the sum of the contributions a float32 kernel may lose: those of softmax terms below
     * float32's normal range ({@code coefficients} false), or every contribution of an expert whose OpenCL
     * coefficient {@code a e^(delta + x) S^-nu} (times |w_k|, times 1/B) is below it ({@code coefficients} true).
     * In log space, relative to the largest score but expert k's own ({@code others}), so that exponents of
     * 1e16 and more (rho 1e-20) keep their digits.
     */
    static double[] lostContributions(Case c, boolean coefficients) {
        int p = c.experts();
        double[] lost = new double[c.rows() * p];
        if (p == 1) {
            return lost; // S = 1: no softmax terms
        }
        double logRows = Math.log(c.rows());
        double nu = c.config().nu();
        for (int i = 0; i < c.rows(); i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < p; j++) {
                max = Math.max(max, c.score(i, j));
            }
            for (int k = 0; k < p; k++) {
                double w = Math.abs(c.weight(i, k));
                if (w == 0) {
                    continue;
                }
                double a = c.config().inverseMargin(k);
                double othersMax = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < p; j++) {
                    othersMax = j == k ? othersMax : Math.max(othersMax, c.score(i, j));
                }
                double sum = 0;
                for (int j = 0; j < p; j++) {
                    sum += j == k ? 0 : Math.exp(a * (c.score(i, j) - othersMax));
                }
                double logOthers = Math.log(sum); // >= 0: othersMax is one of them
                // log S_k = softplus(s); s - nu log S_k formed without cancelling two large terms
                double s = c.config().delta(k) + a * (othersMax - c.score(i, k)) + logOthers;
                double sMinusNuLogS = s > 0 ? (1 - nu) * s - nu * Math.log1p(Math.exp(-s)) : s - nu * Math.log1p(Math.exp(s));
                double logScale = Math.log(w) + Math.log(a) + sMinusNuLogS - logOthers - logRows;
                boolean wholeExpert = false;
                if (coefficients) {
                    double logAEx = Math.log(a) + sMinusNuLogS + a * (max - othersMax) - logOthers;
                    double logWeighted = logAEx + Math.log(w);
                    wholeExpert = Math.min(logAEx, Math.min(logWeighted, logWeighted - logRows)) < LOG_FLOAT32_NORMAL;
                    if (!wholeExpert) {
                        continue;
                    }
                }
                for (int j = 0; j < p; j++) {
                    if (j == k || !(wholeExpert || a * (c.score(i, j) - max) < LOG_FLOAT32_NORMAL)) {
                        continue;
                    }
                    double contribution = Math.exp(logScale + a * (c.score(i, j) - othersMax));
                    lost[i * p + j] += contribution;
                    lost[i * p + k] += contribution;
                }
            }
        }
        return lost;
    }

    // ---- running --------------------------------------------------------------------------------------------

    /** One call's outputs, in their views; {@code lossOnly*} from the call without a gradient. */
    record Result(double mean, float[] loss, float[] grad, double lossOnlyMean, float[] lossOnly) {
        boolean sameBits(Result o) {
            return Double.doubleToRawLongBits(mean) == Double.doubleToRawLongBits(o.mean)
                    && Arrays.equals(loss, o.loss) && Arrays.equals(grad, o.grad)
                    && Double.doubleToRawLongBits(lossOnlyMean) == Double.doubleToRawLongBits(o.lossOnlyMean)
                    && Arrays.equals(lossOnly, o.lossOnly);
        }
    }

    /** Runs the case with and without the gradient, adding to {@code problems} any write outside the views. */
    static Result run(LossKernel k, Case c, List<String> problems) {
        int n = c.rows() * c.experts();
        float[] loss = sentinels(c.lossAt() + c.rows() + 5);
        float[] grad = sentinels(c.gradAt() + n + 5);
        double mean = k.lossAndGradient(c.config(), c.rows(), c.scores(), c.scoresAt(), c.weights(), c.weightsAt(),
                loss, c.lossAt(), grad, c.gradAt());
        checkSentinels(loss, c.lossAt(), c.rows(), k.describe() + ": row losses", problems);
        checkSentinels(grad, c.gradAt(), n, k.describe() + ": gradient", problems);
        float[] lossOnly = sentinels(c.lossAt() + c.rows() + 5);
        double lossOnlyMean = k.lossAndGradient(c.config(), c.rows(), c.scores(), c.scoresAt(), c.weights(),
                c.weightsAt(), lossOnly, c.lossAt(), null, 0);
        checkSentinels(lossOnly, c.lossAt(), c.rows(), k.describe() + ": row losses without gradient", problems);
        return new Result(mean, Arrays.copyOfRange(loss, c.lossAt(), c.lossAt() + c.rows()),
                Arrays.copyOfRange(grad, c.gradAt(), c.gradAt() + n), lossOnlyMean,
                Arrays.copyOfRange(lossOnly, c.lossAt(), c.lossAt() + c.rows()));
    }

    private static float[] sentinels(int n) {
        float[] a = new float[n];
        Arrays.fill(a, SENTINEL);
        return a;
    }

    private static void checkSentinels(float[] a, int from, int n, String what, List<String> problems) {
        for (int q = 0; q < a.length; q++) {
            if ((q < from || q >= from + n) && Float.floatToRawIntBits(a[q]) != Float.floatToRawIntBits(SENTINEL)) {
                problems.add(what + " written outside the view at index " + q + " (view " + from + ".." + (from + n) + ")");
                return;
            }
        }
    }

    /** What a run found. */
    static final class Report {
        final List<String> failures = new ArrayList<>();
        /** "backend RULE" to the number of cases it excused. */
        final Map<String, Integer> excused = new TreeMap<>();
        /** Per backend, the worst loss error over the tolerance and the worst gradient error over its bound. */
        final Map<String, double[]> worst = new TreeMap<>();
        int cases;
        int refusedByValidation;

        String summary() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                    "%d cases (%d refused by validation), %d failures, excused %s", cases, refusedByValidation,
                    failures.size(), excused));
            worst.forEach((b, v) -> sb.append(String.format(Locale.ROOT,
                    "%n  %s: worst loss error %.2f of the tolerance, worst gradient %.2f of its bound", b, v[0], v[1])));
            return sb.toString();
        }
    }

    /**
     * Runs {@code count} cases of run seed {@code runSeed} (or only case seed {@code onlyCase} when it is not
     * null) on {@code backends}, the CPU ones on each of {@link #HOST_THREADS}.
     */
    static Report run(List<String> backends, long runSeed, int count, Long onlyCase) {
        Map<String, List<LossKernel>> kernels = new LinkedHashMap<>();
        for (String b : backends) {
            List<LossKernel> ks = new ArrayList<>();
            for (int t : Support.usesHostThreads(b) ? HOST_THREADS : new int[] {1}) {
                ks.add(Backends.open(b, KernelOptions.threads(t)));
            }
            kernels.put(b, ks);
        }
        Report report = new Report();
        // The first cases run again at the end, after the JIT compiled the kernels: the same bits are expected.
        List<Case> early = new ArrayList<>();
        Map<String, List<Result>> earlyResults = new LinkedHashMap<>();
        try {
            for (int index = 0; index < (onlyCase != null ? 1 : count); index++) {
                Case c = generate(onlyCase != null ? onlyCase : caseSeed(runSeed, index));
                try {
                    Checks.scores("scores", c.config(), Arrays.copyOfRange(c.scores(), c.scoresAt(),
                            c.scoresAt() + c.rows() * c.experts()), 0, c.rows());
                } catch (InvalidInputException e) {
                    report.refusedByValidation++; // a spread fitSpread could not bring in: not a kernel's input
                    continue;
                }
                report.cases++;
                Truth truth = Truth.of(c);
                boolean keep = early.size() < 20;
                if (keep) {
                    early.add(c);
                }
                for (var e : kernels.entrySet()) {
                    Result r = check(e.getKey(), e.getValue(), c, truth, report);
                    if (keep) {
                        earlyResults.computeIfAbsent(e.getKey(), x -> new ArrayList<>()).add(r);
                    }
                }
            }
            for (var e : kernels.entrySet()) {
                List<Result> first = earlyResults.getOrDefault(e.getKey(), List.of());
                for (int i = 0; i < first.size(); i++) {
                    if (!first.get(i).sameBits(run(e.getValue().getFirst(), early.get(i), new ArrayList<>()))) {
                        report.failures.add(e.getKey() + " " + early.get(i).description()
                                + ": different bits when run again at the end of the run");
                    }
                }
            }
        } finally {
            kernels.values().forEach(ks -> ks.forEach(LossKernel::close));
        }
        return report;
    }

    /** One case on one backend (its kernels on each thread count): adds any failure to the report. */
    private static Result check(String backend, List<LossKernel> kernels, Case c, Truth truth, Report report) {
        List<String> problems = new ArrayList<>();
        Result r = run(kernels.getFirst(), c, problems);
        if (!r.sameBits(run(kernels.getFirst(), c, problems))) {
            problems.add("a second call gave different bits");
        }
        for (LossKernel k : kernels.subList(1, kernels.size())) {
            if (!r.sameBits(run(k, c, problems))) {
                problems.add(k.describe() + " gave different bits from 1 thread");
            }
        }
        if (AgreementTest.lossOnlyIsBitIdentical(kernels.getFirst()) && (!Arrays.equals(r.loss(), r.lossOnly())
                || Double.doubleToRawLongBits(r.mean()) != Double.doubleToRawLongBits(r.lossOnlyMean()))) {
            problems.add("the loss-only call gave different bits");
        }
        Tolerance tol = Tolerance.FLOAT32;
        double lossError = Math.max(lossError(r.loss(), truth), lossError(r.lossOnly(), truth));
        double meanError = Math.max(Math.abs(r.mean() - truth.mean()), Math.abs(r.lossOnlyMean() - truth.mean()))
                / Math.max(1, truth.meanTerms());
        if (!(lossError <= tol.lossRelative())) {
            problems.add("loss error " + lossError);
        }
        if (!(meanError <= tol.lossRelative())) {
            problems.add("mean loss error " + meanError);
        }
        double[] got = new double[r.grad().length];
        for (int q = 0; q < got.length; q++) {
            got[q] = r.grad()[q];
        }
        GradientError ge = c.rows() == 0 ? new GradientError(0, 0) : GradientError.of(got, truth.grad(), truth.gradTerms());
        boolean gradientExcused = false;
        if (!tol.acceptsGradient(ge)) {
            Excuse why = problems.isEmpty() ? excuse(c, truth, got, backend) : null;
            if (why != null) {
                report.excused.merge(backend + " " + why, 1, Integer::sum);
                gradientExcused = true;
            } else {
                problems.add("gradient error " + ge);
            }
        }
        double[] worst = report.worst.computeIfAbsent(backend, b -> new double[2]);
        worst[0] = Math.max(worst[0], Math.max(lossError, meanError) / tol.lossRelative());
        if (!gradientExcused) {
            worst[1] = Math.max(worst[1], Math.min(ge.normwise() / tol.gradNormwise(), ge.termwise() / tol.gradTermwise()));
        }
        if (!problems.isEmpty()) {
            report.failures.add(backend + " " + c.description() + ": " + String.join("; ", problems));
        }
        return r;
    }

    /** {@code max_i |l_i - l*_i| / max(1, m*_i)}, as {@link Tolerance} defines it (NaN if any loss is NaN). */
    private static double lossError(float[] loss, Truth truth) {
        double worst = 0;
        for (int i = 0; i < loss.length; i++) {
            worst = Math.max(worst, Math.abs(loss[i] - truth.loss()[i]) / Math.max(1, truth.lossTerms()[i]));
        }
        return worst;
    }
}
