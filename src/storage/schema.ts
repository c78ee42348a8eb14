/**
 * Kysely table types: the database as it is after the latest migration. Column names are
 * snake_case (portable SQL); repositories map rows to the camelCase records of the core port.
 * Times are ISO-8601 UTC text in both dialects, so they sort and compare the same way.
 * A new migration that adds or changes a table updates this file in the same change.
 */
/** Limit columns shared by tenants and keys (0005-access); bigint, so strings from PostgreSQL. */
export interface LimitColumns {
  requests_per_minute: number | string | null;
  tokens_per_minute: number | string | null;
  concurrency: number | string | null;
  monthly_budget_micros: number | string | null;
}

export interface TenantsTable extends LimitColumns {
  id: string;
  name: string;
  created_at: string;
}

export interface UsersTable {
  id: string;
  tenant_id: string;
  email: string;
  role: string;
  created_at: string;
  disabled_at: string | null;
}

export interface ApiKeysTable extends LimitColumns {
  id: string;
  tenant_id: string;
  name: string | null;
  prefix: string;
  hash: string;
  created_at: string;
  revoked_at: string | null;
  last_used_at: string | null;
  expires_at: string | null;
  /** JSON array of KeyScope. */
  scopes: string;
  role: string | null;
  user_id: string | null;
  rotated_from_id: string | null;
}

export interface SettingsTable {
  key: string;
  value: string;
}

/** Per-tenant data keys, wrapped by the master key (0003-privacy). */
export interface TenantDataKeysTable {
  tenant_id: string;
  version: number;
  /** Null once destroyed (crypto-shredding). */
  wrapped_key: string | null;
  kek_id: string;
  created_at: string;
  destroyed_at: string | null;
}

/** The append-only, hash-chained audit trail (0003-privacy). */
export interface AuditEntriesTable {
  seq: number;
  time: string;
  tenant_id: string | null;
  actor: string;
  action: string;
  target: string | null;
  details_json: string;
  prev_hash: string;
  hash: string;
}

/** Ed25519-signed audit checkpoints (0003-privacy). */
export interface AuditCheckpointsTable {
  seq: number;
  hash: string;
  signature: string;
  key_fingerprint: string;
  time: string;
}

/** Versioned prices (0002-commerce): integer micros; null target/tenant means "all". */
export interface PriceVersionsTable {
  id: string;
  endpoint: string;
  target: string | null;
  tenant_id: string | null;
  currency: string;
  input_per_million_micros: number | string;
  output_per_million_micros: number | string;
  per_request_micros: number | string;
  per_predict_item_micros: number | string;
  effective_from: string;
  source: string;
  created_at: string;
}

/** Tenant plans (0002-commerce): a monthly included amount and a discount/markup in basis points. */
export interface TenantPlansTable {
  id: string;
  tenant_id: string;
  name: string;
  included_micros: number | string;
  adjustment_bps: number;
  effective_from: string;
  created_at: string;
}

/** The usage ledger (0002-commerce): one row per billable request; bigint columns read back as strings on PostgreSQL. */
export interface UsageRecordsTable {
  request_id: string;
  tenant_id: string;
  key_id: string;
  endpoint: string;
  target: string | null;
  model: string | null;
  kind: string;
  status: string;
  input_tokens: number | string;
  output_tokens: number | string;
  items: number | string;
  price_version_id: string | null;
  currency: string;
  cost_micros: number | string;
  input_cost_micros: number | string;
  output_cost_micros: number | string;
  time: string;
}

/** Daily usage rollup per tenant/day/endpoint/key (0002-commerce), maintained with each ledger batch. */
export interface UsageDailyTable {
  tenant_id: string;
  day: string;
  endpoint: string;
  key_id: string;
  requests: number | string;
  input_tokens: number | string;
  output_tokens: number | string;
  items: number | string;
  cost_micros: number | string;
}

/** Finalized, immutable invoices (0002-commerce). */
export interface InvoicesTable {
  id: string;
  tenant_id: string;
  period: string;
  currency: string;
  total_micros: number | string;
  document: string;
  finalized_at: string;
}

export interface RequestLogTable {
  request_id: string;
  time: string;
  tenant_id: string | null;
  key_id: string | null;
  end_user_hash: string | null;
  protocol: string;
  method: string;
  path: string;
  endpoint: string | null;
  target: string | null;
  model_version: string | null;
  status: number;
  error_code: string | null;
  latency_us: number | string;
  overhead_us: number | string;
  input_tokens: number | string | null;
  output_tokens: number | string | null;
  cost_micros: number | string | null;
  cache_hit: number;
  stream: number;
  guard_verdicts: string | null;
  request_payload: string | null;
  response_payload: string | null;
}

export interface WebhooksTable {
  id: string;
  tenant_id: string;
  url: string;
  created_at: string;
  disabled_at: string | null;
}

export interface AlertsTable {
  id: string;
  tenant_id: string | null;
  kind: string;
  dedup_key: string;
  severity: string;
  summary: string;
  /** JSON object. */
  details: string;
  first_fired_at: string;
  last_fired_at: string;
  occurrences: number;
  delivered_at: string | null;
  delivery_attempts: number;
  last_error: string | null;
}

