package dev.mild.cli;

import dev.mild.io.Figures;
import dev.mild.router.RhoSearch;
import dev.mild.router.RouterTraining;
import dev.mild.router.Trainer;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Training progress: on a terminal one line rewritten in place (carriage return) per phase; otherwise plain
 * lines, one per epoch, so logs stay readable. {@code quiet} drops epoch lines (messages stay).
 */
final class Progress implements RouterTraining.Listener {
    private final PrintStream out;
    private final boolean terminal;
    private final boolean quiet;
    private boolean pending;   // a carriage-return line is on screen without its newline

    Progress(PrintStream out, boolean terminal, boolean quiet) {
        this.out = out;
        this.terminal = terminal;
        this.quiet = quiet;
    }

    @Override
    public void message(String text) {
        finishLine();
        out.println(text);
    }

    @Override
    public void epoch(String phase, Trainer.Epoch e) {
        if (quiet) {
            return;
        }
        String line = String.format(Locale.ROOT, "  %-10s epoch %3d/%d  surrogate loss %s  valid deferral loss %s"
                + "  (best %s at epoch %d)", phase, e.epoch(), e.epochs(), Figures.of(e.trainLoss()),
                Figures.of(e.validLoss()), Figures.of(e.bestValidLoss()), e.bestEpoch());
        show(line);
    }

    @Override
    public void baseEpoch(Trainer.Epoch e) {
        epoch("rho base", e);
    }

    @Override
    public void searchEpochs(int epochs) {
        message(String.format(Locale.ROOT, "rho auto: grid search, %d epochs per point from the base", epochs));
    }

    @Override
    public void point(RhoSearch.Point p, int index, int total) {
        String line = String.format(Locale.ROOT, "  grid %2d/%d  mean margin %-4s gamma %-4s -> valid deferral loss %s",
                index, total, Reports.fraction(p.meanMargin()), Reports.fraction(p.gamma()), Figures.of(p.validLoss()));
        if (!quiet) {
            show(line);
        }
    }

    /** A progress line: rewritten in place on a terminal (padded over a longer previous one), else a new line. */
    private void show(String line) {
        if (terminal) {
            out.print("\r" + line + "          ");
            out.flush();
            pending = true;
        } else {
            out.println(line);
        }
    }

    /** Ends a carriage-return line before other output. */
    void finishLine() {
        if (pending) {
            out.println();
            pending = false;
        }
    }
}
