package io.stipple.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * numpy's {@code .npz} (a zip of {@code .npy} files), for the reference outputs the Python side writes:
 * little-endian float32 and int64 arrays in C order, which is all the references use.
 */
public final class Npz {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']+)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    /** One array: its shape and its values (int64 arrays are held as floats only when asked). */
    public record Array(long[] shape, String dtype, ByteBuffer data) {
        public float[] floats() {
            if (!dtype.equals("<f4")) {
                throw new IllegalStateException("not float32: " + dtype);
            }
            float[] values = new float[data.remaining() / 4];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            return values;
        }

        public long[] longs() {
            if (!dtype.equals("<i8")) {
                throw new IllegalStateException("not int64: " + dtype);
            }
            long[] values = new long[data.remaining() / 8];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(values);
            return values;
        }
    }

    private final Map<String, Array> arrays;

    private Npz(Map<String, Array> arrays) {
        this.arrays = arrays;
    }

    public static Npz read(Path file) {
        Map<String, Array> arrays = new HashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry entry : zip.stream().toList()) {
                byte[] bytes = zip.getInputStream(entry).readAllBytes();
                arrays.put(entry.getName().replaceFirst("\\.npy$", ""), npy(bytes, entry.getName()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Npz(arrays);
    }

    private static Array npy(byte[] bytes, String name) {
        if (bytes[0] != (byte) 0x93 || !new String(bytes, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw new IllegalArgumentException(name + " is not a .npy file");
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int major = bytes[6];
        int headerLength = major == 1 ? Short.toUnsignedInt(buffer.getShort(8)) : buffer.getInt(8);
        int headerStart = major == 1 ? 10 : 12;
        String header = new String(bytes, headerStart, headerLength, StandardCharsets.US_ASCII);
        if (header.contains("'fortran_order': True")) {
            throw new IllegalArgumentException(name + " is in Fortran order");
        }
        Matcher descr = DESCR.matcher(header);
        Matcher shape = SHAPE.matcher(header);
        if (!descr.find() || !shape.find()) {
            throw new IllegalArgumentException(name + ": unreadable header " + header);
        }
        long[] dims = Arrays.stream(shape.group(1).split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .mapToLong(Long::parseLong).toArray();
        int start = headerStart + headerLength;
        return new Array(dims, descr.group(1), ByteBuffer.wrap(bytes, start, bytes.length - start).slice());
    }

    public Array get(String name) {
        Array array = arrays.get(name);
        if (array == null) {
            throw new IllegalArgumentException("no array " + name + " among " + arrays.keySet());
        }
        return array;
    }

    public boolean has(String name) {
        return arrays.containsKey(name);
    }

    public Set<String> names() {
        return Set.copyOf(arrays.keySet());
    }
}
