package dev.mild;

import java.lang.reflect.Array;
import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.Iterator;

/**
 * {@code toString} for the public records that hold arrays or lists. A record's own prints an array as its
 * identity ({@code [F@1b2c3d}), and a list in full: a data set's 784 feature names, or, were arrays printed
 * in full, its megabytes of features. Here a record reads as by default, {@code Name[component=value, ...]},
 * except that an array shows its type, its length and its first {@value #SHOWN} values
 * ({@code float[60000] {0.5, 1.25, ...}}), and a collection its first {@value #SHOWN} items and, when it has more,
 * its size.
 */
public final class RecordText {
    /** Values of an array, or items of a collection, shown before "...". */
    public static final int SHOWN = 8;

    private RecordText() {
    }

    /**
     * {@code Name[component=value, ...]} with arrays and collections shortened.
     *
     * @param r the record
     * @return its simple class name and components, each as {@link #value} writes it ({@code ?} for a component
     *         whose accessor cannot be called)
     */
    public static String of(Record r) {
        StringBuilder sb = new StringBuilder(r.getClass().getSimpleName()).append('[');
        RecordComponent[] components = r.getClass().getRecordComponents();
        for (int i = 0; i < components.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(components[i].getName()).append('=');
            try {
                sb.append(value(components[i].getAccessor().invoke(r)));
            } catch (ReflectiveOperationException e) {
                sb.append('?');   // an accessor this class may not call; toString must not fail
            }
        }
        return sb.append(']').toString();
    }

    /**
     * One value: an array or a collection shortened as above (their elements likewise), anything else by its own
     * {@code toString}.
     *
     * @param v the value, or null
     * @return its text; {@code "null"} for null
     */
    public static String value(Object v) {
        if (v != null && v.getClass().isArray()) {
            int n = Array.getLength(v);
            String type = v.getClass().getComponentType().getSimpleName();   // "float", or "float[]" for float[][]
            int inner = type.indexOf('[');
            String shape = inner < 0 ? type + "[" + n + "]" : type.substring(0, inner) + "[" + n + "]"
                    + type.substring(inner);
            StringBuilder sb = new StringBuilder(shape).append(" {");
            for (int i = 0; i < Math.min(n, SHOWN); i++) {
                sb.append(i == 0 ? "" : ", ").append(value(Array.get(v, i)));
            }
            return sb.append(n > SHOWN ? ", ...}" : "}").toString();
        }
        if (v instanceof Collection<?> c) {
            StringBuilder sb = new StringBuilder("[");
            Iterator<?> it = c.iterator();
            for (int i = 0; i < SHOWN && it.hasNext(); i++) {
                sb.append(i == 0 ? "" : ", ").append(value(it.next()));
            }
            return sb.append(c.size() > SHOWN ? ", ... (" + c.size() + " in all)]" : "]").toString();
        }
        return String.valueOf(v);
    }
}
