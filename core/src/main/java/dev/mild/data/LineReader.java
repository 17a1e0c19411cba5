package dev.mild.data;

import dev.mild.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 text line by line, as {@link java.io.BufferedReader#readLine} reads it (a line ends at {@code \n},
 * {@code \r} or {@code \r\n}), but a line longer than {@link #MAX_LINE_CHARS} is an error, found once that many
 * characters are held: text without newlines (a file joined into one line, {@code yes 1, | tr -d '\n'}) was read
 * into one string until the heap ran out. Binary data is refused earlier, by its NUL bytes.
 */
public final class LineReader {
    /**
     * The longest line read: 64 Mi characters. A Fashion-MNIST row (784 pixels of about 10 characters) is 8 Ki,
     * a header of 100,000 cost columns about 1 Mi.
     */
    public static final int MAX_LINE_CHARS = 1 << 26;

    private final Reader in;
    private final String source;
    private final char[] buf = new char[1 << 16];
    private int pos;
    private int end;
    private boolean skipLineFeed;   // the last line ended at \r: a \n right after it belongs to that line end
    private int lineNumber;

    /**
     * A reader of {@code in}'s bytes as UTF-8 (malformed bytes read as U+FFFD). Nothing is read yet; closing
     * {@code in} is the caller's.
     *
     * @param in     the bytes
     * @param source names the text in messages (a file name, "stdin")
     */
    public LineReader(InputStream in, String source) {
        this.in = new InputStreamReader(in, StandardCharsets.UTF_8);
        this.source = source;
    }

    /**
     * The next line.
     *
     * @return the line without its line end, or null at the end of the text
     * @throws IOException           if reading the stream fails
     * @throws InvalidInputException naming the source and the line when it is longer than {@link #MAX_LINE_CHARS}
     */
    public String readLine() throws IOException {
        StringBuilder line = null;   // the part before the buffer, for a line that spans refills
        while (true) {
            if (pos == end) {
                int n = in.read(buf, 0, buf.length);
                if (n < 0) {
                    if (line == null) {
                        return null;
                    }
                    lineNumber++;
                    return line.toString();
                }
                pos = 0;
                end = n;
            }
            if (skipLineFeed) {
                skipLineFeed = false;
                if (buf[pos] == '\n') {
                    pos++;
                    continue;
                }
            }
            int start = pos;
            while (pos < end && buf[pos] != '\n' && buf[pos] != '\r') {
                pos++;
            }
            int length = pos - start;
            if ((line == null ? 0 : line.length()) + length > MAX_LINE_CHARS) {
                throw new InvalidInputException(source + ", line " + (lineNumber + 1) + ": the line is longer than "
                        + MAX_LINE_CHARS + " characters: is this a CSV file with one row per line?");
            }
            if (pos < end) {
                String text = line == null ? new String(buf, start, length) : line.append(buf, start, length).toString();
                skipLineFeed = buf[pos] == '\r';
                pos++;
                lineNumber++;
                return text;
            }
            if (line == null) {
                line = new StringBuilder();
            }
            line.append(buf, start, length);
        }
    }

    /**
     * The number of the line {@link #readLine} returned last.
     *
     * @return the line number, 1-based; 0 before the first line is read
     */
    public int lineNumber() {
        return lineNumber;
    }

    /**
     * Whether more text can be read without waiting for input (as {@link java.io.BufferedReader#ready}), not
     * counting the {@code \n} of a {@code \r\n} whose {@code \r} ended the last line: with that {@code \n} alone
     * waiting in the stream (the two split between reads), this said true, and {@code route} waited for the next
     * line without answering the last one.
     *
     * @return {@code true} when characters other than that line feed are buffered, or can be read from the stream
     *         without waiting (at the end of the stream, also true: {@link #readLine} returns at once)
     * @throws IOException if reading or asking the stream fails
     */
    public boolean ready() throws IOException {
        while (true) {
            if (pos == end) {
                if (!in.ready()) {
                    return false;
                }
                int n = in.read(buf, 0, buf.length);   // does not wait: the stream said a character is there
                if (n < 0) {
                    return true;
                }
                pos = 0;
                end = n;
            }
            if (!skipLineFeed) {
                return true;
            }
            skipLineFeed = false;
            if (buf[pos] != '\n') {
                return true;
            }
            pos++;
        }
    }
}
