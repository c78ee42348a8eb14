import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestGateway, type TestGateway } from "./helpers/gateway.js";
import {
  gaugeValue,
  importTabularDataset,
  readEventStream,
  restartMidTraining,
  trainOverAdminApi,
} from "./training-admin-scenario.js";

/**
 * Training through the server's own job queue (in-process, no Redis): the admin API submits,
 * lists and shows jobs, streams their progress as Server-Sent Events, and shows tracked runs.
 */
describe("training over the admin API (in-process queue)", () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({});
    await importTabularDataset(gateway, "tabular");
  });
  after(async () => {
    await gateway?.close();
  });

  const post = (body: unknown) =>
    gateway.admin("/admin/v1/training/jobs", { method: "POST", body: JSON.stringify(body) });
  const error = async (response: Response) =>
    ((await response.json()) as { error: { code: string; message: string; param: string | null } }).error;

  test("submit → SSE epochs in order → final status succeeded with the run id; jobs and runs listed", async () => {
    await trainOverAdminApi(gateway, "tabular");
    assert.equal(await gaugeValue(gateway, 'modelport_training_jobs{status="succeeded"}'), 1);
    assert.equal(await gaugeValue(gateway, 'modelport_training_jobs{status="running"}'), 0);
    assert.equal(await gaugeValue(gateway, "modelport_training_queue_depth"), 0);
  });

  test("bad bodies are 400s naming the field; an unknown dataset or tenant is a 404 at submit time", async () => {
    const cases: [unknown, string][] = [
      [{ template: "mlp" }, "dataset"],
      [{ dataset: "tabular", template: "gpt" }, "template"],
      [{ dataset: "tabular", template: "mlp", hyperparameters: { epochs: 0 } }, "hyperparameters.epochs"],
      [{ dataset: "tabular", template: "mlp", hyperparameters: { optimizer: "lbfgs" } }, "hyperparameters.optimizer"],
      [{ dataset: "tabular", template: "mlp", seed: -1 }, "seed"],
      [{ dataset: "tabular", template: "mlp", seed: 1.5 }, "seed"],
    ];
    for (const [body, field] of cases) {
      const response = await post(body);
      const body400 = await error(response);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(body400.code, "MP_INVALID_REQUEST");
      assert.equal(body400.param, field, `${JSON.stringify(body)}: ${body400.message}`);
      assert.match(body400.message, new RegExp(field.replace(".", "\\.")));
    }
    const unknownField = await post({ dataset: "tabular", template: "mlp", epochs: 3 });
    assert.equal(unknownField.status, 400);
    assert.match((await error(unknownField)).message, /unknown field\(s\): epochs/);
    const notJson = await gateway.admin("/admin/v1/training/jobs", { method: "POST", body: "{nope" });
    assert.equal(notJson.status, 400);

    const missing = await post({ dataset: "no-such-data", template: "mlp", tenant: "acme" });
    assert.equal(missing.status, 404);
    assert.deepEqual(await error(missing), {
      code: "MP_NOT_FOUND",
      message: "no dataset named 'no-such-data'",
      param: "dataset",
    });
    const badVersion = await post({ dataset: "tabular@ffffffff", template: "mlp" });
    assert.equal(badVersion.status, 404);
    assert.equal((await error(badVersion)).param, "dataset");
    const noTenant = await post({ dataset: "tabular", template: "mlp", tenant: "nobody" });
    assert.equal(noTenant.status, 404);
    assert.equal((await error(noTenant)).param, "tenant");
    // Nothing was queued by any of these.
    const jobs = (await (await gateway.admin("/admin/v1/training/jobs")).json()) as { data: unknown[] };
    assert.equal(jobs.data.length, 1);
  });

  test("unknown jobs and runs are 404s; bad filters are 400s", async () => {
    for (const path of [
      "/admin/v1/training/jobs/run_nope",
      "/admin/v1/training/jobs/run_nope/events",
      "/admin/v1/runs/run_nope?tenant=acme",
    ]) {
      const response = await gateway.admin(path);
      assert.equal(response.status, 404, path);
      assert.equal((await error(response)).code, "MP_NOT_FOUND");
    }
    const badStatus = await gateway.admin("/admin/v1/training/jobs?status=done");
    assert.equal(badStatus.status, 400);
    assert.equal((await error(badStatus)).param, "status");
    const badLimit = await gateway.admin("/admin/v1/runs?limit=0");
    assert.equal((await error(badLimit)).param, "limit");
  });

  test("the OpenAPI document lists the routes with their permissions, body schema and the SSE media type", async () => {
    interface Operation {
      "x-modelport-permission": string;
      requestBody: {
        content: Record<string, { schema: { required: string[]; properties: { template: { enum: string[] } } } }>;
      };
      responses: Record<string, { content: Record<string, unknown> }>;
    }
    const document = (await (await fetch(`${gateway.url}/admin/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const operation = (path: string, method: string) => document.paths[path]?.[method] as Operation;
    assert.equal(operation("/training/jobs", "post")["x-modelport-permission"], "training:manage");
    const schema = operation("/training/jobs", "post").requestBody.content["application/json"]?.schema;
    assert.ok(schema);
    assert.deepEqual(schema.required, ["dataset", "template"]);
    assert.ok(schema.properties.template.enum.includes("regression"));
    for (const [path, method] of [
      ["/training/jobs", "get"],
      ["/training/jobs/{job}", "get"],
      ["/training/jobs/{job}/events", "get"],
      ["/runs", "get"],
      ["/runs/{run}", "get"],
    ] as const)
      assert.equal(operation(path, method)?.["x-modelport-permission"], "training:read", `${method} ${path}`);
    const events = operation("/training/jobs/{job}/events", "get").responses["200"];
    assert.ok(events && "text/event-stream" in events.content);
  });

  test("operator only: a tenant owner's admin key is refused; a job that fails streams its error", async () => {
    const keyResponse = await gateway.admin(`/admin/v1/tenants/${gateway.tenantId}/keys`, {
      method: "POST",
      body: JSON.stringify({ scopes: ["admin"], role: "owner" }),
    });
    const { key } = (await keyResponse.json()) as { key: string };
    const asOwner = await fetch(`${gateway.url}/admin/v1/training/jobs`, {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(asOwner.status, 403);

    // bow needs a text column: accepted (the dataset exists), then fails while training.
    const submitted = await post({ dataset: "tabular", template: "bow", tenant: "acme" });
    assert.equal(submitted.status, 201);
    const { id } = (await submitted.json()) as { id: string };
    const { events } = await readEventStream(await gateway.admin(`/admin/v1/training/jobs/${id}/events`));
    const final = events[events.length - 1];
    assert.equal(final?.event, "status");
    const data = final?.data as { status: string; error: string };
    assert.equal(data.status, "failed");
    assert.match(data.error, /text column/);
    const run = (await (await gateway.admin(`/admin/v1/runs/${id}?tenant=acme`)).json()) as {
      run: { status: string; error: string };
    };
    assert.equal(run.run.status, "failed");
    assert.match(run.run.error, /text column/);
    assert.equal(await gaugeValue(gateway, 'modelport_training_jobs{status="failed"}'), 1);
  });

  test("a job stopped by a shutdown is journaled and the next server trains it", async () => {
    await restartMidTraining(gateway, "tabular");
  });
});
