package dev.mild.router;

import dev.mild.InvalidInputException;
import dev.mild.RecordText;
import dev.mild.loss.Checks;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything a trained router needs to route and to be evaluated again: the feature columns it reads (by name),
 * the training split's standardization, the network, how expert costs are made ({@link ExpertSetup}), the
 * expert classifiers when the experts were trained, and a few facts about its training ({@code info}: loss,
 * rho, seed, validation deferral loss, ...). Saved and loaded by {@link ModelFile}.
 *
 * @param featureNames      the feature columns the network reads, in input order; a router's feature row
 *                          follows this order. Copied; no name may repeat.
 * @param standardizer      the training split's mean and standard deviation per feature
 * @param network           the router network: one input per feature, one output (score) per expert
 * @param experts           how expert costs are made, and the experts' names in score order
 * @param expertClassifiers one classifier per expert for {@link ExpertSetup.Source#TRAINED} experts (inputs: the
 *                          standardized features; outputs: class logits), else empty
 * @param info              facts about the training as text keys and values (loss, rho, seed, validation loss,
 *                          ...), stored in the model file; an empty map for none. Copied.
 */
public record RouterModel(List<String> featureNames, Standardizer standardizer, Mlp network, ExpertSetup experts,
                          List<Mlp> expertClassifiers, Map<String, String> info) {

    /**
     * Checks that the parts fit together and copies the lists and the map (unmodifiable).
     *
     * @throws InvalidInputException when a part, a list element or an info key or value is {@code null}; when the
     *                               feature names, the standardizer and the network disagree on the number of
     *                               features, or the expert setup and the network on the number of experts; when
     *                               a feature or expert name repeats; or when trained experts lack one fitting
     *                               classifier each
     */
    public RouterModel {
        // A null part was a NullPointerException from List.copyOf or a size() call below, naming nothing.
        Checks.requiredElements("model: feature names", featureNames);
        Checks.required("model: standardizer", standardizer);
        Checks.required("model: network", network);
        Checks.required("model: expert setup", experts);
        Checks.requiredElements("model: expert classifiers (an empty list when the experts are not trained)",
                expertClassifiers);
        Checks.required("model: info (an empty map for none)", info);
        info.forEach((key, value) -> {
            if (key == null || value == null) { // the model file stores strings
                throw new InvalidInputException("model: info " + (key == null ? "has a null key"
                        : "value of \"" + key + "\" is missing (null)"));
            }
        });
        featureNames = List.copyOf(featureNames);
        expertClassifiers = List.copyOf(expertClassifiers);
        info = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(info));
        if (featureNames.size() != network.inputs() || standardizer.features() != network.inputs()) {
            throw new InvalidInputException("model: " + featureNames.size() + " feature names, "
                    + standardizer.features() + " standardized features, network of " + network.inputs() + " inputs");
        }
        // Names are how files meet the model (columns by feature name, cost:/pred: columns by expert name): a
        // repeated one matched one file column twice, silently (eval), or was "missing" from a header that had it.
        rejectRepeated("model", "feature", featureNames);
        rejectRepeated("model", "expert", experts.names());
        if (experts.experts() != network.outputs()) {
            throw new InvalidInputException("model: " + experts.experts() + " experts, network of "
                    + network.outputs() + " outputs");
        }
        if (experts.source() == ExpertSetup.Source.TRAINED && expertClassifiers.size() != experts.experts()) {
            throw new InvalidInputException("model: trained experts need one classifier each, got "
                    + expertClassifiers.size());
        }
        for (Mlp c : expertClassifiers) {
            if (c.inputs() != network.inputs() || c.outputs() != experts.classes()) {
                throw new InvalidInputException("model: an expert classifier maps " + c.inputs() + " inputs to "
                        + c.outputs() + " classes; expected " + network.inputs() + " and " + experts.classes());
            }
        }
    }

    /** A name given twice, refused: {@code "<owner>: <what> name "x" appears twice"} (the Router's check too). */
    static void rejectRepeated(String owner, String what, List<String> names) {
        Set<String> seen = new HashSet<>();
        for (String name : names) {
            if (!seen.add(name)) {
                throw new InvalidInputException(owner + ": " + what + " name \"" + name + "\" appears twice");
            }
        }
    }

    /**
     * A router over this model (a copy of the parameters), on {@link DenseProduct#fastest()}.
     *
     * @return a new, immutable and thread-safe router, whose feature rows follow {@link #featureNames()}
     * @throws InvalidInputException when a network parameter is not finite
     */
    public Router router() {
        return new Router(standardizer.named(featureNames), network, experts.names());
    }

    /**
     * A router over this model on {@code product} (every product routes every row the same; only speed differs).
     *
     * @param product how each layer's product is computed: {@link DenseProduct#fastest()},
     *                {@link DenseProduct#plain()} or {@link DenseProduct#named}
     * @return a new, immutable and thread-safe router, whose feature rows follow {@link #featureNames()}
     * @throws InvalidInputException when {@code product} is {@code null} or a network parameter is not finite
     */
    public Router router(DenseProduct product) {
        return new Router(standardizer.named(featureNames), network, experts.names(), product);
    }

    /**
     * The experts' names, in score order: the names {@link Router#expertName} gives.
     *
     * @return the expert setup's names, one per network output
     */
    public List<String> expertNames() {
        return experts.names();
    }

    /** Arrays by type, length and first values (not {@code [F@1b2c3d}), long lists cut short. */
    @Override
    public String toString() {
        return RecordText.of(this);
    }
}
