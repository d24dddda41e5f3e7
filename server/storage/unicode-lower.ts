/**
 * Lower case, one code point at a time, as PostgreSQL's lower() maps them in
 * a UTF-8 database (the C library's towlower): to one code point (İ becomes
 * i, where JavaScript's toLowerCase adds a combining dot), and never
 * depending on its neighbours (JavaScript's toLowerCase turns a final Σ
 * into ς).
 */
export function unicodeLower(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the whole ASCII range
  if (/^[\u0000-\u007f]*$/.test(text)) return text.toLowerCase();
  let lowered = "";
  for (const character of text) lowered += String.fromCodePoint(character.toLowerCase().codePointAt(0) ?? 0);
  return lowered;
}
