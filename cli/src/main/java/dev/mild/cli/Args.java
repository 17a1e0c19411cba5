package dev.mild.cli;

import dev.mild.data.Decimal;
import dev.mild.io.JsonOut;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parsed command-line arguments: {@code --name value}, {@code --name=value}, {@code --flag}, positionals; after
 * {@code --} every argument is positional.
 */
final class Args {
    private final String command;
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();
    private final List<String> positional = new ArrayList<>();

    private Args(String command) {
        this.command = command;
    }

    /**
     * @param valueOptions option names (without dashes) that take a value
     * @param flagOptions  option names that take none
     */
    static Args parse(String command, String[] argv, Set<String> valueOptions, Set<String> flagOptions) {
        Args a = new Args(command);
        boolean optionsEnded = false;
        for (int i = 0; i < argv.length; i++) {
            String s = argv[i];
            if (s.equals("--") && !optionsEnded) {
                // The usual end of the options: what follows is positional even if it starts with a dash (a golden
                // FILE named -x.json). It was "unknown option -- (options start with --...)".
                optionsEnded = true;
            } else if (optionsEnded) {
                a.positional(s, i, command);
            } else if (s.startsWith("--") && s.length() > 2) {
                String name = s.substring(2);
                String value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) {
                    value = name.substring(eq + 1);
                    name = name.substring(0, eq);
                }
                if (flagOptions.contains(name)) {
                    if (value != null) {
                        throw new UsageException("--" + name + " takes no value");
                    }
                    if (!a.flags.add(name)) {
                        // As for a valued option: a repeated flag is more likely a slip (an edited command line) than
                        // meant, and it is refused the same way.
                        throw new UsageException("--" + name + " is given twice");
                    }
                } else if (valueOptions.contains(name)) {
                    if (value == null) {
                        if (i + 1 >= argv.length) {
                            throw new UsageException("--" + name + " needs a value");
                        }
                        // "--epochs --out m.mild": the value was forgotten; taking "--out" would blame "m.mild".
                        String next = argv[i + 1];
                        String nextName = next.startsWith("--") ? next.substring(2).split("=", 2)[0] : null;
                        if (nextName != null && (valueOptions.contains(nextName) || flagOptions.contains(nextName))) {
                            throw new UsageException("--" + name + " needs a value, but the next argument is the"
                                    + " option --" + nextName);
                        }
                        value = argv[++i];
                    }
                    if (value.isBlank()) {
                        // An empty path would be the current directory, an empty number "not a number".
                        throw new UsageException("--" + name + " needs a value, got an empty one");
                    }
                    if (a.values.put(name, value) != null) {
                        throw new UsageException("--" + name + " is given twice");
                    }
                } else {
                    throw new UsageException("unknown option --" + name + " for '" + command + "'");
                }
            } else if (s.startsWith("-") && s.length() > 1 && !isNumber(s)) {
                // "-d FILE" or "-data FILE" was reported as positional arguments, which did not say what was wrong.
                String name = s.substring(1).split("=", 2)[0];
                boolean known = valueOptions.contains(name) || flagOptions.contains(name);
                throw new UsageException("unknown option " + s.split("=", 2)[0] + " (options start with --"
                        + (known ? ": --" + name : "") + "; see ./mild " + command + " --help)", true);
            } else if (!s.isEmpty() && DASHES.indexOf(s.charAt(0)) > 0 // a typographic dash (a hyphen: above)
                    && (valueOptions.contains(optionName(s)) || flagOptions.contains(optionName(s)))) {
                // "—data" (an em dash, or an en dash: "--" autocorrected in a document the command was copied
                // from) was "expects no positional arguments, got —data good.csv".
                throw new UsageException("unknown option " + s.split("=", 2)[0] + ": it starts with "
                        + Character.getName(s.charAt(0)) + " (U+" + String.format(java.util.Locale.ROOT, "%04X",
                        (int) s.charAt(0)) + "), not with two hyphens, as if copied from a document that changed"
                        + " them; options start with --: --" + optionName(s) + " (see ./mild " + command + " --help)",
                        true);
            } else {
                a.positional(s, i, command);
            }
        }
        return a;
    }

    /** The hyphen first, then the typographic dashes a document may put in its place (en and em dash, minus sign...). */
    private static final String DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212";

    /** {@code s} without its leading dashes of any kind and without "=value". */
    private static String optionName(String s) {
        int i = 0;
        while (i < s.length() && DASHES.indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        return s.substring(i).split("=", 2)[0];
    }

    /** Adds positional argument {@code s}, argument {@code i} (0-based) after the command. */
    private void positional(String s, int i, String command) {
        if (s.isBlank()) {
            // As for an empty option value: golden's FILE "" was the current directory (": is a directory"), and
            // elsewhere "expects no positional arguments, got " showed nothing at all.
            throw new UsageException("argument " + (i + 1) + " after '" + command + "' is empty (an unset shell"
                    + " variable?): give what belongs there, or leave it out");
        }
        positional.add(s);
    }

    /** The arguments before {@code --}, where options are: an option after it is a positional argument. */
    static List<String> optionPart(List<String> argv) {
        int end = argv.indexOf("--");
        return end < 0 ? argv : argv.subList(0, end);
    }

    private static boolean isNumber(String s) {
        try {
            Decimal.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    String value(String name) {
        return values.get(name);
    }

    String value(String name, String fallback) {
        return values.getOrDefault(name, fallback);
    }

    int intValue(String name, int fallback, int min, int max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        String outOfRange = "--" + name + " must be between " + min + " and " + max + ", got " + v.trim();
        int x;
        try {
            x = Decimal.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(Decimal.isWholeNumber(v.trim()) ? outOfRange
                    : "--" + name + " must be a whole number, got \"" + v + "\"");
        }
        if (x < min || x > max) {
            throw new UsageException(outOfRange);
        }
        return x;
    }

    /** The option's whole-number value, checked as {@link #intValue} does; null when it is not given. */
    Integer optionalInt(String name, int min, int max) {
        return values.containsKey(name) ? intValue(name, 0, min, max) : null;
    }

    /**
     * The option's value, checked as {@link #doubleValue} does; null when it is not given, so that the option's
     * default lives in one place (the setting it fills) and an option the chosen mode does not use can be refused.
     */
    Double optionalDouble(String name, double min, double max) {
        return values.containsKey(name) ? doubleValue(name, 0, min, max) : null;
    }

    double doubleValue(String name, double fallback, double min, double max) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        double x;
        try {
            x = Decimal.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number, got \"" + v + "\"");
        }
        if (x == 0 && roundsToZero(v.trim())) {
            // 1e-400 parses as 0: checked as 0, it was then reported as "--valid-fraction 0 leaves no validation rows"
            throw new UsageException("--" + name + " " + v.trim() + " is too small for a double and rounds to 0 (the"
                    + " smallest above 0 is 4.9e-324): give 0 if 0 is meant, or a larger number");
        }
        if (!(x >= min && x <= max)) {
            throw new UsageException("--" + name + " must be between " + limit(min) + " and " + limit(max) + ", got "
                    + v);
        }
        return x;
    }

    /** Whether a decimal that parsed as 0 has a digit other than 0 before its exponent: it underflowed. */
    private static boolean roundsToZero(String decimal) {
        int e = Math.max(decimal.indexOf('e'), decimal.indexOf('E'));
        return (e < 0 ? decimal : decimal.substring(0, e)).chars().anyMatch(c -> c >= '1' && c <= '9');
    }

    /** A range limit as a person writes it: "1000", "0.99", "1e-12" (not Java's "1000.0", "1.0E-12"). */
    static String limit(double x) {
        return JsonOut.number(x).replace(".0E", "E").replace("E", "e");   // whole numbers without ".0"
    }

    List<String> positional() {
        return positional;
    }

    /** Exactly {@code n} positional arguments, named in the error message. */
    List<String> positional(int n, String what) {
        if (positional.size() != n) {
            throw new UsageException("'" + command + "' expects " + what + (positional.isEmpty() ? "" : ", got "
                    + String.join(" ", positional)));
        }
        return positional;
    }
}
