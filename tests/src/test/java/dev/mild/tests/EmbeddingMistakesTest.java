package dev.mild.tests;

import static dev.mild.tests.ValidationTest.fails;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mild.data.Dataset;
import dev.mild.loss.Backends;
import dev.mild.loss.KernelOptions;
import dev.mild.loss.Loss;
import dev.mild.loss.LossConfig;
import dev.mild.loss.ScalarKernel;
import dev.mild.router.ExpertSetup;
import dev.mild.router.ModelFile;
import dev.mild.router.Mlp;
import dev.mild.router.Router;
import dev.mild.router.RouterModel;
import dev.mild.router.RouterTraining;
import dev.mild.router.Standardizer;
import dev.mild.router.TrainOptions;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mistakes a program embedding the engine makes through the Java API, which the CLI's readers never let through:
 * a data set built in code, and missing (null) arguments. Each is an InvalidInputException that says what is
 * wrong, never an ArrayIndexOutOfBoundsException or NullPointerException from deep inside, nor a silent training
 * on costs a file would have been refused for.
 */
class EmbeddingMistakesTest {
    static final int ROWS = 200;
    static final List<String> FEATURES = List.of("a", "b");
    static final List<String> EXPERTS = List.of("big", "small");

    /** Two features; expert "big" is right when a > 0, "small" always costs 0.3. */
    static float[] features() {
        float[] x = new float[ROWS * 2];
        for (int i = 0; i < ROWS; i++) {
            x[2 * i] = (i % 7) - 3f;
            x[2 * i + 1] = (i % 5) / 5f;
        }
        return x;
    }

    static double[] costs(float[] x) {
        double[] c = new double[ROWS * 2];
        for (int i = 0; i < ROWS; i++) {
            c[2 * i] = x[2 * i] > 0 ? 0 : 1;
            c[2 * i + 1] = 0.3;
        }
        return c;
    }

    static Dataset data(List<String> features, float[] x, int rows, List<String> experts, double[] c) {
        return new Dataset("mine", features, x, rows, null, experts, c, null, null);
    }

    /**
     * Costs one row short trained until it failed with an ArrayIndexOutOfBoundsException, a negative cost trained
     * without an error (a file's is refused), and a repeated feature name was refused only by the model, after the
     * whole training.
     */
    @Test
    void aDataSetMadeInCodeIsCheckedLikeAFile() {
        float[] x = features();
        double[] c = costs(x);
        fails(() -> data(FEATURES, x, ROWS, EXPERTS, Arrays.copyOf(c, c.length - 2)),
                "mine: costs has 398 values; 200 rows of 2 experts need 400");
        fails(() -> data(FEATURES, Arrays.copyOf(x, 100), ROWS, EXPERTS, c),
                "mine: features has 100 values; 200 rows of 2 features need 400");
        fails(() -> data(FEATURES, null, ROWS, EXPERTS, c), "mine: features is null");
        fails(() -> data(FEATURES, x, ROWS, List.of("big", "small", "third"), c),
                "mine: costs has 400 values; 200 rows of 3 experts need 600");
        fails(() -> data(List.of("a", "a"), x, ROWS, EXPERTS, c), "mine: featureNames: \"a\" appears twice");
        fails(() -> data(FEATURES, x, -3, EXPERTS, c), "mine: rows must be >= 0, got -3");

        double[] negative = c.clone();
        negative[2 * 4 + 1] = -1;
        fails(() -> data(FEATURES, x, ROWS, EXPERTS, negative), "mine, row 5 (1-based), cost of expert small: -1.0",
                "must be >= 0");
        double[] nan = c.clone();
        nan[2 * 4] = Double.NaN;
        fails(() -> data(FEATURES, x, ROWS, EXPERTS, nan), "mine, row 5 (1-based), cost of expert big: NaN");
        float[] badX = x.clone();
        badX[2 * 9 + 1] = Float.NaN;
        fails(() -> data(FEATURES, badX, ROWS, EXPERTS, c), "mine, row 10 (1-based), feature b: NaN is not finite");
        badX[2 * 9 + 1] = 3e38f;
        fails(() -> data(FEATURES, badX, ROWS, EXPERTS, c), "mine, row 10 (1-based), feature b: 3.0E38 is too large");

        int[] labels = new int[ROWS];
        labels[6] = -2;
        fails(() -> new Dataset("mine", FEATURES, x, ROWS, labels, List.of(), null, null, null),
                "mine, row 7 (1-based), label: -2 is not a class index");
        fails(() -> new Dataset("mine", FEATURES, x, ROWS, new int[10], List.of(), null, null, null),
                "mine: labels has 10 values; 200 rows of one label need 200");
        fails(() -> new Dataset("mine", FEATURES, x, ROWS, null, EXPERTS, null, null, null),
                "mine: 2 expert names but neither costs nor predictions");

        // The well-formed set trains.
        assertEquals(140, RouterTraining.run(data(FEATURES, x, ROWS, EXPERTS, c), null, null, spec(),
                RouterTraining.Listener.SILENT).trainRows());
    }

    static RouterTraining.Spec spec() {
        RouterTraining.Spec spec = new RouterTraining.Spec();
        spec.rho = "uniform";
        spec.options = TrainOptions.DEFAULT.withEpochs(2);
        return spec;
    }

