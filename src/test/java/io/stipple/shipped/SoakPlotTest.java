package io.stipple.shipped;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.stipple.shipped.SoakSample.Series;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.NodeList;

/** The soak's arithmetic and its plot, on made-up samples: the soak itself runs for a quarter of an hour. */
class SoakPlotTest {
    /** 40 samples, 10 s apart; RSS climbs 1 MiB a sample from 500, the rest stay put. */
    private static final List<SoakSample> CLIMBING_RSS = IntStream.range(0, 40)
            .mapToObj(i -> new SoakSample(i * 10.0, i * 25, 500 + i, 30, 40, 515)).toList();

    @Test
    void driftComparesTheMediansOfTheFirstAndLastTenth() {
        List<SoakSample> steady = CLIMBING_RSS.subList(8, 40);
        SoakDrift rss = SoakDrift.of(Series.RSS, steady);
        assertEquals(509, rss.start(), "median of samples 8, 9, 10");
        assertEquals(538, rss.end(), "median of samples 37, 38, 39");
        assertEquals(29.0 / 509 * 100, rss.percent(), 1e-9);
        assertEquals(0, SoakDrift.of(Series.NDARRAYS, steady).percent());
    }

    @Test
    void driftNeedsEnoughSamplesToCompare() {
        assertThrows(AssertionError.class, () -> SoakDrift.of(Series.RSS, CLIMBING_RSS.subList(0, 5)));
    }

    @Test
    void plotIsAnSvgWithOneLineOfEverySampleForEachSeries() throws Exception {
        Map<Series, SoakDrift> drifts = new EnumMap<>(Series.class);
        for (Series series : Series.values()) {
            drifts.put(series, SoakDrift.of(series, CLIMBING_RSS.subList(8, 40)));
        }
        String svg = SoakPlot.svg("A <made-up> soak & its plot", CLIMBING_RSS, 80, drifts, 0.05);

        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        Document document = factory.newDocumentBuilder()
                .parse(new ByteArrayInputStream(svg.getBytes(StandardCharsets.UTF_8)));
        assertEquals("svg", document.getDocumentElement().getLocalName());
        NodeList lines = document.getElementsByTagName("polyline");
        assertEquals(Series.values().length, lines.getLength());
        for (int i = 0; i < lines.getLength(); i++) {
            String points = lines.item(i).getAttributes().getNamedItem("points").getNodeValue();
            assertEquals(CLIMBING_RSS.size(), points.split(" ").length);
        }
        assertTrue(document.getDocumentElement().getTextContent().contains("A <made-up> soak & its plot"));
    }
}
