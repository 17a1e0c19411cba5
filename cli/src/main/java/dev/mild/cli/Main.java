package dev.mild.cli;

import dev.mild.InvalidInputException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * {@code ./mild}: the command-line front door. Exit codes: 0 ok, 1 a check failed, 2 bad usage or bad input.
 */
public final class Main {
    public static final int OK = 0;
    public static final int CHECK_FAILED = 1;
    public static final int BAD_INPUT = 2;

    private static final List<Command> COMMANDS = List.of(
            new DemoCommand(),
            new TrainCommand(),
            new EvalCommand(),
            new RouteCommand(),
            new ReproCommand(),
            new GoldenCommand(),
            new ThroughputCommand(),
            new BackendsCommand());

    private Main() {
    }

    public static void main(String[] argv) {
        configureLogging(System.getenv("MILD_VERBOSE") != null);
        int code = run(argv, Console.system());
        System.out.flush();
        System.exit(code);
    }

    /** Runs one command line; never exits the JVM (tests call this). */
    public static int run(String[] argv, Console console) {
        Map<String, Command> byName = new LinkedHashMap<>();
        for (Command c : COMMANDS) {
            byName.put(c.name(), c);
        }
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            if (argv.length >= 2 && byName.containsKey(argv[1])) {
                console.out().print(byName.get(argv[1]).help());
                return OK;
            }
            if (argv.length >= 2) {
                // A misspelt name would otherwise print the general usage as if that were its help.
                console.err().println("mild: no help for '" + argv[1] + "': not a command. Commands: "
                        + String.join(", ", byName.keySet()) + ". Try ./mild --help.");
                return BAD_INPUT;
            }
            console.out().print(usage());
            return argv.length == 0 ? BAD_INPUT : OK;
        }
        Command command = byName.get(argv[0]);
        if (command == null) {
            console.err().println("mild: unknown command '" + argv[0] + "'. Commands: " + String.join(", ", byName.keySet())
                    + ". Try ./mild --help.");
            return BAD_INPUT;
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        if (Arrays.asList(rest).contains("--help") || Arrays.asList(rest).contains("-h")) {
            console.out().print(command.help());
            return OK;
        }
        try {
            Args args = Args.parse(command.name(), rest, command.valueOptions(), command.flagOptions());
            return command.run(args, console);
        } catch (UsageException e) {
            // Worded like every other error, plus where the options are explained (added here, for every one).
            console.err().println("mild " + command.name() + ": error: " + e.getMessage()
                    + " (see ./mild " + command.name() + " --help)");
            return BAD_INPUT;
        } catch (InvalidInputException e) {
            console.err().println("mild " + command.name() + ": error: " + e.getMessage());
            return BAD_INPUT;
        } catch (OutOfMemoryError e) {
            // Data readers say which file was too large; this is the rest (a large network, many rows in training).
            console.err().println("mild " + command.name() + ": error: out of memory (the Java heap limit is "
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MiB): give Java a larger heap with -Xmx, e.g."
                    + " MILD_JVM_OPTS=-Xmx8g ./mild " + command.name() + " ...");
            printStackTraceIfVerbose(e, console);
            return BAD_INPUT;
        } catch (Exception | StackOverflowError e) {
            console.err().println("mild " + command.name() + ": failed: " + e);
            printStackTraceIfVerbose(e, console);
            return BAD_INPUT;
        }
    }

    private static void printStackTraceIfVerbose(Throwable e, Console console) {
        if (System.getenv("MILD_VERBOSE") != null) {
            e.printStackTrace(console.err());
        }
    }

    static String usage() {
        StringBuilder sb = new StringBuilder();
        sb.append("""
                mild: learning to defer with MILD (Margin-based Imbalanced Learning to Defer).

                A router sends each input to one of several fixed experts (LLMs of different sizes,
                classifiers, people), trading error against cost. MILD trains that router with a
                surrogate loss whose per-expert margins keep it from collapsing onto the expert that
                is best most of the time.

                Usage: ./mild COMMAND [OPTIONS]     (./mild COMMAND --help for details)

                Commands:
                """);
        for (Command c : COMMANDS) {
            sb.append(String.format(Locale.ROOT, "  %-11s %s%n", c.name(), c.summary()));
        }
        // These three belong to the ./mild script, which runs them without the jar; listed so that --help shows all.
        sb.append("""
                  test        (./mild script) build everything and run the whole test suite (mvn verify)
                  bench       (./mild script) build and run the JMH benchmarks (bench/README.md)
                  java-home   (./mild script) print the JDK the script uses

                Exit codes: 0 ok, 1 a check failed, 2 bad usage or bad input.
                Environment: MILD_VERBOSE=1 logs the backend chosen and prints stack traces;
                MILD_JVM_OPTS passes options to Java, e.g. MILD_JVM_OPTS=-Xmx8g for large data files.
                """);
        return sb.toString();
    }

    /** One line per log record on stderr ("mild: warning: ..."); INFO only when verbose. */
    static void configureLogging(boolean verbose) {
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler handler = new ConsoleHandler();
        handler.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                return "mild: " + r.getLevel().getName().toLowerCase(Locale.ROOT) + ": " + formatMessage(r)
                        + System.lineSeparator();
            }
        });
        Level level = verbose ? Level.ALL : Level.WARNING;
        handler.setLevel(level);
        root.setLevel(level);
        root.addHandler(handler);
    }
}
