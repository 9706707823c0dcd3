package io.stipple.shipped;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A plain TCP connection to the server: the test writes whatever bytes it likes, HTTP or not. */
final class RawConnection implements AutoCloseable {
    private final Socket socket;
    /** Everything received so far: an answer read while waiting is kept for the next wait. */
    private final ByteArrayOutputStream received = new ByteArrayOutputStream();

    private RawConnection(Socket socket) {
        this.socket = socket;
    }

    /** {@code receiveBuffer} > 0 shrinks the client's receive buffer, so that a client that never reads stalls the server's writes sooner. */
    static RawConnection open(int port, int receiveBuffer) {
        try {
            Socket socket = new Socket();
            if (receiveBuffer > 0) {
                socket.setReceiveBufferSize(receiveBuffer);
            }
            socket.connect(new InetSocketAddress("localhost", port), 5_000);
            return new RawConnection(socket);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static RawConnection open(int port) {
        return open(port, 0);
    }

    /** Sends the text as ISO-8859-1 bytes; false when the server has closed the connection. */
    boolean send(String text) {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    boolean send(byte[] bytes) {
        try {
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
            return true;
        } catch (IOException closedByServer) {
            return false;
        }
    }

    /** All the server has sent once it closes the connection, or null if it is still open after {@code patience}. */
    String readUntilClosed(Duration patience) {
        long deadline = System.nanoTime() + patience.toNanos();
        byte[] buffer = new byte[8192];
        try {
            InputStream in = socket.getInputStream();
            while (true) {
                long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
                socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException stillOpen) {
                    return null;
                }
                if (n < 0) {
                    return received.toString(StandardCharsets.ISO_8859_1);
                }
                received.write(buffer, 0, n);
            }
        } catch (IOException reset) {
            return received.toString(StandardCharsets.ISO_8859_1);
        }
    }

    /** The status code of an HTTP answer, or 0 when there was none (the server just closed). */
    static int status(String answer) {
        if (answer == null || !answer.startsWith("HTTP/1.1 ") || answer.length() < 12) {
            return 0;
        }
        return Integer.parseInt(answer.substring(9, 12));
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException alreadyGone) {
            // Nothing to release.
        }
    }
}
