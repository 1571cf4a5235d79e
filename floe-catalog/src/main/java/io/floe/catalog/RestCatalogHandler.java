package io.floe.catalog;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.floe.core.FloeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.BadRequestException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.exceptions.NamespaceNotEmptyException;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.NoSuchViewException;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.exceptions.UnprocessableEntityException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.rest.RESTCatalogProperties;
import org.apache.iceberg.rest.RESTResponse;
import org.apache.iceberg.rest.RESTUtil;
import org.apache.iceberg.rest.auth.OAuth2Properties;
import org.apache.iceberg.rest.auth.OAuth2Util;
import org.apache.iceberg.rest.requests.CommitTransactionRequest;
import org.apache.iceberg.rest.requests.CreateViewRequest;
import org.apache.iceberg.rest.requests.RegisterTableRequest;
import org.apache.iceberg.rest.requests.RegisterViewRequest;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.rest.responses.ErrorResponse;
import org.apache.iceberg.rest.responses.ErrorResponseParser;
import org.apache.iceberg.rest.responses.OAuthTokenResponse;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the Iceberg REST catalog over HTTP: {@code POST /v1/oauth/tokens} issues tokens for client
 * credentials; every other request needs {@code Authorization: Bearer <token>} (unless anonymous
 * access is on), is matched to one of the {@link CatalogRoutes}, and is answered with the spec's
 * JSON, or with its error model ({@code {"error": {"message", "type", "code"}}}) and the status the
 * spec gives the failure. Stack traces never leave the server: an unexpected failure is logged with
 * an id that the response names.
 */
final class RestCatalogHandler extends Handler.Abstract {
  private static final Logger LOG = LoggerFactory.getLogger(RestCatalogHandler.class);
  private static final String TOKENS_PATH = "/v1/oauth/tokens";
  private static final String CONFIG_PATH = "/v1/config";

  /** Largest request body: commits carry schemas and updates, never data. */
  static final int MAX_BODY_BYTES = 8 << 20;

  private final CatalogRoutes routes;
  private final Principals principals;
  private final Tokens tokens;
  private final boolean anonymousAccess;
  private final ObjectMapper mapper = CatalogRoutes.mapper();

  RestCatalogHandler(
      CatalogRoutes routes, Principals principals, Tokens tokens, boolean anonymousAccess) {
    super(InvocationType.BLOCKING);
    this.routes = requireNonNull(routes, "routes is null");
    this.principals = requireNonNull(principals, "principals is null");
    this.tokens = requireNonNull(tokens, "tokens is null");
    this.anonymousAccess = anonymousAccess;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) {
    String method = request.getMethod();
    String rawPath = request.getHttpURI().getPath();
    String path =
        rawPath.length() > 1 && rawPath.endsWith("/")
            ? rawPath.substring(0, rawPath.length() - 1)
            : rawPath;
    try {
      if (path.equals(TOKENS_PATH)) {
        requireMethod(method, "POST");
        token(request, response, callback);
        return true;
      }
      Principal principal = authenticate(request);
      Fields parameters = Request.extractQueryParameters(request, StandardCharsets.UTF_8);
      if (path.equals(CONFIG_PATH)) {
        requireMethod(method, "GET");
        send(
            response,
            callback,
            200,
            routes.config(principal, Optional.ofNullable(parameters.getValue("warehouse"))));
        return true;
      }
      serve(request, response, callback, method, path, principal, parameters);
    } catch (RuntimeException e) {
      fail(request, response, callback, e);
    }
    return true;
  }

  private void serve(
      Request request,
      Response response,
      Callback callback,
      String method,
      String path,
      Principal principal,
      Fields parameters) {
    List<String> segments = List.of(path.substring(1).split("/", -1));
    Set<String> allowed = new LinkedHashSet<>();
    for (CatalogRoutes.Route route : routes.routes()) {
      Map<String, String> variables = match(route.segments(), segments);
      if (variables == null) {
        continue;
      }
      if (!route.endpoint().httpMethod().equalsIgnoreCase(method)) {
        allowed.add(route.endpoint().httpMethod().toUpperCase(Locale.ROOT));
        continue;
      }
      byte[] body = method.equals("POST") ? body(request) : new byte[0];
      RESTResponse result = route.serve().serve(new Call(principal, variables, parameters, body));
      if (result == null) {
        response.setStatus(204);
        callback.succeeded();
      } else {
        send(response, callback, 200, result);
      }
      return;
    }
    if (!allowed.isEmpty()) {
      throw new MethodNotAllowed(method, String.join(", ", allowed));
    }
    throw new NotFoundException(
        "No such endpoint: %s %s; GET /v1/config lists the endpoints this catalog serves",
        method, path);
  }

