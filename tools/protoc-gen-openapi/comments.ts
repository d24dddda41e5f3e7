import type { AnyDesc, DescFile } from "@bufbuild/protobuf";
import { getComments } from "@bufbuild/protoplugin";

/**
 * The leading comment of an element, as written in the .proto file without
 * the one space each `//` line starts with; undefined when there is none.
 */
export function commentOf(desc: Exclude<AnyDesc, DescFile>): string | undefined {
  const text = getComments(desc).leading;
  if (text === undefined) return undefined;
  const cleaned = text
    .split("\n")
    .map((line) => (line.startsWith(" ") ? line.slice(1) : line))
    .join("\n")
    .trim();
  return cleaned === "" ? undefined : cleaned;
}

/** The first sentence of a comment, for an operation's summary (the whole comment is its description). */
export function summaryOf(comment: string | undefined): string | undefined {
  if (comment === undefined) return undefined;
  const paragraph = comment.split(/\n\s*\n/, 1)[0] ?? comment;
  const flat = paragraph.replace(/\s*\n\s*/g, " ");
  const end = flat.search(/[.!?](\s|$)/);
  return end === -1 ? flat : flat.slice(0, end + 1);
}

/** Paragraphs joined with a blank line, the missing ones left out; undefined when none is left. */
export function paragraphs(...parts: Array<string | undefined>): string | undefined {
  const present = parts.filter((part): part is string => part !== undefined && part !== "");
  return present.length === 0 ? undefined : present.join("\n\n");
}
