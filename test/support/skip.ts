import { describe, test } from "node:test";

/**
 * A suite that runs only when `skipReason` is undefined. node:test leaves
 * skipped suites out of its "skipped" total, so a suite that cannot run is
 * reported as one skipped test with the reason: the summary then shows that
 * something did not run.
 */
export function describeUnless(skipReason: string | undefined, title: string, body: () => void): void {
  if (skipReason === undefined) describe(title, body);
  else test(title, { skip: skipReason }, () => {});
}
