package io.stipple.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** Tests on real NDArrays: each test gets a fresh manager, closed afterwards so nothing leaks between tests. */
abstract class NdArrayTest {
    protected NDManager manager;

    @BeforeEach
    void openManager() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void closeManager() {
        manager.close();
    }

    /** A one-element array: the hand-derived tests follow one value through a step. */
    protected NDArray scalar(double value) {
        return manager.create(new float[] {(float) value});
    }

    protected static void assertValue(double expected, NDArray actual) {
        assertEquals(expected, actual.toFloatArray()[0], 1e-5);
    }
}