  /** The path variables when {@code segments} match the route's, else null. */
  private static Map<String, String> match(List<String> template, List<String> segments) {
    if (template.size() != segments.size()) {
      return null;
    }
    Map<String, String> variables = new HashMap<>();
    for (int index = 0; index < template.size(); index++) {
      String expected = template.get(index);
      String actual = segments.get(index);
      if (expected.startsWith("{") && expected.endsWith("}")) {
        if (actual.isEmpty()) {
          return null;
        }
        variables.put(expected.substring(1, expected.length() - 1), actual);
      } else if (!expected.equals(actual)) {
        return null;
      }
    }
    return variables;
  }

  /** One matched request, as the routes read it. */
  private final class Call implements CatalogRoutes.Call {
    private final Principal principal;
    private final Map<String, String> variables;
    private final Fields parameters;
    private final byte[] body;

    Call(Principal principal, Map<String, String> variables, Fields parameters, byte[] body) {
      this.principal = principal;
      this.variables = variables;
      this.parameters = parameters;
      this.body = body;
    }

    @Override
    public Principal principal() {
      return principal;
    }

    @Override
    public String variable(String name) {
      String raw = variables.get(name);
      if (raw == null) {
        throw new IllegalStateException("route has no variable " + name);
      }
      return RESTUtil.decodeString(raw);
    }

    @Override
    public Namespace namespace() {
      String raw = variables.get("namespace");
      if (raw == null) {
        throw new IllegalStateException("route has no namespace");
      }
      return RESTUtil.decodeNamespace(raw, RESTCatalogProperties.NAMESPACE_SEPARATOR_DEFAULT);
    }

    @Override
    public Optional<String> parameter(String name) {
      return Optional.ofNullable(parameters.getValue(name));
    }

