BEGIN
  INSERT INTO user_management.roles (organization_id, key, name, description, system_role_key, is_default)
  SELECT NEW.id, sr.key, sr.name, sr.description, sr.key, sr.is_default
    FROM user_management.system_roles AS sr;

  INSERT INTO user_management.role_permissions (organization_id, role_id, permission_id)
  SELECT NEW.id, r.id, p.id
    FROM user_management.roles AS r
    JOIN user_management.system_role_permissions AS srp ON srp.system_role_key = r.system_role_key
    JOIN user_management.permissions AS p ON p.code = srp.permission_code
   WHERE r.organization_id = NEW.id;

  RETURN NULL;
END
