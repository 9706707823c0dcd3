package io.stipple.api.a1111;

import io.stipple.api.InvalidRequestException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * AUTOMATIC1111's sampler and schedule names for Stipple's samplers. Since its version 1.9 A1111 names the
 * schedule apart ({@code "DPM++ 2M"} with {@code scheduler: "Karras"}); older clients send
 * {@code "DPM++ 2M Karras"}; both are understood, as are Stipple's own names and A1111's {@code k_} aliases.
 */
final class A1111Samplers {
    /** A1111's names, as {@code GET /sdapi/v1/samplers} lists them, with their aliases and Stipple's sampler. */
    record Entry(String name, List<String> aliases, String stipple) {
    }

    static final List<Entry> ENTRIES = List.of(
            new Entry("DDIM", List.of("ddim"), "ddim"),
            new Entry("DPM++ 2M", List.of("k_dpmpp_2m", "dpmpp_2m"), "dpmpp_2m"),
            new Entry("DPM++ 2M Karras", List.of("k_dpmpp_2m_ka", "dpmpp_2m_karras"), "dpmpp_2m_karras"),
            new Entry("Euler a", List.of("k_euler_a", "k_euler_ancestral", "euler_a"), "euler_a"),
            new Entry("Euler", List.of("k_euler", "euler"), "euler"),
            new Entry("LCM", List.of("k_lcm", "lcm"), "lcm"));

    /**
     * The samplers with a Karras variant, which A1111's Karras schedule selects. A1111 has no name of its own for
     * Euler's ("Euler" with the Karras schedule), so Stipple's names of the variants are understood as they are.
     */
    private static final Map<String, String> KARRAS = Map.of("dpmpp_2m", "dpmpp_2m_karras", "euler", "euler_karras");

    /**
     * A1111's schedule types that Stipple can honour: its default ("automatic", and "normal", SillyTavern's
     * default, which is the sampler's own spacing too) and Karras noise levels.
     */
    static final List<Map<String, Object>> SCHEDULERS = List.of(
            Map.of("name", "automatic", "label", "Automatic", "default_rho", -1, "need_inner_model", false),
            Map.of("name", "normal", "label", "Normal", "default_rho", -1, "need_inner_model", false),
            Map.of("name", "karras", "label", "Karras", "default_rho", 7.0, "need_inner_model", false));

    private A1111Samplers() {
    }

    /** Stipple's sampler for an A1111 sampler and schedule; null names leave the model's default. */
    static String stipple(String samplerName, String scheduler, String modelDefault) {
        boolean karras = scheduler != null && scheduler.equalsIgnoreCase("karras");
        if (scheduler != null && !karras && !scheduler.equalsIgnoreCase("automatic")
                && !scheduler.equalsIgnoreCase("normal")) {
            throw new InvalidRequestException("scheduler", "unknown scheduler \"" + scheduler
                    + "\"; available: Automatic, Normal, Karras");
        }
        if (samplerName == null) {
            return karras ? KARRAS.getOrDefault(modelDefault, modelDefault) : modelDefault;
        }
        String wanted = samplerName.toLowerCase(Locale.ROOT);
        if (KARRAS.containsValue(wanted)) {
            return wanted;
        }
        for (Entry entry : ENTRIES) {
            if (entry.name().toLowerCase(Locale.ROOT).equals(wanted) || entry.aliases().contains(wanted)) {
                if (karras && KARRAS.containsKey(entry.stipple())) {
                    return KARRAS.get(entry.stipple());
                }
                if (karras && !KARRAS.containsValue(entry.stipple())) {
                    throw new InvalidRequestException("scheduler", "the Karras schedule is available with DPM++ 2M and "
                            + "Euler only, not with \"" + samplerName + "\"");
                }
                return entry.stipple();
            }
        }
        throw new InvalidRequestException("sampler_name", "unknown sampler \"" + samplerName + "\"; available: "
                + String.join(", ", ENTRIES.stream().map(Entry::name).toList()));
    }

    /** A1111's name of a Stipple sampler, and its schedule type, for the infotext. */
    static String[] a1111(String stipple) {
        return switch (stipple) {
            case "dpmpp_2m_karras" -> new String[] {"DPM++ 2M", "Karras"};
            case "dpmpp_2m" -> new String[] {"DPM++ 2M", "Automatic"};
            case "euler_a" -> new String[] {"Euler a", "Automatic"};
            case "euler_karras" -> new String[] {"Euler", "Karras"};
            case "euler" -> new String[] {"Euler", "Automatic"};
            case "lcm" -> new String[] {"LCM", "Automatic"};
            default -> new String[] {"DDIM", "Automatic"};
        };
    }
}
