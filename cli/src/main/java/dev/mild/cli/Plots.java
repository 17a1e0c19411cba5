package dev.mild.cli;

import dev.mild.InvalidInputException;
import dev.mild.io.Figures;
import dev.mild.io.OutputFile;
import dev.mild.router.Evaluation;
import dev.mild.router.RouterTraining;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/** {@code --plot}: one PNG with the deferral ratios per expert (router vs oracle) and the learning curve. */
final class Plots {
    private Plots() {
    }

    static void write(Path file, RouterTraining.Outcome o, List<String> experts) {
        Evaluation.Result shown = o.test() != null ? o.test() : o.valid();
        String split = o.test() != null ? "test" : "validation";
        List<Chart<?, ?>> charts = new ArrayList<>();
        charts.add(ratios(shown, experts, split));
        charts.add(learningCurve(o.training().trainLoss(), o.training().validLoss(), o.training().bestEpoch()));
        save(file, charts);
    }

    static CategoryChart ratios(Evaluation.Result r, List<String> experts, String split) {
        CategoryChart c = new CategoryChartBuilder().width(640).height(420)
                .title(String.format(java.util.Locale.ROOT, "Deferral ratios (%s): router %s vs oracle %s",
                        split, Figures.of(r.report().meanLoss()), Figures.of(r.report().oracleLoss())))
                .xAxisTitle("expert").yAxisTitle("share of rows (%)").build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        c.addSeries("router", experts, percents(r.report().ratios()));
        c.addSeries("oracle", experts, percents(r.report().oracleRatios()));
        return c;
    }

    static XYChart learningCurve(double[] trainLoss, double[] validLoss, int bestEpoch) {
        XYChart c = new XYChartBuilder().width(640).height(420)
                .title("Learning curve (best epoch " + bestEpoch + ")").xAxisTitle("epoch").yAxisTitle("loss").build();
        c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        double[] epochs = new double[trainLoss.length];
        for (int i = 0; i < epochs.length; i++) {
            epochs[i] = i + 1;
        }
        if (epochs.length > 0) {
            c.addSeries("surrogate loss (training)", epochs, trainLoss);
            c.addSeries("deferral loss (validation)", epochs, validLoss);
        }
        return c;
    }

    private static List<Double> percents(double[] r) {
        List<Double> v = new ArrayList<>();
        for (double x : r) {
            v.add(100 * x);
        }
        return v;
    }

    /** What an existing file must be for {@code --plot} to replace it: a PNG image (an older plot). */
    static final OutputFile.Kind KIND = new OutputFile.Kind("PNG image",
            new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});

    /** Renders side by side and writes through a temporary file ({@link OutputFile#write}): never half an image. */
    static void save(Path file, List<Chart<?, ?>> charts) {
        System.setProperty("java.awt.headless", "true");
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        try {
            BitmapEncoder.saveBitmap(charts, 1, charts.size(), png, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot render the plot: " + e.getMessage(), e);
        }
        OutputFile.write(file, png.toByteArray(), "the plot");
    }
}
