package io.floe.catalog;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.floe.core.catalog.TableTransactions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.catalog.ViewCatalog;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.UnprocessableEntityException;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.apache.iceberg.rest.CatalogHandlers;
import org.apache.iceberg.rest.Endpoint;
import org.apache.iceberg.rest.RESTCatalogProperties.SnapshotMode;
import org.apache.iceberg.rest.RESTResponse;
import org.apache.iceberg.rest.RESTUtil;
import org.apache.iceberg.rest.requests.CommitTransactionRequest;
import org.apache.iceberg.rest.requests.CreateNamespaceRequest;
import org.apache.iceberg.rest.requests.CreateTableRequest;
import org.apache.iceberg.rest.requests.CreateViewRequest;
import org.apache.iceberg.rest.requests.RegisterTableRequest;
import org.apache.iceberg.rest.requests.RegisterViewRequest;
import org.apache.iceberg.rest.requests.RenameTableRequest;
import org.apache.iceberg.rest.requests.ReportMetricsRequest;
import org.apache.iceberg.rest.requests.UpdateNamespacePropertiesRequest;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.rest.responses.ConfigResponse;
import org.apache.iceberg.rest.responses.LoadTableResponse;

/**
 * The endpoints of the Iceberg REST catalog, each one call of Iceberg's {@link CatalogHandlers} (or
 * of {@link TableTransactions} for multi-table commits) on the warehouse's catalog, after one call
 * of the {@link Authorizer}. Paths have no prefix: {@code /v1/namespaces/...}.
 */
final class CatalogRoutes {
  /** One request, matched to a route: its path variables, query parameters and body. */
  interface Call {
    Principal principal();

    /** A path variable, decoded. */
    String variable(String name);

    /** The namespace of the path, decoded. */
    Namespace namespace();

    /** A query parameter, decoded. */
    Optional<String> parameter(String name);

    /** The body read as the given request type. */
    <T> T body(Class<T> type);
  }

  /** Serves one route; returns the response body, or null for 204 No Content. */
  @FunctionalInterface
  interface Serve {
    RESTResponse serve(Call call);
  }

  /** A route: the endpoint it serves and its handler, which authorizes what it does first. */
  record Route(Endpoint endpoint, List<String> segments, Serve serve) {}

  private final Catalog catalog;
  private final SupportsNamespaces namespaces;
  private final ViewCatalog views;
  private final TableTransactions transactions;
  private final CatalogServerTables database;
  private final Authorizer authorizer;
  private final String warehouseName;

  /** The keys of {@code tableConfig} that are secrets: never given to anonymous requests. */
  static final java.util.Set<String> CREDENTIAL_KEYS =
      java.util.Set.of("s3.access-key-id", "s3.secret-access-key", "s3.session-token");

  private final Map<String, String> tableConfig;
  private final Clock clock;
  private final List<Route> routes = new ArrayList<>();

  /**
   * @param tableConfig what {@code loadTable} tells clients about the storage, such as the S3
   *     endpoint and, for authenticated principals only, its credentials ({@link #CREDENTIAL_KEYS})
   */
  CatalogRoutes(
      JdbcCatalog catalog,
      TableTransactions transactions,
      CatalogServerTables database,
      Authorizer authorizer,
      String warehouseName,
      Map<String, String> tableConfig,
      Clock clock) {
    this.catalog = requireNonNull(catalog, "catalog is null");
    this.namespaces = catalog;
    this.views = catalog;
    this.transactions = requireNonNull(transactions, "transactions is null");
    this.database = requireNonNull(database, "database is null");
    this.authorizer = requireNonNull(authorizer, "authorizer is null");
    this.warehouseName = requireNonNull(warehouseName, "warehouseName is null");
    this.tableConfig = Map.copyOf(tableConfig);
    this.clock = requireNonNull(clock, "clock is null");
    declare();
  }

  List<Route> routes() {
    return routes;
  }

  private void route(Endpoint endpoint, Serve serve) {
    String path = endpoint.path().replace("/{prefix}", "");
    List<String> segments = List.of(path.substring(1).split("/"));
    routes.add(new Route(endpoint, segments, serve));
  }

