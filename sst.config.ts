/// <reference path="./.sst/platform/config.d.ts" />

/**
 * SST v3 app (https://sst.dev/docs/reference/config). Resources live in `infra/`, one file per
 * concern, each a function of what it depends on; `docs/deployment.md` walks through a deploy.
 *
 * Production keeps its data when removed (`removal: "retain"` keeps the DynamoDB table) and is
 * protected from `sst remove`. Provider versions are pinned: `aws` at the version this SST
 * release requires, `digitalocean` at the version of the project's `@pulumi/digitalocean`, so
 * the gateway's Pulumi-mock tests and the deploy use the same resource schemas.
 */
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "kadi-chat-agent",
      home: "aws",
      removal: production ? "retain" : "remove",
      protect: production,
      providers: { aws: "7.20.0", digitalocean: "4.80.1" },
    };
  },
  async run() {
    const production = $app.stage === "production";
    const { createSecrets } = await import("./infra/secrets");
    const { createStorage } = await import("./infra/storage");
    const { createQueues } = await import("./infra/queues");
    const { gatewaySettingsFromEnv, ModelGateway } = await import("./infra/gateway");
    const { functionEnvironment } = await import("./infra/environment");
    const { createHttpApi } = await import("./infra/api");
    const { subscribeWorkers } = await import("./infra/workers");
    const { createCrons } = await import("./infra/crons");

    const secrets = createSecrets();
    const { memoryTable } = createStorage({ production });
    const queues = createQueues();

    // Skipped entirely without DIGITALOCEAN_TOKEN (which the provider itself reads).
    const gatewaySettings = gatewaySettingsFromEnv(process.env);
    const gateway = gatewaySettings
      ? new ModelGateway("Gateway", {
          ...gatewaySettings,
          adminKey: secrets.gatewayAdminKey.value,
          upstreamKey: secrets.gatewayUpstreamKey.value,
          namePrefix: `${$app.name}-${$app.stage}`,
        })
      : undefined;

    const environment = functionEnvironment(process.env, gateway?.url);
    const shared = { memoryTable, queues, secrets, environment };
    const { http } = createHttpApi(shared);
    subscribeWorkers(shared);
    createCrons({ ...shared, kadiBroker: Boolean(environment.KADI_BROKER_URL) });

    return {
      slackEventsUrl: $interpolate`${http.url}slack/events`,
      discordInteractionsUrl: $interpolate`${http.url}discord/interactions`,
      kadiEventsUrl: $interpolate`${http.url}kadi/events`,
      healthUrl: $interpolate`${http.url}health`,
      memoryTable: memoryTable.name,
      chatQueueUrl: queues.chatQueue.url,
      chatDlqUrl: queues.chatDlq.url,
      archiveQueueUrl: queues.archiveQueue.url,
      archiveDlqUrl: queues.archiveDlq.url,
      ...(gateway ? { gatewayUrl: gateway.url, gatewayIp: gateway.ipAddress } : {}),
    };
  },
});
