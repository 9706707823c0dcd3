package io.stipple.engine;

/** A job the executor could not go on with, why (in words for its client), and the exception behind it. */
record JobError(String jobId, JobFailure failure, Throwable cause) {
}