  private void declare() {
    // Namespaces.
    route(
        Endpoint.V1_LIST_NAMESPACES,
        call -> {
          Namespace parent =
              call.parameter("parent")
                  .map(RESTUtil::namespaceFromQueryParam)
                  .orElse(Namespace.empty());
          authorize(call, CatalogAction.LIST_NAMESPACES, parent.toString());
          Optional<String> pageSize = call.parameter("pageSize");
          return pageSize.isPresent()
              ? CatalogHandlers.listNamespaces(
                  namespaces,
                  parent,
                  call.parameter("pageToken").orElse(null),
                  pageSize(pageSize.get()))
              : CatalogHandlers.listNamespaces(namespaces, parent);
        });
    route(
        Endpoint.V1_CREATE_NAMESPACE,
        call -> {
          CreateNamespaceRequest request = call.body(CreateNamespaceRequest.class);
          request.validate();
          Names.checkNamespace(request.namespace());
          authorize(call, CatalogAction.CREATE_NAMESPACE, request.namespace().toString());
          return CatalogHandlers.createNamespace(namespaces, request);
        });
    route(
        Endpoint.V1_LOAD_NAMESPACE,
        call -> {
          authorize(call, CatalogAction.LOAD_NAMESPACE, call.namespace().toString());
          return CatalogHandlers.loadNamespace(namespaces, call.namespace());
        });
    route(
        Endpoint.V1_NAMESPACE_EXISTS,
        call -> {
          authorize(call, CatalogAction.LOAD_NAMESPACE, call.namespace().toString());
          CatalogHandlers.namespaceExists(namespaces, call.namespace());
          return null;
        });
    route(
        Endpoint.V1_UPDATE_NAMESPACE,
        call -> {
          UpdateNamespacePropertiesRequest request =
              call.body(UpdateNamespacePropertiesRequest.class);
          List<String> both =
              request.removals().stream().filter(request.updates()::containsKey).toList();
          if (!both.isEmpty()) {
            throw new UnprocessableEntityException(
                "Cannot update namespace properties: %s both updated and removed; do one or the"
                    + " other",
                both);
          }
          authorize(call, CatalogAction.UPDATE_NAMESPACE, call.namespace().toString());
          return CatalogHandlers.updateNamespaceProperties(namespaces, call.namespace(), request);
        });
    route(
        Endpoint.V1_DELETE_NAMESPACE,
        call -> {
          authorize(call, CatalogAction.DROP_NAMESPACE, call.namespace().toString());
          CatalogHandlers.dropNamespace(namespaces, call.namespace());
          return null;
        });

    // Tables.
    route(
        Endpoint.V1_LIST_TABLES,
        call -> {
          authorize(call, CatalogAction.LIST_TABLES, call.namespace().toString());
          Optional<String> pageSize = call.parameter("pageSize");
          return pageSize.isPresent()
              ? CatalogHandlers.listTables(
                  catalog,
                  call.namespace(),
                  call.parameter("pageToken").orElse(null),
                  pageSize(pageSize.get()))
              : CatalogHandlers.listTables(catalog, call.namespace());
        });
    route(
        Endpoint.V1_CREATE_TABLE,
        call -> {
          CreateTableRequest request = call.body(CreateTableRequest.class);
          request.validate();
          TableIdentifier identifier = TableIdentifier.of(call.namespace(), request.name());
          Names.checkIdentifier("table", identifier);
          authorize(call, CatalogAction.CREATE_TABLE, identifier.toString());
          requireNamespace(identifier.namespace());
          LoadTableResponse response =
              request.stageCreate()
                  ? CatalogHandlers.stageTableCreate(catalog, call.namespace(), request)
                  : CatalogHandlers.createTable(catalog, call.namespace(), request);
          return withConfig(call, response);
        });
    route(
        Endpoint.V1_LOAD_TABLE,
        call -> {
          TableIdentifier identifier = table(call);
          authorize(call, CatalogAction.LOAD_TABLE, identifier.toString());
          return withConfig(
              call, CatalogHandlers.loadTable(catalog, identifier, snapshotMode(call)));
        });
    route(
        Endpoint.V1_TABLE_EXISTS,
        call -> {
          TableIdentifier identifier = table(call);
          authorize(call, CatalogAction.LOAD_TABLE, identifier.toString());
          CatalogHandlers.tableExists(catalog, identifier);
          return null;
        });
    route(
        Endpoint.V1_UPDATE_TABLE,
        call -> {
          UpdateTableRequest request = call.body(UpdateTableRequest.class);
          TableIdentifier identifier = table(call);
          if (request.identifier() != null && !request.identifier().equals(identifier)) {
            throw new IllegalArgumentException(
                "Invalid commit: the body names table "
                    + request.identifier()
                    + " but the path names "
                    + identifier);
          }
          if (isCreate(request)) {
            Names.checkIdentifier("table", identifier);
            authorize(call, CatalogAction.CREATE_TABLE, identifier.toString());
            requireNamespace(identifier.namespace());
          } else {
            authorize(call, CatalogAction.COMMIT_TABLE, identifier.toString());
          }
          return withConfig(call, CatalogHandlers.updateTable(catalog, identifier, request));
        });
    route(
        Endpoint.V1_DELETE_TABLE,
        call -> {
          TableIdentifier identifier = table(call);
          boolean purge = call.parameter("purgeRequested").map(CatalogRoutes::bool).orElse(false);
          authorize(
              call,
              purge ? CatalogAction.PURGE_TABLE : CatalogAction.DROP_TABLE,
              identifier.toString());
          if (purge) {
            CatalogHandlers.purgeTable(catalog, identifier);
          } else {
            CatalogHandlers.dropTable(catalog, identifier);
          }
          return null;
        });
    route(
        Endpoint.V1_RENAME_TABLE,
        call -> {
          RenameTableRequest request = call.body(RenameTableRequest.class);
          request.validate();
          Names.checkIdentifier("table", request.destination());
          authorize(call, CatalogAction.RENAME_TABLE, request.source().toString());
          authorize(call, CatalogAction.CREATE_TABLE, request.destination().toString());
          requireNamespace(request.destination().namespace());
          CatalogHandlers.renameTable(catalog, request);
          return null;
        });
    route(
        Endpoint.V1_REGISTER_TABLE,
        call -> {
          RegisterTableRequest request = call.body(RegisterTableRequest.class);
          request.validate();
          TableIdentifier identifier = TableIdentifier.of(call.namespace(), request.name());
          Names.checkIdentifier("table", identifier);
          authorize(call, CatalogAction.REGISTER_TABLE, identifier.toString());
          requireNamespace(identifier.namespace());
          return withConfig(
              call, CatalogHandlers.registerTable(catalog, call.namespace(), request));
        });
    route(
        Endpoint.V1_REPORT_METRICS,
        call -> {
          ReportMetricsRequest request = call.body(ReportMetricsRequest.class);
          TableIdentifier identifier = table(call);
          authorize(call, CatalogAction.REPORT_METRICS, identifier.toString());
          if (!database.storeReport(
              warehouseName, call.principal(), identifier, request, clock.instant())) {
            throw new NoSuchTableException("Table does not exist: %s", identifier);
          }
          return null;
        });
    route(
        Endpoint.V1_COMMIT_TRANSACTION,
        call -> {
          CommitTransactionRequest request = call.body(CommitTransactionRequest.class);
          request.validate();
          List<TableTransactions.TableChange> changes = new ArrayList<>();
          for (UpdateTableRequest change : request.tableChanges()) {
            if (isCreate(change)) {
              throw new IllegalArgumentException(
                  "Invalid transaction: it creates table "
                      + change.identifier()
                      + "; create tables first, then commit the transaction");
            }
            authorize(call, CatalogAction.COMMIT_TABLE, change.identifier().toString());
            changes.add(
                new TableTransactions.TableChange(
                    change.identifier(), change.requirements(), change.updates()));
          }
          transactions.commit(changes);
          return null;
        });

    // Views.
    route(
        Endpoint.V1_LIST_VIEWS,
        call -> {
          authorize(call, CatalogAction.LIST_VIEWS, call.namespace().toString());
          Optional<String> pageSize = call.parameter("pageSize");
          return pageSize.isPresent()
              ? CatalogHandlers.listViews(
                  views,
                  call.namespace(),
                  call.parameter("pageToken").orElse(null),
                  pageSize(pageSize.get()))
              : CatalogHandlers.listViews(views, call.namespace());
        });
    route(
        Endpoint.V1_CREATE_VIEW,
        call -> {
          CreateViewRequest request = call.body(CreateViewRequest.class);
          request.validate();
          TableIdentifier identifier = TableIdentifier.of(call.namespace(), request.name());
          Names.checkIdentifier("view", identifier);
          authorize(call, CatalogAction.CREATE_VIEW, identifier.toString());
          requireNamespace(identifier.namespace());
          return CatalogHandlers.createView(views, call.namespace(), request);
        });
    route(
        Endpoint.V1_LOAD_VIEW,
        call -> {
          TableIdentifier identifier = view(call);
          authorize(call, CatalogAction.LOAD_VIEW, identifier.toString());
          return CatalogHandlers.loadView(views, identifier);
        });
    route(
        Endpoint.V1_VIEW_EXISTS,
        call -> {
          TableIdentifier identifier = view(call);
          authorize(call, CatalogAction.LOAD_VIEW, identifier.toString());
          CatalogHandlers.viewExists(views, identifier);
          return null;
        });
    route(
        Endpoint.V1_UPDATE_VIEW,
        call -> {
          UpdateTableRequest request = call.body(UpdateTableRequest.class);
          TableIdentifier identifier = view(call);
          authorize(call, CatalogAction.REPLACE_VIEW, identifier.toString());
          return CatalogHandlers.updateView(views, identifier, request);
        });
    route(
        Endpoint.V1_DELETE_VIEW,
        call -> {
          TableIdentifier identifier = view(call);
          authorize(call, CatalogAction.DROP_VIEW, identifier.toString());
          CatalogHandlers.dropView(views, identifier);
          return null;
        });
    route(
        Endpoint.V1_RENAME_VIEW,
        call -> {
          RenameTableRequest request = call.body(RenameTableRequest.class);
          request.validate();
          Names.checkIdentifier("view", request.destination());
          authorize(call, CatalogAction.RENAME_VIEW, request.source().toString());
          authorize(call, CatalogAction.CREATE_VIEW, request.destination().toString());
          requireNamespace(request.destination().namespace());
          CatalogHandlers.renameView(views, request);
          return null;
        });
    route(
        Endpoint.V1_REGISTER_VIEW,
        call -> {
          RegisterViewRequest request = call.body(RegisterViewRequest.class);
          request.validate();
          TableIdentifier identifier = TableIdentifier.of(call.namespace(), request.name());
          Names.checkIdentifier("view", identifier);
          authorize(call, CatalogAction.CREATE_VIEW, identifier.toString());
          requireNamespace(identifier.namespace());
          return CatalogHandlers.registerView(views, call.namespace(), request);
        });
  }

