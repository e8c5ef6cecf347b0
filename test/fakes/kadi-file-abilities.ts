/**
 * The file abilities of the KĀDI template as the fake broker serves them (`fileAbilities: true`
 * in `startFakeKadiBroker`): names, descriptions and input schemas as the template's abilities
 * advertise them (ability-file-remote, ability-file-cloud, ability-deploy; `execute_remote_command`
 * stands for SSH execute), and realistic answers, including the template's way of reporting a
 * failure (`{success: false, error}`) for input it cannot use.
 */
import { randomBytes } from "node:crypto";

/** One ability the fake serves itself: its listing entry and how it answers. */
export interface FakeAbility {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  /** The ability's result for `input` (no side effects); `now` is epoch ms. */
  answer(input: Record<string, unknown>, now: number): unknown;
}

const str = (description: string) => ({ type: "string", description });
const num = (description: string) => ({ type: "number", description });
const object = (properties: Record<string, unknown>, required: string[] = []) => ({
  type: "object",
  properties,
  ...(required.length > 0 ? { required } : {}),
  additionalProperties: false,
});
const sshConnection = {
  username: str("SSH username"),
  host: str("SSH host"),
  privateKey: str("Path to SSH private key"),
};
const service = { type: "string", enum: ["dropbox", "googledrive", "box"] };

/** `"1h"`, `"30m"`, `"2d"` → ms (default 1 h), as the template's `expiresIn`. */
function durationMs(text: unknown): number {
  const match = /^(\d+)([smhd])$/.exec(typeof text === "string" ? text : "1h");
  if (!match) return 3_600_000;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s"];
  return Number(match[1]) * unit;
}

const id = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

function temporaryUrl(input: Record<string, unknown>, now: number) {
  const filePath = String(input.filePath ?? "");
  if (!filePath) return { success: false, error: "filePath is required" };
  const urlId = id("url");
  const name = filePath.split("/").pop();
  return {
    success: true,
    urlId,
    publicUrl: `https://files-${urlId}.loca.lt/${encodeURIComponent(name ?? "file")}`,
    expiresAt: new Date(now + durationMs(input.expiresIn)).toISOString(),
    ...(input.password ? { accessCode: "protected" } : {}),
  };
}

function tunnel(input: Record<string, unknown>) {
  const tunnelId = id("tunnel");
  return {
    success: true,
    tunnelId,
    publicUrl: `https://${tunnelId}.loca.lt`,
    localPort: typeof input.port === "number" ? input.port : 8080,
    service: typeof input.service === "string" ? input.service : "localtunnel",
  };
}

const ok = (message: string) => ({ success: true, message });

