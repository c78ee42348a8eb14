/**
 * Kysely table types: the database as it is after the latest migration. Column names are
 * snake_case (portable SQL); repositories map rows to the camelCase records of the core port.
 * Times are ISO-8601 UTC text in both dialects, so they sort and compare the same way.
 * A new migration that adds or changes a table updates this file in the same change.
 */
export interface TenantsTable {
  id: string;
  name: string;
  created_at: string;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string | null;
  prefix: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  expires_at: string | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  settings: SettingsTable;
}
