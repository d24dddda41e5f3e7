/**
 * Writes docs/configuration.md from the declarations in
 * server/config/settings.ts, so the page cannot disagree with what the
 * server reads. `npm run docs:config` runs it; test/unit/config-docs.test.ts
 * fails when the page on disk differs from what this produces.
 */

import { type GroupName, type Setting, type SettingName, settingGroups, settings } from "../../server/config/settings.js";

/** The command that rewrites the page, named wherever the page is found stale. */
export const regenerateCommand = "npm run docs:config";

/** docs/configuration.md, exactly as it should be on disk. */
export function configurationPage(): string {
  const groups = Object.keys(settingGroups) as GroupName[];
  const lines = [
    "# Configuration",
    "",
    `<!-- Generated from server/config/settings.ts by \`${regenerateCommand}\`: edit the declarations there, not this page. -->`,
    "",
    "Everything comes from environment variables, read once at start and checked",
    "before any port is opened. A blank value counts as unset. Numbers are whole",
    "numbers within the range shown (durations in milliseconds, sizes in bytes);",
    "words such as `on`/`off` and `true`/`false` may be written in any case; lists",
    "are comma-separated, blanks around entries ignored. Settings that only make",
    "sense together (`TLS_CERT` with `TLS_KEY`, `METRICS_HOST` with `METRICS_PORT`,",
    "authentication with `HOST`) are checked together. A bad value stops the server",
    "with one line naming the variable and exit code 1, e.g.",
    `\`configuration error: PORT must be a whole number from ${settings.PORT.min} to ${settings.PORT.max}, got "abc"\`.`,
    "",
    groups.map((group) => `[${settingGroups[group].title}](#${anchor(settingGroups[group].title)})`).join(" · "),
  ];
  for (const group of groups) {
    const { title, about, page } = settingGroups[group];
    lines.push("", `## ${title}`, "", about + (page === undefined ? "" : ` See [${page.title}](${page.href}).`), "");
    lines.push("| variable | default | meaning |", "|---|---|---|");
    for (const name of settingNames().filter((each) => settings[each].group === group)) {
      const setting: Setting = settings[name];
      lines.push(`| \`${name}\` | ${defaultCell(setting)} | ${cell(setting.description)}. *${accepts(setting)}.* |`);
    }
  }
  return `${lines.join("\n")}\n`;
}

export function settingNames(): SettingName[] {
  return Object.keys(settings) as SettingName[];
}

/** The default as the documentation shows it: words when it is computed, else the value, else "unset". */
export function defaultCell(setting: Setting): string {
  if (setting.defaultText !== undefined) return setting.defaultText;
  const value = literalDefault(setting);
  if (value === undefined) return "unset";
  const hint = setting.kind === "integer" ? readable(setting.default ?? 0, setting.unit) : undefined;
  return hint === undefined ? value : `${value} (${hint})`;
}

/** The declared default in backticks as one would write it in the environment, or undefined when there is none. */
export function literalDefault(setting: Setting): string | undefined {
  if (!("default" in setting) || setting.default === undefined) return undefined;
  const value = setting.default;
  return `\`${Array.isArray(value) ? value.join(",") : String(value)}\``;
}

/** What a value must look like, as a sentence. */
function accepts(setting: Setting): string {
  switch (setting.kind) {
    case "integer": {
      const noun = setting.unit === "ms" ? "Milliseconds" : setting.unit === "bytes" ? "Bytes" : "A whole number";
      const words = (setting.words ?? []).map((word) => `, or \`${word}\``).join("");
      return `${noun}, ${setting.min} to ${setting.max}${words}`;
    }
    case "oneOf":
      return `One of ${setting.values.map((value) => `\`${value}\``).join(", ")}`;
    case "boolean":
      return "`true` or `false`";
    case "list":
      return `Comma-separated ${setting.accepts}`;
    case "text":
      return setting.accepts.charAt(0).toUpperCase() + setting.accepts.slice(1);
  }
}

/** 600000 ms as "10 min", 4194304 bytes as "4 MiB": only when exact, and only above the base unit. */
function readable(value: number, unit: "ms" | "bytes" | undefined): string | undefined {
  const scales: readonly (readonly [number, string])[] =
    unit === "ms"
      ? [
          [3_600_000, "h"],
          [60_000, "min"],
          [1_000, "s"],
        ]
      : unit === "bytes"
        ? [
            [1024 * 1024, "MiB"],
            [1024, "KiB"],
          ]
        : [];
  const scale = scales.find(([size]) => value >= size && value % size === 0);
  return scale === undefined ? undefined : `${value / scale[0]} ${scale[1]}`;
}

/** A pipe inside a table cell would end the cell. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens. */
function anchor(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replaceAll(" ", "-");
}
