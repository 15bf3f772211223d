DECLARE
  -- TG_ARGV[0] names the tenant column; the remaining arguments are columns that may change
  -- without deserving an entry of their own (timestamps that move on every touch).
  v_tenant_column text := COALESCE(TG_ARGV[0], 'organization_id');
  v_ignored_columns text[] := COALESCE(TG_ARGV[1:TG_NARGS - 1], '{}'::text[]);
  -- Never copy credentials into a log that administrators read.
  v_secret_columns constant text[] := ARRAY['password_hash', 'token_hash', 'mfa_secret'];
  v_old jsonb;
  v_new jsonb;
  v_changed text[];
BEGIN
  IF TG_OP <> 'INSERT' THEN
    v_old := to_jsonb(OLD);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    v_new := to_jsonb(NEW);
  END IF;

  IF TG_OP = 'UPDATE' THEN
    SELECT array_agg(n.key ORDER BY n.key)
      INTO v_changed
      FROM jsonb_each(v_new) AS n
     WHERE n.value IS DISTINCT FROM v_old -> n.key;
    IF v_changed IS NULL OR v_changed <@ v_ignored_columns THEN
      RETURN NULL;
    END IF;
  END IF;

  INSERT INTO user_management.audit_log
    (organization_id, actor_user_id, table_schema, table_name, operation,
     row_id, old_row, new_row, changed_columns)
  VALUES
    ((COALESCE(v_new, v_old) ->> v_tenant_column)::uuid,
     NULLIF(current_setting('app.current_user_id', true), '')::uuid,
     TG_TABLE_SCHEMA,
     TG_TABLE_NAME,
     lower(TG_OP)::user_management.audit_operation,
     COALESCE(v_new, v_old) ->> 'id',
     v_old - v_secret_columns,
     v_new - v_secret_columns,
     v_changed);
  RETURN NULL;
END
