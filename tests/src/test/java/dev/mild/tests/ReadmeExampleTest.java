package dev.mild.tests;

import static dev.mild.testing.TestArrays.gaussian;
import static dev.mild.testing.TestArrays.toDouble;
import static dev.mild.testing.TestArrays.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mild.data.DataFiles;
import dev.mild.data.Dataset;
import dev.mild.loss.GradientError;
import dev.mild.loss.Loss;
import dev.mild.loss.LossConfig;
import dev.mild.loss.ReferenceKernel;
import dev.mild.loss.Tolerance;
import dev.mild.router.ModelFile;
import dev.mild.router.Router;
import dev.mild.router.RouterModel;
import dev.mild.router.RouterTraining;
import dev.mild.router.TrainOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Embedding the kernel" snippet, line for line, on the default backend: its results are
 * checked against the float64 reference, and the mini-batch view against the reference on a copy of
 * those rows (so the view's offsets and the scaling of its gradient are what the README says).
 */
class ReadmeExampleTest {

    @Test
    void embeddingTheKernelAsTheReadmeShowsIt() {
        int rows = 300;
        SplittableRandom rnd = new SplittableRandom(11);
        float[] scores = gaussian(rnd, rows * 3, 3.0);
        float[] weights = uniform(rnd, rows * 3, 0.0, 2.0);

        // --- README, "Embedding the kernel" ---
        LossConfig config = LossConfig.mild(0.5, 1.0, 2.0);
        Loss loss = Loss.of(config);
        float[] grad = new float[scores.length];
        double mean = loss.evaluate(scores, weights, null, grad);
        // --- (the view comes below, on a fresh gradient array) ---

        Tolerance t = Tolerance.FLOAT32;
        double[] refLoss = new double[rows];
        double[] refGrad = new double[rows * 3];
        double[] refGradTerms = new double[rows * 3];
        double refMean = ReferenceKernel.evaluate(config, rows, toDouble(scores), toDouble(weights), refLoss, refGrad,
                null, refGradTerms);
        assertEquals(refMean, mean, t.lossRelative() * Math.max(1, Math.abs(refMean)), loss.kernel().name());
        assertTrue(t.acceptsGradient(GradientError.of(toDouble(grad), refGrad, refGradTerms)), loss.kernel().name());

        float[] viewGrad = new float[scores.length];
        Arrays.fill(viewGrad, 7f); // rows outside the view must keep this
        double part = loss.evaluate(scores, weights, 128, 64, null, viewGrad);

        double[] viewScores = toDouble(Arrays.copyOfRange(scores, 128 * 3, 192 * 3));
        double[] viewWeights = toDouble(Arrays.copyOfRange(weights, 128 * 3, 192 * 3));
        double[] viewRefGrad = new double[64 * 3];
        double[] viewRefGradTerms = new double[64 * 3];
        double viewRefMean = ReferenceKernel.evaluate(config, 64, viewScores, viewWeights, new double[64], viewRefGrad,
                null, viewRefGradTerms);
        assertEquals(viewRefMean, part, t.lossRelative() * Math.max(1, Math.abs(viewRefMean)));
        assertTrue(t.acceptsGradient(GradientError.of(toDouble(Arrays.copyOfRange(viewGrad, 128 * 3, 192 * 3)),
                viewRefGrad, viewRefGradTerms)), "the view's gradient is that of its own mean loss");
        float[] untouched = new float[128 * 3];
        Arrays.fill(untouched, 7f);
        assertArrayEquals(untouched, Arrays.copyOfRange(viewGrad, 0, 128 * 3), "rows before the view");
        assertArrayEquals(Arrays.copyOf(untouched, 108 * 3), Arrays.copyOfRange(viewGrad, 192 * 3, rows * 3),
                "rows after the view");
    }

    /**
     * The README's "Embedding the router" snippets, training from Java then routing, line for line but for the
     * files' directory: on rows where expert "left" is right for {@code x < 0} and "right" for {@code x > 0}, the router sends
     * clear cases to the expert that is right, and the loaded model routes as the trained one.
     */
    @Test
    void trainingAndRoutingFromJavaAsTheReadmeShowsIt(@TempDir Path dir) throws IOException {
        StringBuilder csv = new StringBuilder("x,noise,cost:left,cost:right\n");
        SplittableRandom rnd = new SplittableRandom(5);
        for (int i = 0; i < 400; i++) {
            double x = 4 * rnd.nextDouble() - 2;
            csv.append(String.format(java.util.Locale.ROOT, "%.4f,%.4f,%d,%d%n", x, rnd.nextDouble(), x < 0 ? 0 : 1,
                    x < 0 ? 1 : 0));
        }
        Files.writeString(dir.resolve("rows.csv"), csv);

        // --- README, "Embedding the router": training ---
        Dataset data = DataFiles.read(dir.resolve("rows.csv"));
        RouterTraining.Spec spec = new RouterTraining.Spec();
        spec.options = TrainOptions.DEFAULT.withEpochs(20);
        RouterTraining.Outcome outcome = RouterTraining.run(data, null, null, spec, null);
        ModelFile.save(outcome.model(), dir.resolve("router.mild"));
        // --- README, "Embedding the router": routing ---
        RouterModel model = ModelFile.load(dir.resolve("router.mild"));
        Router router = model.router();
        float[] features = new float[router.features()];
        int expert = router.route(features);
        String name = router.expertName(expert);
        // ---

        assertEquals(java.util.List.of("x", "noise"), model.featureNames());
        assertEquals(outcome.model().router().route(features), expert, "the loaded model routes as the trained one");
        assertTrue(name.equals("left") || name.equals("right"), name);
        assertEquals("left", router.expertName(router.route(new float[] {-1.5f, 0.5f})));
        assertEquals("right", router.expertName(router.route(new float[] {1.5f, 0.5f})));
    }
}
