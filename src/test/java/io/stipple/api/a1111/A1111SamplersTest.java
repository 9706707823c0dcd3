package io.stipple.api.a1111;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.api.InvalidRequestException;
import org.junit.jupiter.api.Test;

/** A1111's sampler and schedule names, as its clients send them, to Stipple's samplers and back. */
class A1111SamplersTest {

    @Test
    void eulerAndItsAliasesAreStipplesEuler() {
        for (String name : new String[] {"Euler", "euler", "k_euler"}) {
            assertEquals("euler", A1111Samplers.stipple(name, null, "ddim"), name);
            assertEquals("euler", A1111Samplers.stipple(name, "Automatic", "ddim"), name);
            assertEquals("euler", A1111Samplers.stipple(name, "normal", "ddim"), name);
        }
        // "Euler a" stays the ancestral sampler: the names differ by the suffix only
        assertEquals("euler_a", A1111Samplers.stipple("Euler a", null, "ddim"));
        assertEquals("euler_a", A1111Samplers.stipple("k_euler_a", null, "ddim"));
    }

    @Test
    void theKarrasScheduleSelectsTheKarrasVariant() {
        assertEquals("euler_karras", A1111Samplers.stipple("Euler", "Karras", "ddim"));
        assertEquals("euler_karras", A1111Samplers.stipple("k_euler", "karras", "ddim"));
        assertEquals("dpmpp_2m_karras", A1111Samplers.stipple("DPM++ 2M", "Karras", "ddim"));
        assertEquals("dpmpp_2m_karras", A1111Samplers.stipple("DPM++ 2M Karras", "Karras", "ddim"));
        // no sampler named: the model's default, in its Karras variant where it has one
        assertEquals("euler_karras", A1111Samplers.stipple(null, "Karras", "euler"));
        assertEquals("dpmpp_2m_karras", A1111Samplers.stipple(null, "Karras", "dpmpp_2m"));
        assertEquals("euler", A1111Samplers.stipple(null, "Automatic", "euler"));
    }

    @Test
    void stipplesOwnNamesOfTheKarrasVariantsAreUnderstood() {
        assertEquals("euler_karras", A1111Samplers.stipple("euler_karras", null, "ddim"));
        assertEquals("euler_karras", A1111Samplers.stipple("euler_karras", "Karras", "ddim"));
        assertEquals("dpmpp_2m_karras", A1111Samplers.stipple("dpmpp_2m_karras", null, "ddim"));
    }

    @Test
    void karrasWithASamplerThatHasNoKarrasVariantIsRefused() {
        InvalidRequestException refused = assertThrows(InvalidRequestException.class,
                () -> A1111Samplers.stipple("Euler a", "Karras", "ddim"));
        assertTrue(refused.getMessage().contains("available with DPM++ 2M and Euler only, not with \"Euler a\""),
                refused.getMessage());
    }

    @Test
    void theInfotextNamesEulerAndItsSchedule() {
        assertArrayEquals(new String[] {"Euler", "Automatic"}, A1111Samplers.a1111("euler"));
        assertArrayEquals(new String[] {"Euler", "Karras"}, A1111Samplers.a1111("euler_karras"));
        assertArrayEquals(new String[] {"Euler a", "Automatic"}, A1111Samplers.a1111("euler_a"));
    }
}
