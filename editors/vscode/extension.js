// Starts `voyager lsp` for Voyager files. Highlighting, brackets and
// snippets are declarative and work without it: when the binary cannot be
// found (or the client cannot start), the extension shows one warning and
// stays out of the way.
"use strict";
const vscode = require("vscode");
const { spawnSync } = require("child_process");

let client;

function warn(why) {
  vscode.window.showWarningMessage(
    `Voyager: the language server is not running (${why}). Highlighting still works; ` +
      'set "voyager.path" to the voyager binary for diagnostics, hover, completion and navigation.'
  );
}

async function activate(context) {
  const command = vscode.workspace.getConfiguration("voyager").get("path") || "voyager";
  // `voyager --version` first: a missing binary is one clear warning rather
  // than the client's retries and output channel.
  const probe = spawnSync(command, ["--version"], { encoding: "utf8", timeout: 10000 });
  if (probe.error || probe.status !== 0) {
    warn(probe.error ? `${command}: ${probe.error.message}` : `${command} --version failed`);
    return;
  }
  let LanguageClient;
  try {
    ({ LanguageClient } = require("vscode-languageclient/node"));
  } catch (e) {
    warn(`vscode-languageclient is not installed: ${e.message}`);
    return;
  }
  client = new LanguageClient(
    "voyager",
    "Voyager",
    { command, args: ["lsp"] },
    { documentSelector: [{ language: "voyager" }] }
  );
  try {
    await client.start();
  } catch (e) {
    client = undefined;
    warn(`${command} lsp: ${e.message}`);
  }
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