/** Immutable dataset versions (training/datasets); JSON columns are text in both dialects. */
export interface DatasetVersionsTable {
  tenant_id: string;
  name: string;
  /** sha256 hex of the canonical serialisation. */
  version: string;
  created_at: string;
  row_count: number;
  /** bigint: PostgreSQL returns it as a string. */
  byte_size: number | string;
  schema: string;
  quality: string;
  declared: string;
  source: string;
}

export interface PredictionsTable {
  request_id: string;
  tenant_id: string;
  endpoint: string;
  target: string | null;
  model_version: string | null;
  predicted_label: string;
  created_at: string;
}

export interface FeedbackTable {
  request_id: string;
  tenant_id: string;
  endpoint: string | null;
  target: string | null;
  model_version: string | null;
  label: string | null;
  score: number | null;
  /** +1 or -1. */
  thumbs: number | null;
  request_at: string;
  created_at: string;
  updated_at: string;
}

export interface RollbackEventsTable {
  id: string;
  tenant_id: string | null;
  endpoint: string;
  target: string;
  stable_target: string;
  /** JSON array of strings. */
  reasons: string;
  /** JSON object: the compared metrics. */
  metrics: string;
  at: string;
  reset_at: string | null;
  reset_by: string | null;
}

/** Registry: one immutable model version (see migrations/0009-registry.ts). */
export interface ModelVersionsTable {
  /** A tenant id, or `_global` for operator-owned models. */
  namespace: string;
  name: string;
  version: number;
  created_at: string;
  created_by: string;
  sha256: string;
  /** `tfjs` or `onnx`. */
  format: string;
  task: string | null;
  /** JSON text (signature.json), null when the artifact has none. */
  signature: string | null;
  metrics: string;
  lineage: string;
  card: string;
}

export interface ModelAliasesTable {
  namespace: string;
  name: string;
  alias: string;
  version: number;
  updated_at: string;
}

export interface ModelAliasHistoryTable {
  id: string;
  namespace: string;
  name: string;
  alias: string;
  from_version: number | null;
  to_version: number;
  actor: string;
  reason: string | null;
  /** 1 when the promotion gate was overridden. */
  overridden: number;
  created_at: string;
}

/** Training runs (training/tracking, migrations/0010-training.ts). */
export interface TrainingRunsTable {
  id: string;
  tenant_id: string;
  name: string;
  /** `trainer` (modelport train) or `external` (modelport run). */
  kind: string;
  /** queued | running | succeeded | failed. */
  status: string;
  /** JSON object. */
  params: string;
  /** `name@sha256` of the dataset version, when known. */
  dataset: string | null;
  git_commit: string | null;
  command: string | null;
  exit_code: number | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  duration_ms: number | null;
}

export interface TrainingRunMetricsTable {
  tenant_id: string;
  run_id: string;
  step: number;
  name: string;
  value: number;
  recorded_at: string;
}

export interface TrainingRunArtifactsTable {
  tenant_id: string;
  run_id: string;
  path: string;
  sha256: string;
  /** bigint: PostgreSQL returns it as a string. */
  size: number | string;
  created_at: string;
}

export interface Database {
  tenants: TenantsTable;
  api_keys: ApiKeysTable;
  users: UsersTable;
  request_log: RequestLogTable;
  webhooks: WebhooksTable;
  alerts: AlertsTable;
  settings: SettingsTable;
  tenant_data_keys: TenantDataKeysTable;
  audit_entries: AuditEntriesTable;
  audit_checkpoints: AuditCheckpointsTable;
  price_versions: PriceVersionsTable;
  tenant_plans: TenantPlansTable;
  usage_records: UsageRecordsTable;
  usage_daily: UsageDailyTable;
  invoices: InvoicesTable;
  dataset_versions: DatasetVersionsTable;
  predictions: PredictionsTable;
  feedback: FeedbackTable;
  rollback_events: RollbackEventsTable;
  model_versions: ModelVersionsTable;
  model_aliases: ModelAliasesTable;
  model_alias_history: ModelAliasHistoryTable;
  training_runs: TrainingRunsTable;
  training_run_metrics: TrainingRunMetricsTable;
  training_run_artifacts: TrainingRunArtifactsTable;
  model_reference_profiles: ModelReferenceProfilesTable;
  drift_windows: DriftWindowsTable;
  drift_reports: DriftReportsTable;
}

/** Drift: a registry version's reference profile (migrations/0011-drift.ts). */
export interface ModelReferenceProfilesTable {
  namespace: string;
  name: string;
  version: number;
  /** `artifact` (the trainer's reference-profile.json), `json` or `csv` (given at registration). */
  source: string;
  rows: number;
  /** JSON array of the profile's column names. */
  columns: string;
  /** JSON text of the ReferenceProfile. */
  profile: string;
  created_at: string;
}

/** A live drift window of one endpoint and registry version; `closed_at` null while open. */
export interface DriftWindowsTable {
  id: string;
  endpoint: string;
  model: string;
  model_version: number;
  started_at: string;
  updated_at: string;
  closed_at: string | null;
  rows: number;
  /** JSON text of the WindowProfile. */
  snapshot: string;
}

export interface DriftReportsTable {
  id: string;
  endpoint: string;
  model: string;
  model_version: number;
  window_id: string;
  window_started_at: string;
  checked_at: string;
  rows: number;
  drift_share: number;
  /** 1 when the dataset drifted. */
  dataset_drift: number;
  /** JSON text of the ProfileDriftReport. */
  report: string;
  alert_id: string | null;
}
