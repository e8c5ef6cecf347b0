/// <reference path="./.sst/platform/config.d.ts" />

/**
 * SST v3 app (https://sst.dev/docs/reference/config). Resources live in `infra/`, one file per
 * concern; production keeps its data on removal and is protected from accidental deletes.
 */
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "kadi-chat-agent",
      home: "aws",
      removal: production ? "retain" : "remove",
      protect: production,
    };
  },
  async run() {
    const { memoryTable } = await import("./infra/storage");
    const { chatQueue } = await import("./infra/queues");
    const { http } = await import("./infra/api");
    await import("./infra/workers");
    return {
      table: memoryTable.name,
      chatQueue: chatQueue.url,
      slackEventsUrl: $interpolate`${http.url}slack/events`,
      healthUrl: $interpolate`${http.url}health`,
    };
  },
});
