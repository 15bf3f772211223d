-- Double-entry bookkeeping: routines of many signatures (OUT and INOUT arguments, defaults,
-- VARIADIC, set-returning, RETURNS TABLE), security definers with a pinned search_path,
-- procedures, statement-level triggers with transition tables, and function privileges.
DO $$ BEGIN CREATE ROLE ledger_owner NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE ledger_clerk NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE ledger_auditor NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
GRANT ledger_auditor TO ledger_clerk;

CREATE SCHEMA books AUTHORIZATION ledger_owner;
GRANT USAGE ON SCHEMA books TO ledger_clerk, ledger_auditor;

CREATE DOMAIN books.amount AS numeric(18, 4) CHECK (VALUE <> 0);
CREATE TYPE books.side AS ENUM ('debit', 'credit');

CREATE TABLE books.accounts (
    code varchar(12) PRIMARY KEY,
    name text NOT NULL,
    normal_side books.side NOT NULL,
    opened_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE books.entries (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booked_at timestamptz NOT NULL DEFAULT now(),
    memo text NOT NULL DEFAULT ''
);
CREATE TABLE books.lines (
    entry_id bigint NOT NULL REFERENCES books.entries ON DELETE CASCADE,
    line_number smallint NOT NULL,
    account_code varchar(12) NOT NULL REFERENCES books.accounts,
    side books.side NOT NULL,
    amount books.amount NOT NULL,
    PRIMARY KEY (entry_id, line_number)
);
CREATE INDEX lines_account_idx ON books.lines (account_code, entry_id);
CREATE TABLE books.audit_log (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    rows_added integer NOT NULL
);
GRANT SELECT ON books.accounts, books.entries, books.lines TO ledger_auditor;
GRANT SELECT, INSERT ON books.entries, books.lines TO ledger_clerk;

CREATE FUNCTION books.balance(p_account varchar, p_until timestamptz DEFAULT 'infinity')
RETURNS numeric LANGUAGE sql STABLE PARALLEL SAFE AS $$
SELECT coalesce(sum(CASE l.side WHEN 'debit' THEN l.amount ELSE -l.amount END), 0)
  FROM books.lines AS l JOIN books.entries AS e ON e.id = l.entry_id
 WHERE l.account_code = p_account AND e.booked_at <= p_until
$$;
COMMENT ON FUNCTION books.balance(varchar, timestamptz) IS 'Debits minus credits up to a moment.';

CREATE FUNCTION books.entry_totals(p_entry bigint, OUT debits numeric, OUT credits numeric)
LANGUAGE sql STABLE STRICT AS $$
SELECT coalesce(sum(amount) FILTER (WHERE side = 'debit'), 0),
       coalesce(sum(amount) FILTER (WHERE side = 'credit'), 0)
  FROM books.lines WHERE entry_id = p_entry
$$;

CREATE FUNCTION books.account_activity(p_codes VARIADIC varchar[])
RETURNS TABLE (code varchar, line_count bigint) LANGUAGE sql STABLE ROWS 20 AS $$
SELECT account_code, count(*) FROM books.lines WHERE account_code = ANY (p_codes) GROUP BY 1
$$;

CREATE FUNCTION books.post_entry(p_memo text, p_lines jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = books, pg_temp COST 200 AS $$
DECLARE
    v_entry bigint;
BEGIN
    INSERT INTO entries (memo) VALUES (p_memo) RETURNING id INTO v_entry;
    INSERT INTO lines (entry_id, line_number, account_code, side, amount)
    SELECT v_entry, (x ->> 'n')::smallint, x ->> 'account', (x ->> 'side')::side, (x ->> 'amount')::numeric
      FROM jsonb_array_elements(p_lines) AS x;
    RETURN v_entry;
END
$$;
REVOKE ALL ON FUNCTION books.post_entry(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION books.post_entry(text, jsonb) TO ledger_clerk;

CREATE PROCEDURE books.close_period(IN p_until timestamptz, INOUT p_closed integer DEFAULT 0)
LANGUAGE plpgsql AS $$
BEGIN
    SELECT count(*) INTO p_closed FROM books.entries WHERE booked_at <= p_until;
END
$$;

CREATE FUNCTION books.log_added_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO books.audit_log (rows_added) SELECT count(*) FROM added;
    RETURN NULL;
END
$$;
CREATE TRIGGER lines_audit AFTER INSERT ON books.lines
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION books.log_added_lines();

-- search_path as PostgreSQL shows it: a quoted item ("$user") and the empty path.
CREATE FUNCTION books.today() RETURNS date LANGUAGE sql STABLE SET search_path = "$user", public AS $$
SELECT CURRENT_DATE
$$;
CREATE FUNCTION books.nothing_on_the_path() RETURNS integer LANGUAGE sql IMMUTABLE SET search_path = '' AS $$
SELECT 1
$$;
