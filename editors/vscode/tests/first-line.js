// The extension claims a file by its first line only (`.vy` is also
// Vyper's extension): VS Code tries `firstLine` when no extension or file
// name matched, as `new RegExp(firstLine)` against the file's first line.
"use strict";
const assert = require("assert");
const pkg = require("../package.json");

const [language] = pkg.contributes.languages;
assert.strictEqual(language.id, "voyager");
assert.strictEqual(language.extensions, undefined, "claiming .vy by extension would take Vyper's files");
const firstLine = new RegExp(language.firstLine);

const voyager = [
  "// voyager",
  "// Voyager: build and deploy",
  "//voyager",
  "#!/usr/bin/env voyager",
  "#!/usr/bin/env -S voyager run",
  "#!/home/me/.cargo/bin/voyager run --clock virtual",
];
const other = [
  "# @version ^0.3.10",
  "#pragma version 0.4.0",
  "# voyager",
  "\"\"\" A Vyper contract \"\"\"",
  "// The seed example: A first, then B and C concurrently.",
  "// voyagers",
  "let x = 1 // voyager",
  "",
];
for (const line of voyager) {
  assert.ok(firstLine.test(line), `should claim a file starting ${JSON.stringify(line)}`);
}
for (const line of other) {
  assert.ok(!firstLine.test(line), `should not claim a file starting ${JSON.stringify(line)}`);
}
console.log(`✓ firstLine claims ${voyager.length} first lines and leaves ${other.length} alone.`);
