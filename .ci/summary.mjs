// Prints vitest's JSON report as the plain closing line "N passed, N failed, N skipped".
// Exits 1 when the report is missing or counted no test, so an empty run cannot look green.
import { readFileSync } from "node:fs";

const path = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(path, "utf8"));
} catch (error) {
  console.log("0 passed, 0 failed");
  console.error(`no test report at ${path}: ${error.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A file whose setup threw (a failed beforeAll) reports its tests as skipped, not failed:
// count each such file as one failure, so a broken suite cannot print "0 failed".
const brokenFiles = (report.testResults ?? []).filter(
  (file) =>
    file.status === "failed" &&
    !(file.assertionResults ?? []).some((test) => test.status === "failed"),
).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(passed === 0 || failed > 0 ? 1 : 0);
