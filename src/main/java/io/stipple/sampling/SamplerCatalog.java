package io.stipple.sampling;

import java.util.List;

/** The samplers a pipeline offers, by their API names, built on the pipeline's one noise schedule (LCM on its own). */
public final class SamplerCatalog {
    public static final List<String> NAMES = List.of("ddim", "dpmpp_2m", "dpmpp_2m_karras", "euler", "euler_karras",
            "euler_a", "lcm");

    private final SchedulerConfig config;
    private final NoiseSchedule schedule;
    /** With a schedule of its own (the betas a file leaves out are LCM's); stateless like the others, so built once. */
    private final Lcm lcm;

    public SamplerCatalog(SchedulerConfig config) {
        config.validate();
        this.config = config;
        this.schedule = new NoiseSchedule(config);
        this.lcm = new Lcm(config);
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
            case "euler" -> new EulerDiscrete(schedule, config, false);
            case "euler_karras" -> new EulerDiscrete(schedule, config, true);
            case "euler_a" -> new EulerAncestral(schedule, config);
            case "lcm" -> lcm;
            default -> throw new IllegalArgumentException("unknown sampler \"" + name + "\"; available: " + NAMES);
        };
    }

    public int trainTimesteps() {
        return schedule.trainTimesteps();
    }

    /** The most steps worth asking {@code name} for ({@link Sampler#maxSteps}). */
    public int maxSteps(String name) {
        return create(name, 0).maxSteps(trainTimesteps());
    }
}
