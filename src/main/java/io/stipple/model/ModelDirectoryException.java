package io.stipple.model;

/** A pipeline directory that cannot be served; the message names the file and what is wrong with it. */
public class ModelDirectoryException extends RuntimeException {
    public ModelDirectoryException(String message) {
        super(message);
    }

    public ModelDirectoryException(String message, Throwable cause) {
        super(message, cause);
    }
}
