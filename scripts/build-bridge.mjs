// Builds the MCP bridge (clara-mcp, crates/mcp-bridge) for an installer and puts it where
// src-tauri/bridge.conf.json's externalBin looks for it: target/bridge/clara-mcp-TRIPLE, the
// name Tauri expects of a program it installs beside the app. The Tauri CLI runs this before
// it builds the app (beforeBuildCommand), with the target in TAURI_ENV_TARGET_TRIPLE.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const host = /host: (\S+)/.exec(execFileSync("rustc", ["-vV"], { encoding: "utf8" }))?.[1];
const triple = process.env.TAURI_ENV_TARGET_TRIPLE || host;
if (!triple) {
  console.error("build-bridge: rustc -vV names no host target, and TAURI_ENV_TARGET_TRIPLE is unset");
  process.exit(1);
}
const cross = triple !== host;
const args = ["build", "--release", "--locked", "-p", "clara-mcp", ...(cross ? ["--target", triple] : [])];
execFileSync("cargo", args, { stdio: "inherit" });

const exe = triple.includes("windows") ? ".exe" : "";
const targetDir = process.env.CARGO_TARGET_DIR || "target";
const built = join(targetDir, ...(cross ? [triple] : []), "release", `clara-mcp${exe}`);
mkdirSync(join("target", "bridge"), { recursive: true });
const staged = join("target", "bridge", `clara-mcp-${triple}${exe}`);
copyFileSync(built, staged);
console.log(`build-bridge: ${built} -> ${staged}`);
