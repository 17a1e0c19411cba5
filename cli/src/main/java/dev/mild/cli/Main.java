package dev.mild.cli;

import dev.mild.InvalidInputException;
import dev.mild.io.OutputFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
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

    /** The commands the ./mild script runs itself, without the jar; listed with the jar's wherever commands are. */
    private static final List<String> SCRIPT_COMMANDS = List.of("test", "bench", "java-home");

    private Main() {
    }

    /**
     * Every command, the script's included: "./mild tset" listed only the jar's, as if there were no test command.
     */
    private static String commandList(Map<String, Command> byName) {
        List<String> all = new ArrayList<>(byName.keySet());
        all.addAll(SCRIPT_COMMANDS);
        return String.join(", ", all);
    }

    /** What the jar says when asked to run (or to explain) a command only the ./mild script has. */
    private static String scriptCommand(String name, String helpOption) {
        return "mild: '" + name + "' is a command of the ./mild script, not of this jar: run ./mild " + name + helpOption;
    }

    public static void main(String[] argv) {
        configureLogging(verbose());
        int code = run(argv, Console.system());
        System.out.flush();
        System.exit(code);
    }

    /**
     * Runs one command line; never exits the JVM (tests call this). Whatever the command, its standard output is
     * checked at the end: a PrintStream keeps write errors to itself, and a report lost to a full disk or a closed
     * descriptor must not pass for success.
     */
    public static int run(String[] argv, Console console) {
        StdoutFailure.reset();
        Map<String, Command> byName = new LinkedHashMap<>();
        for (Command c : COMMANDS) {
            byName.put(c.name(), c);
        }
        if (argv.length == 0 || argv[0].equals("--help") || argv[0].equals("-h") || argv[0].equals("help")) {
            if (argv.length >= 2 && byName.containsKey(argv[1])) {
                console.out().print(byName.get(argv[1]).help());
                return outputChecked("mild", OK, console);
            }
            if (argv.length >= 2 && SCRIPT_COMMANDS.contains(argv[1])) {
                console.err().println(scriptCommand(argv[1], " --help"));
                return BAD_INPUT;
            }
            if (argv.length >= 2) {
                // A misspelt name would otherwise print the general usage as if that were its help.
                console.err().println("mild: no help for '" + argv[1] + "': not a command. Commands: "
                        + commandList(byName) + ". Try ./mild --help.");
                return BAD_INPUT;
            }
            console.out().print(usage());
            return outputChecked("mild", argv.length == 0 ? BAD_INPUT : OK, console);
        }
        Command command = byName.get(argv[0]);
        if (command == null && SCRIPT_COMMANDS.contains(argv[0])) {
            // Only the jar run by itself gets here: ./mild runs these without it.
            console.err().println(scriptCommand(argv[0], ""));
            return BAD_INPUT;
        }
        if (command == null) {
            console.err().println("mild: unknown command '" + oneLine(argv[0]) + "'. Commands: " + commandList(byName)
                    + ". Try ./mild --help.");
            return BAD_INPUT;
        }
        String[] rest = Arrays.copyOfRange(argv, 1, argv.length);
        String prefix = "mild " + command.name();
        List<String> options = Args.optionPart(Arrays.asList(rest));
        if (options.contains("--help") || options.contains("-h")) {
            console.out().print(command.help());
            return outputChecked(prefix, OK, console);
        }
        int code;
        try {
            Args args = Args.parse(command.name(), rest, command.valueOptions(), command.flagOptions());
            code = command.run(args, console);
        } catch (StdoutFailure e) {
            // Thrown by a command that stops writing at once (route); not reported twice below.
            if (StdoutFailure.readerGone()) {
                return OK;
            }
            console.err().println(prefix + ": error: " + e.getMessage());
            return BAD_INPUT;
        } catch (UsageException e) {
            // Worded like every other error, plus where the options are explained (added here, for every one).
            console.err().println(prefix + ": error: " + oneLine(e.getMessage())
                    + (e.pointsToHelp() ? "" : " (see ./mild " + command.name() + " --help)"));
            code = BAD_INPUT;
        } catch (InvalidInputException e) {
            console.err().println(prefix + ": error: " + oneLine(e.getMessage()));
            code = BAD_INPUT;
        } catch (IOException | UncheckedIOException e) {
            // Reading or writing failed somewhere no reader named the file: the system's reason, not Java's class.
            IOException io = e instanceof UncheckedIOException u ? u.getCause() : (IOException) e;
            console.err().println(prefix + ": error: cannot read or write: " + ioReason(io));
            printStackTraceIfVerbose(e, console);
            code = BAD_INPUT;
        } catch (OutOfMemoryError e) {
            // Data readers say which file was too large; this is the rest (a large network, many rows in training).
            console.err().println(prefix + ": error: out of memory (the Java heap limit is "
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MiB): give Java a larger heap with -Xmx, e.g."
                    + " MILD_JVM_OPTS=-Xmx8g ./mild " + command.name() + " ...");
            printStackTraceIfVerbose(e, console);
            code = BAD_INPUT;
        } catch (Exception | StackOverflowError e) {
            console.err().println(prefix + ": failed: " + e);
            printStackTraceIfVerbose(e, console);
            code = BAD_INPUT;
        }
        return outputChecked(prefix, code, console);
    }

    /**
     * {@code code}, or {@link #BAD_INPUT} with the reason on stderr when anything written to stdout was lost.
     *
     * @param prefix how the error line starts ("mild route")
     */
    private static int outputChecked(String prefix, int code, Console console) {
        if (console.out().checkError()) {   // flushes first
            if (StdoutFailure.readerGone()) {
                return code; // the reader had what it wanted (| head): the command's own result stands
            }
            console.err().println(prefix + ": error: " + StdoutFailure.MESSAGE);
            return BAD_INPUT;
        }
        return code;
    }

    /** Why an I/O operation failed, in the system's words ("is a directory"), never Java's exception class. */
    static String ioReason(IOException e) {
        String reason = e.getMessage() == null ? null : OutputFile.reason(e);
        if (reason == null || reason.isBlank()) {
            return "input/output error";
        }
        return Character.toLowerCase(reason.charAt(0)) + reason.substring(1);
    }

    /**
     * A bad-input message as one line: the values it quotes are the user's, and a newline or another control
     * character in one (an option value pasted with its line break) split the error over lines or hid part of it.
     * Each is shown as Java source escapes it (backslash-n for a newline, backslash-u and four hex digits for the
     * rarer ones), so the message stays on the line its prefix starts.
     */
    static String oneLine(String message) {
        StringBuilder sb = null;
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            if (!Character.isISOControl(c)) {
                if (sb != null) {
                    sb.append(c);
                }
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder(message.length() + 8).append(message, 0, i);
            }
            switch (c) {
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            }
        }
        return abbreviateLongWords(sb == null ? message : sb.toString());
    }

    /** Words (runs without a space) longer than this are shown cut in a message; far longer than any path here. */
    static final int LONG_WORD = 1000;

    /**
     * The message with each word longer than {@link #LONG_WORD} cut to its start and end around the count of what was
     * left out: a value pasted by mistake (a whole file given as --rho) was echoed whole, 128 KB on one line.
     */
    private static String abbreviateLongWords(String message) {
        if (message.length() <= LONG_WORD) {
            return message;
        }
        StringBuilder sb = new StringBuilder();
        int start = 0;
        while (start < message.length()) {
            int end = message.indexOf(' ', start);
            end = end < 0 ? message.length() : end;
            if (end - start > LONG_WORD) {
                int head = Character.isHighSurrogate(message.charAt(start + 199)) ? 199 : 200; // whole characters
                int tail = Character.isLowSurrogate(message.charAt(end - 40)) ? 39 : 40;
                sb.append(message, start, start + head).append("[... ")
                        .append(String.format(Locale.ROOT, "%,d", end - start - head - tail))
                        .append(" more characters ...]").append(message, end - tail, end);
            } else {
                sb.append(message, start, end);
            }
            if (end < message.length()) {
                sb.append(' ');
            }
            start = end + 1;
        }
        return sb.toString();
    }

    /**
     * Whether MILD_VERBOSE asks for the backend log and stack traces: any value but empty, 0, false, no or off (it
     * was any value at all, so MILD_VERBOSE=0 turned it on).
     */
    static boolean verbose() {
        String v = System.getenv("MILD_VERBOSE");
        return v != null && !Set.of("", "0", "false", "no", "off").contains(v.trim().toLowerCase(Locale.ROOT));
    }

    private static void printStackTraceIfVerbose(Throwable e, Console console) {
        if (verbose()) {
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

                Exit codes: 0 ok, 1 a check failed, 2 bad usage or bad input (or an output that
                cannot be written, such as a full disk or a closed standard output).
                Environment: MILD_VERBOSE=1 (any value but 0, false, no or off) logs the backend
                chosen and prints stack traces;
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