  /** {@code GET /v1/config}: the endpoints served, for a client asking about a warehouse. */
  ConfigResponse config(Principal principal, Optional<String> warehouse) {
    authorizer.authorize(principal, CatalogAction.READ_CONFIG, "");
    if (warehouse.isPresent()
        && !warehouse.get().isEmpty()
        && !warehouse.get().equals(warehouseName)) {
      throw new IllegalArgumentException(
          "Unknown warehouse '"
              + warehouse.get()
              + "': this catalog serves one warehouse, '"
              + warehouseName
              + "'; set the client's warehouse to '"
              + warehouseName
              + "' or leave it unset");
    }
    return ConfigResponse.builder()
        .withEndpoints(routes.stream().map(Route::endpoint).toList())
        .build();
  }

  /** Tables and views are created in namespaces that exist: the JDBC catalog does not check. */
  private void requireNamespace(Namespace namespace) {
    if (!namespaces.namespaceExists(namespace)) {
      throw new NoSuchNamespaceException(
          "Namespace does not exist: %s; create it first (POST /v1/namespaces)", namespace);
    }
  }

  private void authorize(Call call, CatalogAction action, String object) {
    authorizer.authorize(call.principal(), action, object);
  }

  /**
   * The response with the storage settings clients need to read the table's files; credentials
   * ({@link #CREDENTIAL_KEYS}) only for authenticated principals, never for anonymous requests.
   */
  private LoadTableResponse withConfig(Call call, LoadTableResponse response) {
    if (tableConfig.isEmpty()) {
      return response;
    }
    Map<String, String> config = new java.util.LinkedHashMap<>(tableConfig);
    if (call.principal().equals(Principal.ANONYMOUS)) {
      config.keySet().removeAll(CREDENTIAL_KEYS);
    }
    return LoadTableResponse.builder()
        .withTableMetadata(response.tableMetadata())
        .addAllConfig(response.config())
        .addAllConfig(config)
        .addAllCredentials(response.credentials())
        .build();
  }