/** The catalog `kadi.ability.list` answers with, in the template's names and shapes. */
export const FAKE_FILE_ABILITIES: readonly FakeAbility[] = [
  {
    name: "local_remote_create_temporary_url",
    description: "Create a temporary shareable URL for a file using local-remote-file-manager",
    inputSchema: object(
      {
        filePath: str("File path to share"),
        expiresIn: { ...str('Expiration time (e.g., "1h", "30m", "2d")'), default: "1h" },
        maxDownloads: num("Maximum number of downloads"),
        password: str("Password protection"),
      },
      ["filePath"],
    ),
    answer: temporaryUrl,
  },
  {
    name: "revoke_temporary_url",
    description: "Revoke a temporary shareable URL",
    inputSchema: object({ urlId: str("URL ID to revoke") }, ["urlId"]),
    answer: (input) => ok(`Temporary URL revoked: ${String(input.urlId)}`),
  },
  {
    name: "local_remote_create_tunnel",
    description: "Create a tunnel for sharing local server using local-remote-file-manager",
    inputSchema: object({
      port: num("Local port to tunnel"),
      service: {
        type: "string",
        enum: ["ngrok", "localtunnel", "serveo", "localhost.run", "pinggy"],
      },
      subdomain: str("Custom subdomain"),
      authToken: str("Authentication token for service"),
    }),
    answer: tunnel,
  },
  {
    name: "local_remote_destroy_tunnel",
    description: "Destroy an active tunnel using local-remote-file-manager",
    inputSchema: object({ tunnelId: str("Tunnel ID to destroy") }, ["tunnelId"]),
    answer: (input) => ok(`Tunnel destroyed: ${String(input.tunnelId)}`),
  },
  {
    name: "cloud_upload_file",
    description: "Upload a file to cloud storage (Dropbox, Google Drive, Box)",
    inputSchema: object(
      {
        serviceName: { ...service, description: "Cloud service name" },
        localPath: str("Local file path to upload"),
        remotePath: str("Remote destination path"),
      },
      ["serviceName", "localPath", "remotePath"],
    ),
    answer: (input) =>
      input.serviceName === "dropbox" ||
      input.serviceName === "googledrive" ||
      input.serviceName === "box"
        ? {
            success: true,
            result: {
              id: id("file"),
              name: String(input.localPath).split("/").pop(),
              remotePath: input.remotePath,
              size: 48_213,
            },
          }
        : { success: false, error: `Unknown service: ${String(input.serviceName)}` },
  },
  {
    name: "cloud_download_file",
    description: "Download a file from cloud storage",
    inputSchema: object(
      {
        serviceName: service,
        remotePath: str("Remote file path"),
        localPath: str("Local destination path"),
      },
      ["serviceName", "remotePath", "localPath"],
    ),
    answer: (input) => ok(`Downloaded to ${String(input.localPath)}`),
  },
  {
    name: "cloud_list_files",
    description: "List files in a cloud storage directory",
    inputSchema: object(
      { serviceName: service, remotePath: str('Remote directory path (default: "/")') },
      ["serviceName"],
    ),
    answer: (input) => ({
      success: true,
      files: [
        { name: "build.tar", path: `${String(input.remotePath ?? "")}/build.tar`, size: 48_213 },
        { name: "notes.md", path: `${String(input.remotePath ?? "")}/notes.md`, size: 912 },
      ],
    }),
  },
  {
    name: "cloud_delete_file",
    description: "Delete a file from cloud storage",
    inputSchema: object({ serviceName: service, remotePath: str("Remote file path to delete") }, [
      "serviceName",
      "remotePath",
    ]),
    answer: (input) => ok(`Deleted ${String(input.remotePath)}`),
  },
  {
    name: "start_registry",
    description: "Start the container registry with optional public tunnel",
    inputSchema: object({
      port: num("Local server port (0 = random)"),
      tunnelService: { type: "string", enum: ["serveo", "ngrok", "localtunnel", "none"] },
      preferredEngine: { type: "string", enum: ["docker", "podman", "auto"] },
    }),
    answer: () => ({
      success: true,
      publicUrl: "https://registry-5f3a.serveo.net",
      localUrl: "http://localhost:5000",
      port: 5000,
      engine: "docker",
      message:
        "Registry started successfully with public access at https://registry-5f3a.serveo.net",
    }),
  },
  {
    name: "add_container",
    description: "Add a container to the registry for sharing",
    inputSchema: object(
      {
        name: str('Container name (e.g., "nginx:latest")'),
        type: { type: "string", enum: ["docker", "podman", "tar", "mock"] },
        image: str("Container image name (for docker/podman)"),
        tarPath: str("Path to tar file (for tar type)"),
      },
      ["name"],
    ),
    answer: (input) => ({
      success: true,
      alias: String(input.name).replace(/[:/]/g, "-"),
      originalName: input.name,
      type: input.type ?? "docker",
      layers: 5,
      message: `Container "${String(input.name)}" added successfully`,
    }),
  },
  {
    name: "stop_registry",
    description: "Stop the container registry and cleanup resources",
    inputSchema: object({}),
    answer: () => ok("Registry stopped successfully"),
  },
  {
    name: "send_file_to_remote_server",
    description: "Upload a file to a remote server via SCP",
    inputSchema: object(
      {
        ...sshConnection,
        localFilePath: str("Local file path"),
        remoteFilePath: str("Remote destination path"),
      },
      ["username", "host", "localFilePath", "remoteFilePath"],
    ),
    answer: () => ok("OK"),
  },
  {
    name: "download_file_from_remote",
    description: "Download a file from a remote server via SCP",
    inputSchema: object(
      {
        ...sshConnection,
        remoteFilePath: str("Remote file path"),
        localFilePath: str("Local destination path"),
      },
      ["username", "host", "remoteFilePath", "localFilePath"],
    ),
    answer: () => ok("OK"),
  },
  {
    name: "execute_remote_command",
    description: "Execute a shell command on a remote server via SSH",
    inputSchema: object({ ...sshConnection, command: str("Command to run") }, [
      "username",
      "host",
      "command",
    ]),
    answer: (input) => ({
      success: true,
      stdout: `ran: ${String(input.command)}\n`,
      stderr: "",
      exitCode: 0,
    }),
  },
];
