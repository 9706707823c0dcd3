package io.stipple.api;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.Part;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.catalina.core.ApplicationPart;
import org.apache.tomcat.util.http.fileupload.FileItem;
import org.apache.tomcat.util.http.fileupload.FileUpload;
import org.apache.tomcat.util.http.fileupload.FileUploadException;
import org.apache.tomcat.util.http.fileupload.disk.DiskFileItemFactory;
import org.apache.tomcat.util.http.fileupload.servlet.ServletRequestContext;
import org.springframework.web.multipart.MultipartException;

/**
 * A {@code multipart/form-data} request whose body {@link RequestBodyLimits} has already read, within
 * {@code stipple.limits.max-request-size} and {@code stipple.limits.body-timeout} like any other body. Its
 * parts are parsed from that copy in memory, by the parser Tomcat itself uses, and its text parts are
 * parameters too, as Tomcat makes them. (Tomcat's own parsing would read the connection instead, empty by
 * then.) Parsed on first use, so that only an endpoint that takes a form ever parses one.
 */
final class ReadFormRequest extends HttpServletRequestWrapper {
    private final long maxParts;
    private final int maxPartHeaderBytes;
    private List<FileItem> items;
    private List<Part> parts;
    private Map<String, String[]> parameters;

    ReadFormRequest(HttpServletRequest request, long maxParts, int maxPartHeaderBytes) {
        super(request);
        this.maxParts = maxParts;
        this.maxPartHeaderBytes = maxPartHeaderBytes;
    }

    @Override
    public Collection<Part> getParts() throws IOException, ServletException {
        parse();
        return parts;
    }

    @Override
    public Part getPart(String name) throws IOException, ServletException {
        parse();
        return parts.stream().filter(part -> part.getName().equals(name)).findFirst().orElse(null);
    }

    @Override
    public String getParameter(String name) {
        String[] values = getParameterMap().get(name);
        return values == null ? null : values[0];
    }

    @Override
    public String[] getParameterValues(String name) {
        String[] values = getParameterMap().get(name);
        return values == null ? null : values.clone();
    }

    @Override
    public Enumeration<String> getParameterNames() {
        return Collections.enumeration(getParameterMap().keySet());
    }

    /** The query string's parameters, then the form's text parts. */
    @Override
    public Map<String, String[]> getParameterMap() {
        if (parameters == null) {
            try {
                parse();
            } catch (IOException | ServletException e) {
                throw new MultipartException("Failed to parse multipart servlet request", e);
            }
            Map<String, List<String>> values = new LinkedHashMap<>();
            super.getParameterMap().forEach((name, queried) -> values.computeIfAbsent(name, n -> new ArrayList<>())
                    .addAll(List.of(queried)));
            items.stream().filter(FileItem::isFormField).forEach(item -> values
                    .computeIfAbsent(item.getFieldName(), n -> new ArrayList<>()).add(item.getString()));
            Map<String, String[]> arrays = new LinkedHashMap<>();
            values.forEach((name, texts) -> arrays.put(name, texts.toArray(String[]::new)));
            parameters = Collections.unmodifiableMap(arrays);
        }
        return parameters;
    }

    private void parse() throws IOException, ServletException {
        if (parts != null) {
            return;
        }
        // The whole body is in memory already, and every part is smaller: none goes to a file.
        DiskFileItemFactory memory = new DiskFileItemFactory(Integer.MAX_VALUE, null);
        String encoding = getCharacterEncoding();
        memory.setDefaultCharset(encoding != null ? encoding : StandardCharsets.UTF_8.name());
        FileUpload upload = new FileUpload();
        upload.setFileItemFactory(memory);
        upload.setFileCountMax(maxParts);
        upload.setPartHeaderSizeMax(maxPartHeaderBytes);
        try {
            items = upload.parseRequest(new ServletRequestContext((HttpServletRequest) getRequest()));
        } catch (FileUploadException e) {
            throw new ServletException(e.getMessage(), e);
        }
        File location = (File) getServletContext().getAttribute(ServletContext.TEMPDIR);
        parts = items.stream().<Part>map(item -> new ApplicationPart(item, location)).toList();
    }
}
