-- Row-level security: tenant tables as `tenant: true` generates them, hand-written policies,
-- tables in the public schema, and extension types and operator classes.
CREATE EXTENSION IF NOT EXISTS citext SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
DO $$ BEGIN CREATE ROLE tenant_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE tenant_auditor NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;

CREATE SCHEMA crm;
CREATE TABLE crm.organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name public.citext NOT NULL UNIQUE
);
CREATE TABLE crm.contacts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES crm.organizations ON DELETE CASCADE,
    full_name text NOT NULL,
    email public.citext
);
CREATE INDEX contacts_name_trgm ON crm.contacts USING gin (full_name public.gin_trgm_ops);
ALTER TABLE crm.contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.contacts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm.contacts
    USING (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
    WITH CHECK (organization_id = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);
COMMENT ON POLICY tenant_isolation ON crm.contacts IS 'Tenant isolation: rows of the organization in app.current_organization_id only.';
CREATE POLICY auditors_read ON crm.contacts FOR SELECT TO tenant_auditor USING (true);

CREATE TABLE crm.notes (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_org uuid NOT NULL REFERENCES crm.organizations,
    body text NOT NULL
);
ALTER TABLE crm.notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE crm.notes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON crm.notes
    USING (owner_org = NULLIF(current_setting('app.current_organization_id', true), '')::uuid)
    WITH CHECK (owner_org = NULLIF(current_setting('app.current_organization_id', true), '')::uuid);
COMMENT ON POLICY tenant_isolation ON crm.notes IS 'Tenant isolation: rows of the organization in app.current_organization_id only.';

CREATE TABLE crm.deals (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES crm.organizations,
    amount numeric(14, 2) NOT NULL,
    closed boolean NOT NULL DEFAULT false
);
ALTER TABLE crm.deals ENABLE ROW LEVEL SECURITY;
CREATE POLICY open_only ON crm.deals AS RESTRICTIVE FOR UPDATE TO tenant_app
    USING (NOT closed) WITH CHECK (amount >= 0);
CREATE POLICY app_insert ON crm.deals FOR INSERT TO tenant_app, tenant_auditor WITH CHECK (amount < 1000000);
CREATE POLICY app_all ON crm.deals TO tenant_app USING (true);
COMMENT ON POLICY app_all ON crm.deals IS 'The application sees every deal of its tenant.';
GRANT USAGE ON SCHEMA crm TO tenant_app, tenant_auditor;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA crm TO tenant_app;
GRANT SELECT ON crm.contacts TO tenant_auditor;

CREATE TABLE public.settings (
    key text PRIMARY KEY,
    value text NOT NULL,
    organization_id uuid REFERENCES crm.organizations
);
COMMENT ON TABLE public.settings IS 'Key-value settings, in the public schema.';
CREATE FUNCTION public.setting(p_key text) RETURNS text LANGUAGE sql STABLE AS $$
SELECT value FROM public.settings WHERE key = p_key
$$;