    @Override
    public <T> T body(Class<T> type) {
      String name = type.getSimpleName();
      if (body.length == 0) {
        throw new BadRequestException("Malformed request: the body is empty; send a JSON %s", name);
      }
      JsonNode tree;
      try (JsonParser parser = mapper.createParser(body)) {
        tree = mapper.readTree(parser);
        if (parser.nextToken() != null) {
          throw new BadRequestException(
              "Malformed request: the body has more after the %s; send one JSON value", name);
        }
      } catch (JsonProcessingException e) {
        throw new BadRequestException(
            "Malformed request: the body is not a valid %s: %s", name, e.getOriginalMessage());
      } catch (IOException e) {
        throw new BadRequestException(
            "Malformed request: cannot read the body: %s", e.getMessage());
      }
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        throw new BadRequestException("Malformed request: the body is null; send a JSON %s", name);
      }
      Set<String> known = PARSED_FIELDS.get(type);
      if (known != null) {
        checkFields(tree, known, name);
        JsonNode changes = tree.get("table-changes");
        if (type == CommitTransactionRequest.class && changes != null && changes.isArray()) {
          for (JsonNode change : changes) {
            checkFields(change, PARSED_FIELDS.get(UpdateTableRequest.class), "table change");
          }
        }
      }
      T value;
      try {
        value = mapper.treeToValue(tree, type);
      } catch (UnrecognizedPropertyException e) {
        throw new BadRequestException(
            "Malformed request: unknown field '%s' in %s; remove it (known fields: %s)",
            e.getPropertyName(), name, e.getKnownPropertyIds());
      } catch (JsonProcessingException e) {
        throw new BadRequestException(
            "Malformed request: the body is not a valid %s: %s", name, e.getOriginalMessage());
      } catch (RuntimeException e) {
        // Iceberg's parsers refuse what they cannot read with IllegalArgumentException (or
        // UnsupportedOperationException for an unknown update action, NullPointerException for
        // some missing fields); either way the body is malformed, whatever the exception says.
        throw new BadRequestException(
            "Malformed request: the body is not a valid %s: %s", name, e.getMessage());
      }
      if (value == null) {
        throw new BadRequestException("Malformed request: the body is null; send a JSON %s", name);
      }
      return value;
    }
  }

  /**
   * The fields of the request types that Iceberg reads with parsers of its own, which skip fields
   * they do not know; Jackson refuses unknown fields of the other types. Checked here so that a
   * misspelt field is refused there too, rather than dropped (with the change it was meant to
   * make).
   */
  private static final Map<Class<?>, Set<String>> PARSED_FIELDS =
      Map.of(
          UpdateTableRequest.class, Set.of("identifier", "requirements", "updates"),
          CommitTransactionRequest.class, Set.of("table-changes"),
          RegisterTableRequest.class, Set.of("name", "metadata-location", "overwrite"),
          RegisterViewRequest.class, Set.of("name", "metadata-location"),
          CreateViewRequest.class,
              Set.of("name", "location", "schema", "view-version", "properties"));

  private static void checkFields(JsonNode node, Set<String> known, String what) {
    if (!node.isObject()) {
      throw new BadRequestException(
          "Malformed request: a %s is a JSON object, not %s", what, node.getNodeType());
    }
    for (Iterator<String> fields = node.fieldNames(); fields.hasNext(); ) {
      String field = fields.next();
      if (!known.contains(field)) {
        throw new BadRequestException(
            "Malformed request: unknown field '%s' in %s; remove it (known fields: %s)",
            field, what, new TreeSet<>(known));
      }
    }
  }

  /** {@code POST /v1/oauth/tokens}: client credentials, or a valid token to exchange. */
  private void token(Request request, Response response, Callback callback) {
    Map<String, String> form;
    try {
      form = RESTUtil.decodeFormData(new String(body(request), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new OAuthError(
          400,
          OAuth2Properties.INVALID_REQUEST_ERROR,
          "the body is not a form of distinct name=value pairs"
              + " (application/x-www-form-urlencoded): "
              + e.getMessage()
              + "; send grant_type=client_credentials&client_id=<name>&client_secret=<secret>");
    }
    String grantType = form.get("grant_type");
    Principal principal;
    if ("client_credentials".equals(grantType)) {
      String clientId = form.get("client_id");
      String clientSecret = form.get("client_secret");
      String basic = request.getHeaders().get(HttpHeader.AUTHORIZATION);
      if ((clientId == null || clientSecret == null) && basic != null) {
        String[] pair = basicCredentials(basic);
        clientId = pair[0];
        clientSecret = pair[1];
      }
      if (clientId == null || clientSecret == null) {
        throw new OAuthError(
            400,
            OAuth2Properties.INVALID_REQUEST_ERROR,
            "client_id and client_secret are required; Iceberg clients send them when given"
                + " credential=<client id>:<secret>");
      }
      principal =
          principals
              .authenticate(clientId, clientSecret)
              .orElseThrow(
                  () ->
                      new OAuthError(
                          401,
                          OAuth2Properties.INVALID_CLIENT_ERROR,
                          "unknown client or wrong secret; use a principal declared in the"
                              + " principals section with its secret"));
    } else if ("urn:ietf:params:oauth:grant-type:token-exchange".equals(grantType)) {
      String subject = form.get("subject_token");
      if (subject == null) {
        throw new OAuthError(
            400, OAuth2Properties.INVALID_REQUEST_ERROR, "subject_token is required");
      }
      try {
        principal = tokens.verify(subject);
      } catch (NotAuthorizedException e) {
        throw new OAuthError(400, OAuth2Properties.INVALID_GRANT_ERROR, e.getMessage());
      }
    } else {
      throw new OAuthError(
          400,
          OAuth2Properties.UNSUPPORTED_GRANT_TYPE_ERROR,
          "grant_type "
              + (grantType == null ? "is missing" : "'" + grantType + "' is not supported")
              + "; use client_credentials");
    }
    Tokens.Issued issued = tokens.issue(principal);
    OAuthTokenResponse token =
        OAuthTokenResponse.builder()
            .withToken(issued.token())
            .withTokenType("bearer")
            .withIssuedTokenType(OAuth2Properties.ACCESS_TOKEN_TYPE)
            .setExpirationInSeconds((int) issued.lifetime().toSeconds())
            .build();
    byte[] json = OAuth2Util.tokenResponseToJson(token).getBytes(StandardCharsets.UTF_8);
    write(response, callback, 200, json);
  }

  private Principal authenticate(Request request) {
    String authorization = request.getHeaders().get(HttpHeader.AUTHORIZATION);
    if (authorization == null || authorization.isBlank()) {
      if (anonymousAccess) {
        return Principal.ANONYMOUS;
      }
      throw new NotAuthorizedException(
          "Not authorized: the request has no bearer token; get one from POST /v1/oauth/tokens"
              + " with a principal's client credentials (Iceberg clients: set"
              + " credential=<name>:<secret>)");
    }
    if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw new NotAuthorizedException(
          "Not authorized: send Authorization: Bearer <token> with a token from POST"
              + " /v1/oauth/tokens");
    }
    return tokens.verify(authorization.substring(7).trim());
  }

  private static String[] basicCredentials(String header) {
    if (!header.regionMatches(true, 0, "Basic ", 0, 6)) {
      return new String[] {null, null};
    }
    String decoded;
    try {
      decoded =
          new String(
              Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return new String[] {null, null};
    }
    int colon = decoded.indexOf(':');
    return colon < 0
        ? new String[] {null, null}
        : new String[] {
          RESTUtil.decodeString(decoded.substring(0, colon)),
          RESTUtil.decodeString(decoded.substring(colon + 1))
        };
  }

  private static byte[] body(Request request) {
    try {
      return RequestBody.read(request, MAX_BODY_BYTES, PayloadTooLarge::new);
    } catch (UncheckedIOException e) {
      throw new BadRequestException(
          "Malformed request: cannot read the body: %s", e.getCause().getMessage());
    }
  }

  private static void requireMethod(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new MethodNotAllowed(method, allowed);
    }
  }

  private void send(Response response, Callback callback, int status, RESTResponse body) {
    byte[] json;
    try {
      json = mapper.writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Cannot write " + body.getClass().getSimpleName(), e);
    }
    write(response, callback, status, json);
  }

  private static void write(Response response, Callback callback, int status, byte[] json) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, json.length);
    response.write(true, ByteBuffer.wrap(json), callback);
  }

  /** Answers a failure with the spec's error model, or the OAuth2 error of the token endpoint. */
  private void fail(Request request, Response response, Callback callback, RuntimeException e) {
    if (response.isCommitted()) {
      LOG.warn("REST catalog: {} {} failed after answering", request.getMethod(), path(request), e);
      callback.failed(e);
      return;
    }
    if (e instanceof OAuthError oauth) {
      String json =
          "{\"error\":\""
              + oauth.error
              + "\",\"error_description\":"
              + quote(oauth.getMessage())
              + "}";
      if (oauth.status == 401) {
        // RFC 6749 5.2: a client that authenticated (or should have) learns the scheme to use.
        response
            .getHeaders()
            .put(
                HttpHeader.WWW_AUTHENTICATE,
                oauth.error.equals(OAuth2Properties.INVALID_CLIENT_ERROR)
                    ? "Basic realm=\"floe\""
                    : "Bearer");
      }
      write(response, callback, oauth.status, json.getBytes(StandardCharsets.UTF_8));
      return;
    }
    int status = status(e);
    String message = e.getMessage() == null ? e.toString() : e.getMessage();
    String type = e.getClass().getSimpleName();
    if (status >= 500) {
      String id = UUID.randomUUID().toString().substring(0, 8);
      LOG.error(
          "REST catalog: {} {} failed (error id {})", request.getMethod(), path(request), id, e);
      if (!(e instanceof CommitStateUnknownException) && !(e instanceof FloeException)) {
        message = "Internal error " + id + " (see the Floe server log): " + message;
      }
    } else {
      LOG.debug(
          "REST catalog: {} {} answered {}: {}",
          request.getMethod(),
          path(request),
          status,
          message);
    }
    if (e instanceof MethodNotAllowed notAllowed) {
      response.getHeaders().put(HttpHeader.ALLOW, notAllowed.allowed);
    }
    if (status == 401) {
      response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer");
    }
    if (request.getMethod().equals("HEAD")) {
      response.setStatus(status);
      callback.succeeded();
      return;
    }
    ErrorResponse error =
        ErrorResponse.builder().responseCode(status).withType(type).withMessage(message).build();
    write(
        response,
        callback,
        status,
        ErrorResponseParser.toJson(error).getBytes(StandardCharsets.UTF_8));
  }

  /** The status the spec gives a failure. */
  static int status(RuntimeException e) {
    if (e instanceof BadRequestException
        || e instanceof ValidationException
        || e instanceof IllegalArgumentException) {
      return 400;
    } else if (e instanceof NotAuthorizedException) {
      return 401;
    } else if (e instanceof ForbiddenException) {
      return 403;
    } else if (e instanceof NoSuchNamespaceException
        || e instanceof NoSuchTableException
        || e instanceof NoSuchViewException
        || e instanceof NotFoundException) {
      return 404;
    } else if (e instanceof MethodNotAllowed) {
      return 405;
    } else if (e instanceof UnsupportedOperationException) {
      return 406;
    } else if (e instanceof AlreadyExistsException
        || e instanceof CommitFailedException
        || e instanceof NamespaceNotEmptyException) {
      return 409;
    } else if (e instanceof PayloadTooLarge) {
      return 413;
    } else if (e instanceof UnprocessableEntityException) {
      return 422;
    } else if (e instanceof FloeException floe) {
      return switch (floe.code().type()) {
        case USER -> 400;
        case EXTERNAL, EXTERNAL_RETRIABLE -> 503;
        case INTERNAL -> 500;
      };
    }
    return 500;
  }

  private static String path(Request request) {
    return request.getHttpURI().getPath();
  }

  private static String quote(String text) {
    try {
      return new ObjectMapper().writeValueAsString(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Jetty's own refusals (a malformed request line or URI, before any handler runs) in the spec's
   * error model instead of Jetty's error page.
   *
   * <p>Each says {@code Connection: close}: Jetty closes the connection after some of them (a
   * {@code %00} in the path, for one) without saying so, and a client that pooled the connection
   * would send its next request into a closed socket and see no answer at all.
   */
  static final class JsonErrors extends ErrorHandler {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      int status = response.getStatus() < 400 ? 500 : response.getStatus();
      Object reason = request.getAttribute(ErrorHandler.ERROR_MESSAGE);
      String generic = HttpStatus.getMessage(status);
      String message =
          "Malformed request: "
              + (reason == null ? generic : reason)
              + (status == 400 && (reason == null || reason.equals(generic))
                  ? " (the request line, its URI or a header cannot be read: a path may not hold"
                      + " %00, and must be percent-encoded UTF-8)"
                  : "");
      response.getHeaders().put(HttpHeader.CONNECTION, "close");
      ErrorResponse error =
          ErrorResponse.builder()
              .responseCode(status)
              .withType(status == 400 ? "BadRequestException" : "RESTException")
              .withMessage(message)
              .build();
      RestCatalogHandler.write(
          response,
          callback,
          status,
          ErrorResponseParser.toJson(error).getBytes(StandardCharsets.UTF_8));
      return true;
    }
  }

  /** A request with a method its path does not serve. */
  private static final class MethodNotAllowed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String allowed;

    /**
     * @param allowed the methods the path serves, for the Allow header
     */
    MethodNotAllowed(String method, String allowed) {
      super(
          "Method "
              + method
              + " is not allowed here, only "
              + allowed
              + "; see GET /v1/config for the endpoints");
      this.allowed = allowed;
    }
  }

  /** A request body over {@link #MAX_BODY_BYTES}. */
  private static final class PayloadTooLarge extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * @param size the body's size as far as it is known ("1234 bytes", "more than 1000 bytes")
     */
    PayloadTooLarge(String size) {
      super(
          "Request body too large ("
              + size
              + "): the limit is "
              + MAX_BODY_BYTES
              + " bytes; send table data to storage, not to the catalog");
    }
  }

  /** A failure of the token endpoint, answered in OAuth2's error format (RFC 6749, 5.2). */
  private static final class OAuthError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String error;

    OAuthError(int status, String error, String description) {
      super(description);
      this.status = status;
      this.error = error;
    }
  }
}
