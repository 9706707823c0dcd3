package io.stipple.engine;

/** The engine is not taking work (it is shutting down). */
public class NotAcceptingException extends RuntimeException {
    public NotAcceptingException(String message) {
        super(message);
    }
}
