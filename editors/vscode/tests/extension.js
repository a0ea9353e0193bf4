// The extension's entry point, with `vscode` and the language client
// stubbed: a missing binary is one warning and no client; a binary that
// answers `--version` gets `<binary> lsp` started for Voyager documents.
"use strict";
const assert = require("assert");
const Module = require("module");
const pkg = require("../package.json");

assert.strictEqual(pkg.main, "./extension.js");
assert.deepStrictEqual(pkg.activationEvents, ["onLanguage:voyager"]);
assert.strictEqual(pkg.contributes.configuration.properties["voyager.path"].default, "voyager");
assert.ok(pkg.dependencies["vscode-languageclient"], "the client is a dependency, not a dev one");

const state = { path: undefined, warnings: [], clients: [], startFails: false };
const vscode = {
  workspace: { getConfiguration: (section) => ({ get: (key) => (section === "voyager" && key === "path" ? state.path : undefined) }) },
  window: { showWarningMessage: (text) => state.warnings.push(text) },
};
class LanguageClient {
  constructor(id, name, server, options) {
    Object.assign(this, { id, name, server, options, started: false });
    state.clients.push(this);
  }
  async start() {
    if (state.startFails) throw new Error("it crashed");
    this.started = true;
  }
  async stop() {}
}
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "vscode") return vscode;
  if (request === "vscode-languageclient/node") return { LanguageClient };
  return load.call(this, request, ...rest);
};
const extension = require("../extension.js");

async function activate(path, startFails = false) {
  Object.assign(state, { path, warnings: [], clients: [], startFails });
  await extension.activate({ subscriptions: [] });
}

(async () => {
  await activate("/nonexistent/voyager");
  assert.strictEqual(state.warnings.length, 1, "one warning for a missing binary");
  assert.match(state.warnings[0], /\/nonexistent\/voyager/);
  assert.match(state.warnings[0], /Highlighting still works/);
  assert.strictEqual(state.clients.length, 0);

  // Node itself answers `--version`: a stand-in for a voyager binary.
  await activate(process.execPath);
  assert.deepStrictEqual(state.warnings, []);
  assert.strictEqual(state.clients.length, 1);
  const [client] = state.clients;
  assert.deepStrictEqual(client.server, { command: process.execPath, args: ["lsp"] });
  assert.deepStrictEqual(client.options.documentSelector, [{ language: "voyager" }]);
  assert.ok(client.started);
  await extension.deactivate();

  await activate(process.execPath, true);
  assert.strictEqual(state.warnings.length, 1, "one warning when the server does not start");
  assert.match(state.warnings[0], /it crashed/);

  // The default is `voyager` on the PATH.
  await activate(undefined);
  assert.ok(state.warnings.length + state.clients.length === 1);
  console.log("extension.js: ok");
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