    /** Each of these was a NullPointerException (or a bare IllegalArgumentException) naming nothing of the API. */
    @Test
    void missingArgumentsAreNamed(@TempDir Path dir) {
        RouterTraining.Spec spec = new RouterTraining.Spec();
        fails(() -> RouterTraining.run(null, null, null, spec, null), "data is missing (null)");
        float[] x = features();
        fails(() -> RouterTraining.run(data(FEATURES, x, ROWS, EXPERTS, costs(x)), null, null, null, null),
                "spec is missing (null)");
        fails(() -> ModelFile.load(null), "model file to load is missing (null)");
        fails(() -> ModelFile.save(null, dir.resolve("m.mild")), "model to save is missing (null)");
        fails(() -> Backends.open("scalar", null), "kernel options are missing (null)");
        fails(() -> Backends.openDefault(null), "kernel options are missing (null)");
        fails(() -> new Loss(null, new ScalarKernel()), "config is missing (null)");
        fails(() -> new Loss(LossConfig.mild(1, 1), null), "kernel is missing (null)");
        fails(() -> KernelOptions.threads(-1), "threads must be in 0..4096");
        fails(() -> KernelOptions.threads(Integer.MAX_VALUE), "threads must be in 0..4096", "2147483647");
        fails(() -> TrainOptions.DEFAULT.withHidden((int[]) null), "hidden layer widths are missing (null)");
        // A null listener means no progress reports.
        assertEquals(140, RouterTraining.run(data(FEATURES, x, ROWS, EXPERTS, costs(x)), null, null, spec(), null)
                .trainRows());
    }

    /**
     * The router and model constructors are public (embedders normally get them from ModelFile): a null part was a
     * NullPointerException from inside, and an expert setup or standardizer with a null array one from its
     * constructor.
     */
    @Test
    void missingPartsOfARouterOrModelAreNamed() {
        Standardizer standardizer = new Standardizer(new float[2], new float[] {1f, 1f});
        Mlp network = new Mlp(2, 3, 2);
        ExpertSetup costs = new ExpertSetup(ExpertSetup.Source.COSTS, EXPERTS, 0, new int[0], new double[2], 0);
        fails(() -> new Router(null, network, EXPERTS), "router: standardizer is missing (null)");
        fails(() -> new Router(standardizer, null, EXPERTS), "router: network is missing (null)");
        fails(() -> new Router(standardizer, network, null), "router: expert names is missing (null)");
        fails(() -> new Router(standardizer, network, Arrays.asList("big", null)),
                "router: expert names: item 2 (1-based) is missing (null)");
        // Shapes that do not match were already named.
        fails(() -> new Router(new Standardizer(new float[3], new float[3]), network, EXPERTS),
                "the standardizer has 3 features but the network 2 inputs");

        fails(() -> new RouterModel(null, standardizer, network, costs, List.of(), Map.of()),
                "model: feature names is missing (null)");
        fails(() -> new RouterModel(Arrays.asList(null, "b"), standardizer, network, costs, List.of(), Map.of()),
                "model: feature names: item 1 (1-based) is missing (null)");
        fails(() -> new RouterModel(FEATURES, null, network, costs, List.of(), Map.of()),
                "model: standardizer is missing (null)");
        fails(() -> new RouterModel(FEATURES, standardizer, null, costs, List.of(), Map.of()),
                "model: network is missing (null)");
        fails(() -> new RouterModel(FEATURES, standardizer, network, null, List.of(), Map.of()),
                "model: expert setup is missing (null)");
        fails(() -> new RouterModel(FEATURES, standardizer, network, costs, null, Map.of()),
                "model: expert classifiers (an empty list when the experts are not trained) is missing (null)");
        fails(() -> new RouterModel(FEATURES, standardizer, network, costs, List.of(), null),
                "model: info (an empty map for none) is missing (null)");
        Map<String, String> info = new HashMap<>();
        info.put("seed", null);
        fails(() -> new RouterModel(FEATURES, standardizer, network, costs, List.of(), info),
                "model: info value of \"seed\" is missing (null)");

        fails(() -> new ExpertSetup(null, EXPERTS, 0, new int[0], new double[2], 0), "expert setup: source is missing");
        fails(() -> new ExpertSetup(ExpertSetup.Source.COSTS, null, 0, new int[0], new double[2], 0),
                "expert setup: names is missing (null)");
        fails(() -> new ExpertSetup(ExpertSetup.Source.COSTS, EXPERTS, 0, null, new double[2], 0),
                "expert setup: blocks (an empty array for none) is missing (null)");
        fails(() -> new ExpertSetup(ExpertSetup.Source.COSTS, EXPERTS, 0, new int[0], null, 0),
                "expert setup: beta (zeros for no price) is missing (null)");
        fails(() -> new Standardizer(null, new float[2]), "standardizer: mean is missing (null)");
        fails(() -> new Standardizer(new float[2], null), "standardizer: std is missing (null)");

        // The well-formed parts make a model that routes.
        RouterModel model = new RouterModel(FEATURES, standardizer, network, costs, List.of(), Map.of("seed", "1"));
        assertEquals(2, model.router().experts());
    }
}