  private static TableIdentifier table(Call call) {
    return TableIdentifier.of(call.namespace(), call.variable("table"));
  }

  private static TableIdentifier view(Call call) {
    return TableIdentifier.of(call.namespace(), call.variable("view"));
  }

  private static SnapshotMode snapshotMode(Call call) {
    String mode = call.parameter("snapshots").orElse("all");
    return switch (mode.toLowerCase(Locale.ROOT)) {
      case "all" -> SnapshotMode.ALL;
      case "refs" -> SnapshotMode.REFS;
      default ->
          throw new IllegalArgumentException(
              "Invalid snapshots parameter '" + mode + "': write all or refs");
    };
  }

  private static String pageSize(String text) {
    int size;
    try {
      size = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "Invalid pageSize '" + text + "': write a whole number from 1 to 1000", e);
    }
    if (size < 1 || size > 1000) {
      throw new IllegalArgumentException(
          "Invalid pageSize " + size + ": write a whole number from 1 to 1000");
    }
    return text;
  }

  private static boolean bool(String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(
              "Invalid purgeRequested '" + text + "': write true or false");
    };
  }

  private static boolean isCreate(UpdateTableRequest request) {
    return request.requirements().stream()
        .anyMatch(org.apache.iceberg.UpdateRequirement.AssertTableDoesNotExist.class::isInstance);
  }

  /** Builds the object mapper of the REST model, as Iceberg's client reads and writes it. */
  static ObjectMapper mapper() {
    ObjectMapper mapper = new ObjectMapper();
    mapper.setVisibility(
        com.fasterxml.jackson.annotation.PropertyAccessor.FIELD,
        com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility.ANY);
    mapper.configure(
        com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true);
    mapper.setPropertyNamingStrategy(
        new com.fasterxml.jackson.databind.PropertyNamingStrategies.KebabCaseStrategy());
    org.apache.iceberg.rest.RESTSerializers.registerAll(mapper);
    return mapper;
  }
}
