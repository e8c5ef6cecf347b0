import type { Message } from "@anthropic-ai/sdk/resources/messages";
import type { ChatCompletion } from "openai/resources/chat/completions";
import { describe, expect, it } from "vitest";
import { fromAnthropicMessage, toAnthropicParams } from "../../../core/llm/anthropic";
import { LlmError } from "../../../core/llm/errors";
import { fromChatCompletion, toChatCompletionParams } from "../../../core/llm/openai";
import { createConfiguredProviders } from "../../../core/llm/providers";
import type { CompletionRequest } from "../../../core/llm/types";

const req: CompletionRequest = {
  model: "claude-haiku-5-5",
  system: "be brief",
  messages: [
    { role: "user", content: "hi" },
    { role: "assistant", content: "hello" },
    { role: "user", content: "2+2?" },
  ],
  maxTokens: 100,
  timeoutMs: 1_000,
};

describe("Anthropic mapping", () => {
  it("sends system at top level and omits it when blank", () => {
    expect(toAnthropicParams(req)).toEqual({
      model: "claude-haiku-5-5",
      max_tokens: 100,
      system: "be brief",
      messages: req.messages,
    });
    expect(toAnthropicParams({ ...req, system: " " })).not.toHaveProperty("system");
  });

  it("joins text blocks and reads usage", () => {
    const message = {
      id: "msg_1",
      type: "message",
      role: "assistant",
      model: "claude-haiku-5-5",
      content: [
        { type: "thinking", thinking: "hmm", signature: "s" },
        { type: "text", text: "4", citations: null },
        { type: "text", text: ".", citations: null },
      ],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: 12, output_tokens: 3 },
    } as unknown as Message;
    expect(fromAnthropicMessage(message, "x")).toEqual({
      text: "4.",
      model: "claude-haiku-5-5",
      provider: "anthropic",
      inputTokens: 12,
      outputTokens: 3,
    });
  });
});

describe("chat-completions mapping", () => {
  it("puts the system prompt first and uses max_completion_tokens by default", () => {
    expect(toChatCompletionParams({ ...req, model: "gpt-5.4" })).toEqual({
      model: "gpt-5.4",
      messages: [{ role: "system", content: "be brief" }, ...req.messages],
      max_completion_tokens: 100,
    });
    expect(toChatCompletionParams({ ...req, system: "" }, "max_tokens")).toEqual({
      model: "claude-haiku-5-5",
      messages: req.messages,
      max_tokens: 100,
    });
  });

  it("reads the first choice, treats null content as empty, rejects no choices", () => {
    const completion = {
      id: "c",
      object: "chat.completion",
      created: 0,
      model: "gpt-5.4",
      choices: [
        {
          index: 0,
          finish_reason: "stop",
          logprobs: null,
          message: { role: "assistant", content: null, refusal: "no" },
        },
      ],
      usage: { prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 },
    } as unknown as ChatCompletion;
    expect(fromChatCompletion(completion, "gpt-5.4")).toEqual({
      text: "",
      model: "gpt-5.4",
      provider: "openai-compatible",
      inputTokens: 5,
      outputTokens: 0,
    });
    expect(() => fromChatCompletion({ ...completion, choices: [] }, "gpt-5.4")).toThrow(LlmError);
  });
});

describe("createConfiguredProviders", () => {
  it("configures Anthropic by API key and the OpenAI-compatible provider by base URL", () => {
    const none = createConfiguredProviders({ anthropic: {}, modelManager: { apiKey: "k" } });
    expect(none.providers).toEqual({});
    expect(none.unconfiguredReasons).toEqual({
      anthropic: "ANTHROPIC_API_KEY is not set",
      "openai-compatible": "MODEL_MANAGER_BASE_URL is not set",
    });
    const both = createConfiguredProviders({
      anthropic: { apiKey: "sk-ant-x" },
      modelManager: { baseUrl: "http://127.0.0.1:11434/v1" },
    });
    expect(both.providers.anthropic?.id).toBe("anthropic");
    expect(both.providers["openai-compatible"]?.id).toBe("openai-compatible");
    expect(both.unconfiguredReasons).toEqual({});
  });
});
