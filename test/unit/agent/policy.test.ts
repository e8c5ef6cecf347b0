import { describe, expect, it } from "vitest";
import { createApprovalPolicy } from "../../../core/agent/approval-policy";
import { compileNameGlobs } from "../../../core/agent/name-globs";
import {
  DEFAULT_APPROVAL_REQUIRED,
  DEFAULT_TOOL_ALLOWLIST,
  TOOL_NAME_PATTERN,
} from "../../../core/constants/agent";

describe("tool-name globs", () => {
  it("matches exact names and *-globs over the whole name, case-sensitively", () => {
    const match = compileNameGlobs(["cloud_*", "*delete*", "start_registry"]);
    expect(match("cloud_upload_file")).toBe(true);
    expect(match("cloud_")).toBe(true);
    expect(match("cloud_delete_file")).toBe(true);
    expect(match("delete_remote_file")).toBe(true);
    expect(match("start_registry")).toBe(true);
    expect(match("start_registry_now")).toBe(false);
    expect(match("my_cloud_upload")).toBe(false);
    expect(match("Cloud_upload_file")).toBe(false);
  });

  it("treats every character but * literally and matches nothing when empty", () => {
    expect(compileNameGlobs(["a.c"])("abc")).toBe(false);
    expect(compileNameGlobs(["a.c"])("a.c")).toBe(true);
    expect(compileNameGlobs(["(x)+"])("(x)+")).toBe(true);
    expect(compileNameGlobs([])("anything")).toBe(false);
    expect(compileNameGlobs(["*"])("anything")).toBe(true);
  });
});

describe("approval policy", () => {
  const policy = createApprovalPolicy(DEFAULT_APPROVAL_REQUIRED);
  const kadi = (name: string) => policy({ name, source: "kadi" });

  it("asks by default for SSH execute, deletes, removes and public tunnels or registries", () => {
    for (const name of [
      "execute_remote_command",
      "cloud_delete_file",
      "delete_remote_folder",
      "remove_container",
      "create_tunnel",
      "local_remote_create_tunnel",
      "start_registry",
    ]) {
      expect(kadi(name), name).toBe(true);
    }
  });

  it("runs download links, cloud uploads and listings, SCP copies and stops without asking", () => {
    for (const name of [
      "local_remote_create_temporary_url",
      "cloud_upload_file",
      "cloud_list_files",
      "download_file_from_remote",
      "send_file_to_remote_server",
      "local_remote_destroy_tunnel",
      "stop_registry",
      "add_container",
    ]) {
      expect(kadi(name), name).toBe(false);
    }
  });

  it("never asks for the agent's own tools, even when a pattern names them", () => {
    const all = createApprovalPolicy(["*"]);
    expect(all({ name: "forget_preference", source: "agent" })).toBe(false);
    expect(all({ name: "forget_preference", source: "kadi" })).toBe(true);
  });

  it("defaults to names both model APIs accept", () => {
    for (const name of DEFAULT_TOOL_ALLOWLIST)
      expect(TOOL_NAME_PATTERN.test(name), name).toBe(true);
  });
});
