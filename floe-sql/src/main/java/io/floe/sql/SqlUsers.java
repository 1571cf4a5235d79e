package io.floe.sql;

import static java.util.Objects.requireNonNull;

import io.floe.core.config.PrincipalConfig;
import io.floe.core.config.SqlConfig;
import io.floe.core.config.SqlUserConfig;
import io.floe.core.config.WorkgroupConfig;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The principals allowed to query through the SQL endpoints, with their passwords and workgroups.
 */
public final class SqlUsers {
  /** A principal: name, password and the workgroup its queries run in. */
  public record User(String name, String password, Workgroup workgroup) {
    public User {
      requireNonNull(name, "name is null");
      requireNonNull(password, "password is null");
      requireNonNull(workgroup, "workgroup is null");
    }

    @Override
    public String toString() {
      return "User[name=" + name + ", password=***, workgroup=" + workgroup.name() + "]";
    }
  }

  private final Map<String, User> users;

  public SqlUsers(Iterable<User> users) {
    Map<String, User> byName = new LinkedHashMap<>();
    for (User user : users) {
      byName.put(user.name(), user);
    }
    this.users = Map.copyOf(byName);
  }

  /** The users and workgroups of a configuration's {@code sql} section. */
  public static SqlUsers of(SqlConfig config) {
    return of(config, List.of());
  }

  /**
   * The users of a configuration's {@code sql} section and its principals, who log in with their
   * secret as password.
   */
  public static SqlUsers of(SqlConfig config, List<PrincipalConfig> principals) {
    List<User> users = new ArrayList<>();
    for (SqlUserConfig user : config.users()) {
      users.add(new User(user.name(), user.password(), workgroup(config, user.workgroup())));
    }
    for (PrincipalConfig principal : principals) {
      users.add(
          new User(principal.name(), principal.secret(), workgroup(config, principal.workgroup())));
    }
    return new SqlUsers(users);
  }

  private static Workgroup workgroup(SqlConfig config, String name) {
    WorkgroupConfig workgroup = config.workgroup(name);
    return new Workgroup(workgroup.name(), workgroup.bytesScannedLimit(), workgroup.resultReuse());
  }

  /** The named user, for protocols that verify a password themselves (SCRAM). */
  public Optional<User> user(String name) {
    return Optional.ofNullable(users.get(name));
  }

  /** The user when the password matches, compared in constant time. */
  public Optional<User> authenticate(String name, String password) {
    User user = users.get(name);
    if (user == null || password == null) {
      return Optional.empty();
    }
    boolean matches =
        MessageDigest.isEqual(
            user.password().getBytes(StandardCharsets.UTF_8),
            password.getBytes(StandardCharsets.UTF_8));
    return matches ? Optional.of(user) : Optional.empty();
  }

  public boolean isEmpty() {
    return users.isEmpty();
  }
}
