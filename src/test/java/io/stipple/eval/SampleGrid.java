package io.stipple.eval;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Generated samples side by side, row by row, each scaled up with sharp pixels, with a bar under it:
 * green when the judge found every attribute right, red otherwise (a bar, not a frame, so that it never
 * blends into an image's own colors).
 */
final class SampleGrid {
    static final int SCALE = 2;
    static final int BAR = 4;
    static final int BAR_GAP = 2;
    static final int GAP = 6;
    private static final Color RIGHT = new Color(0x2e, 0xa0, 0x43);
    private static final Color WRONG = new Color(0xd0, 0x30, 0x30);

    private SampleGrid() {
    }

    static BufferedImage render(List<ShapeEvaluator.Sample> samples, int columns) {
        int rows = (samples.size() + columns - 1) / columns;
        int tileWidth = samples.get(0).image().getWidth() * SCALE;
        int tileHeight = samples.get(0).image().getHeight() * SCALE;
        int cellWidth = tileWidth + GAP;
        int cellHeight = tileHeight + BAR_GAP + BAR + GAP;
        BufferedImage grid = new BufferedImage(columns * cellWidth + GAP, rows * cellHeight + GAP,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = grid.createGraphics();
        try {
            graphics.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            graphics.setColor(Color.WHITE);
            graphics.fillRect(0, 0, grid.getWidth(), grid.getHeight());
            for (int i = 0; i < samples.size(); i++) {
                ShapeEvaluator.Sample sample = samples.get(i);
                int x = GAP + (i % columns) * cellWidth;
                int y = GAP + (i / columns) * cellHeight;
                graphics.drawImage(sample.image(), x, y, tileWidth, tileHeight, null);
                graphics.setColor(sample.verdict().allRight() ? RIGHT : WRONG);
                graphics.fillRect(x, y + tileHeight + BAR_GAP, tileWidth, BAR);
            }
        } finally {
            graphics.dispose();
        }
        return grid;
    }
}
