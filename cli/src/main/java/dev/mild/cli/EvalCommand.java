package dev.mild.cli;

import dev.mild.InvalidInputException;
import dev.mild.data.DataFiles;
import dev.mild.data.Dataset;
import dev.mild.io.JsonOut;
import dev.mild.router.Evaluation;
import dev.mild.router.ExpertSetup;
import dev.mild.router.ModelFile;
import dev.mild.router.Router;
import dev.mild.router.RouterModel;
import dev.mild.router.Standardizer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code ./mild eval}: a saved router on a labelled or costed file, next to the oracle. */
final class EvalCommand implements Command {
    @Override
    public String name() {
        return "eval";
    }

    @Override
    public String summary() {
        return "deferral loss and per-expert shares of a saved router on a data file, vs the oracle";
    }

    @Override
    public String help() {
        return """
                Usage: ./mild eval --model MODEL --data FILE [--json]

                Routes every row of FILE with a model saved by ./mild train and reports how well it did.
                FILE has the model's feature columns (by name, any order) and what the model's costs are
                made of: cost:<expert> columns, or label + pred:<expert> columns, or (for simulated
                experts) a label column; the prices (--beta or --coverage) the model was trained with are
                added again. Synthetic experts guess with the model's seed, as train did for its --test file.
                A label the model never saw in training is accepted except with synthetic experts (which
                need the class's block): a pred: column is right there only if it names that class, a
                trained expert is always wrong; such classes get their own line in the table by class block.

                Output:
                  deferral loss   mean cost of the expert picked per row (lower is better)
                  shares          the share of rows sent to each expert ("ratio of expert deferral")
                  router / oracle the trained router, and the oracle that knows every cost and picks the
                                  cheapest expert (ties to the first listed): the best any router can do
                  always <expert> the deferral loss of sending every row to that one expert; a note
                                  follows when the router does worse than the best of them
                  Note: ...       also when every row costs the same for every expert, or there is one
                                  expert only (nothing to learn); --json lists them in "notes", each with
                                  a "kind" (worseThanOneExpert, costsAllEqual, oneExpert) and its "text"
                  by class block  the same per block of classes (or per class) when labels are known

                Options:
                  --model MODEL   a model file from ./mild train
                  --data FILE     CSV (.csv or .csv.gz) or IDX images file (labels file beside it)
                  --json          one JSON object instead of tables

                Example:
                  ./mild eval --model mmlu.mild --data ../shared/data/mmlu-routellm-test.csv.gz
                """;
    }

    @Override
    public Set<String> valueOptions() {
        return Set.of("model", "data");
    }

    @Override
    public Set<String> flagOptions() {
        return Set.of("json");
    }

    @Override
    public int run(Args args, Console console) {
        args.positional(0, "no positional arguments (give --model MODEL --data FILE)");
        String modelPath = args.value("model");
        String dataPath = args.value("data");
        if (modelPath == null || dataPath == null) {
            throw new UsageException("--model MODEL and --data FILE are required");
        }
        RouterModel model = ModelFile.load(Path.of(modelPath));
        Dataset data = DataFiles.align(DataFiles.read(Path.of(dataPath)), model.featureNames(), model.expertNames());
        Evaluation.Result r = evaluate(model, data);
        List<String> experts = model.expertNames();
        if (args.flag("json")) {
            StringBuilder sb = new StringBuilder("{");
            sb.append("\"model\": ").append(JsonOut.quote(modelPath));
            sb.append(", \"data\": ").append(JsonOut.quote(data.source()));
            sb.append(", \"experts\": ").append(Reports.list(experts));
            sb.append(", \"setup\": ").append(JsonOut.quote(model.experts().describe()));
            sb.append(", \"info\": {");
            int i = 0;
            for (Map.Entry<String, String> e : model.info().entrySet()) {
                sb.append(i++ == 0 ? "" : ", ").append(JsonOut.quote(e.getKey())).append(": ").append(JsonOut.quote(e.getValue()));
            }
            sb.append("}, \"result\": ").append(Reports.json(r, experts));
            sb.append(", \"notes\": ").append(Reports.json(Reports.resultNotes(experts, Map.of("this file", r))));
            sb.append('}');
            console.out().println(sb);
            return Main.OK;
        }
        PrintStream p = console.out();
        // Models written before --scale existed have no "scale" entry: they standardized each column.
        // The entry is written from Scaling's label (RouterTraining), so it is compared with the same label.
        boolean unscaled = Standardizer.Scaling.NONE.label.equals(model.info().get("scale"));
        p.printf(Locale.ROOT, "Model: %s (%s; %s%s)%n", modelPath, model.info().getOrDefault("surrogate", "?"),
                model.experts().describe(), unscaled ? "; features as they are" : "");
        p.printf(Locale.ROOT, "Data: %s: %d rows%n%n", data.source(), data.rows());
        Reports.table(p, experts, Reports.lines("this file", r));
        Reports.alwaysOneExpert(p, "this file", r, experts);
        Reports.resultNotes(experts, Map.of("this file", r)).forEach(n -> n.print(p));
        if (!r.blocks().isEmpty()) {
            p.println();
            p.println("By class block:");
            Reports.blocks(p, experts, r.blocks());
        }
        return Main.OK;
    }

    static Evaluation.Result evaluate(RouterModel model, Dataset data) {
        float[] standardized = model.standardizer().apply(data);
        int stream = ExpertSetup.STREAM_TEST;
        double[] costs = model.experts().costsFor(data, standardized, model.expertClassifiers(), stream);
        Router router = model.router(DenseProducts.forRoutingOnce());
        int p = router.experts();
        float[] scores = new float[data.rows() * p];
        // Row by row, so that a row the router cannot score (its scores overflow) is named by file and line.
        int d = router.features();
        float[] row = new float[d];
        float[] rowScores = new float[p];
        Router.Scratch scratch = router.newScratch();
        for (int i = 0; i < data.rows(); i++) {
            System.arraycopy(data.features(), i * d, row, 0, d);
            try {
                router.route(row, rowScores, scratch); // the choice itself is Evaluation's, from the scores
            } catch (InvalidInputException e) {
                throw new InvalidInputException(data.where(i) + ": " + e.getMessage(), e);
            }
            System.arraycopy(rowScores, 0, scores, i * p, p);
        }
        return Evaluation.of(scores, costs, data.rows(), data.labels(), model.experts());
    }
}
