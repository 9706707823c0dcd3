package io.stipple.sampling;

import java.util.List;

/** The samplers a pipeline offers, by their API names, all built on the pipeline's one noise schedule. */
public final class SamplerCatalog {
    public static final List<String> NAMES = List.of("ddim", "dpmpp_2m", "dpmpp_2m_karras", "euler_a");

    private final SchedulerConfig config;
    private final NoiseSchedule schedule;

    public SamplerCatalog(SchedulerConfig config) {
        config.validate();
        this.config = config;
        this.schedule = new NoiseSchedule(config);
    }

    public boolean offers(String name) {
        return NAMES.contains(name);
    }

    /** {@code eta} only affects {@code ddim}: 0 is deterministic DDIM, 1 is DDPM-like ancestral sampling. */
    public Sampler create(String name, double eta) {
        return switch (name) {
            case "ddim" -> new Ddim(schedule, config, eta);
            case "dpmpp_2m" -> new DpmSolverMultistep(schedule, config, false);
            case "dpmpp_2m_karras" -> new DpmSolverMultistep(schedule, config, true);
            case "euler_a" -> new EulerAncestral(schedule, config);
            default -> throw new IllegalArgumentException("unknown sampler \"" + name + "\"; available: " + NAMES);
        };
    }

    public int trainTimesteps() {
        return schedule.trainTimesteps();
    }
}
