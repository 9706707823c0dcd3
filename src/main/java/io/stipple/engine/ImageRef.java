package io.stipple.engine;

/** One image of a running job, by the job's id and the image's place in its request. */
record ImageRef(String jobId, int index) {
}
