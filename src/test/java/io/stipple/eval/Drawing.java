package io.stipple.eval;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;

/** Hand-made 64×64 test images, antialiased like the dataset's. */
final class Drawing {
    static final int SIZE = 64;

    private final BufferedImage image = new BufferedImage(SIZE, SIZE, BufferedImage.TYPE_INT_RGB);
    private final Graphics2D graphics = image.createGraphics();

    Drawing(int background) {
        graphics.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        graphics.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        fill(background, new Rectangle2D.Double(0, 0, SIZE, SIZE));
    }

    static Shape circle(double centerX, double centerY, double side) {
        return new Ellipse2D.Double(centerX - side / 2, centerY - side / 2, side, side);
    }

    static Shape square(double centerX, double centerY, double side) {
        return new Rectangle2D.Double(centerX - side / 2, centerY - side / 2, side, side);
    }

    /** Apex up when flipped is false, as the dataset draws it. */
    static Shape triangle(double centerX, double centerY, double side, boolean flipped) {
        double tip = flipped ? centerY + side / 2 : centerY - side / 2;
        double base = flipped ? centerY - side / 2 : centerY + side / 2;
        Path2D.Double path = new Path2D.Double();
        path.moveTo(centerX, tip);
        path.lineTo(centerX + side / 2, base);
        path.lineTo(centerX - side / 2, base);
        path.closePath();
        return path;
    }

    Drawing fill(int rgb, Shape shape) {
        graphics.setColor(new Color(rgb));
        graphics.fill(shape);
        return this;
    }

    BufferedImage image() {
        return image;
    }
}
