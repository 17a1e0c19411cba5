package dev.mild.io;

import dev.mild.InvalidInputException;

/** The comma-separated values of an option, such as {@code --rho 0.5,1.5} or {@code --blocks 7,2,1}. */
public final class CommaList {
    private CommaList() {
    }

    /**
     * The items of option {@code --option}'s {@code value}, trimmed. An empty item is an error: String.split would
     * drop a trailing one silently ({@code --blocks 7,2,1,}), and a doubled comma is a typo either way.
     *
     * @param option the option's name without the leading dashes, for the message
     * @param value  the option's value
     * @return the items, in order, at least one
     * @throws InvalidInputException naming the option and the item if an item is empty or blank
     */
    public static String[] items(String option, String value) {
        String[] parts = value.split(",", -1);
        for (int i = 0; i < parts.length; i++) {
            parts[i] = parts[i].trim();
            if (parts[i].isEmpty()) {
                throw new InvalidInputException("--" + option + " \"" + value + "\": item " + (i + 1) + " of "
                        + parts.length + " is empty (a leading, trailing or doubled comma?); separate the values by"
                        + " single commas");
            }
        }
        return parts;
    }
}
