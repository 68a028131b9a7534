// Terminal colour codes (ANSI SGR sequences) in program output, read into styled pieces so a
// log shows colours instead of `\x1b[31m`. Every other escape sequence (cursor moves, titles,
// links) is dropped: a log view has no cursor.

/** A run of text with the style the codes before it set. */
export interface AnsiPiece {
  text: string;
  /** CSS for an inline `style` attribute; empty for plain text. */
  style: string;
}

interface Pen {
  fg: string | null;
  bg: string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
}

const plainPen = (): Pen => ({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false });

// Readable on the logs' dark background (#111822): the 8 colours, then their bright forms.
const PALETTE = [
  "#6e7681", "#ff7b72", "#7ee787", "#e3b341", "#79c0ff", "#d2a8ff", "#56d4dd", "#d6dde8",
  "#8b949e", "#ffa198", "#a5f0b0", "#f2cc60", "#a5d6ff", "#e2c5ff", "#7ee8f0", "#ffffff",
];

// CSI (ESC [ … final byte), OSC (ESC ] … BEL or ESC \), and two-byte escapes.
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[([0-9;:?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

/** The text without any escape sequence: for copying, searching and screen readers. */
export function stripAnsi(text: string): string {
  return text.includes("\x1b") ? text.replace(ESCAPES, "") : text;
}

/** The text in pieces, each with the style its codes set. Plain text is one plain piece. */
export function parseAnsi(text: string): AnsiPiece[] {
  if (!text.includes("\x1b")) return [{ text, style: "" }];
  const pieces: AnsiPiece[] = [];
  let pen = plainPen();
  let at = 0;
  const push = (part: string) => {
    if (part === "") return;
    const style = penStyle(pen);
    const last = pieces[pieces.length - 1];
    if (last && last.style === style) last.text += part;
    else pieces.push({ text: part, style });
  };
  for (const match of text.matchAll(ESCAPES)) {
    push(text.slice(at, match.index));
    at = match.index + match[0].length;
    if (match[2] === "m") pen = applySgr(pen, match[1] ?? "");
  }
  push(text.slice(at));
  return pieces;
}

function applySgr(current: Pen, params: string): Pen {
  const pen = { ...current };
  const codes = params === "" ? [0] : params.split(/[;:]/).map((code) => Number(code) || 0);
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i] ?? 0;
    if (code === 0) Object.assign(pen, plainPen());
    else if (code === 1) pen.bold = true;
    else if (code === 2) pen.dim = true;
    else if (code === 3) pen.italic = true;
    else if (code === 4) pen.underline = true;
    else if (code === 7) pen.inverse = true;
    else if (code === 22) pen.bold = pen.dim = false;
    else if (code === 23) pen.italic = false;
    else if (code === 24) pen.underline = false;
    else if (code === 27) pen.inverse = false;
    else if (code >= 30 && code <= 37) pen.fg = PALETTE[code - 30] ?? null;
    else if (code >= 90 && code <= 97) pen.fg = PALETTE[code - 90 + 8] ?? null;
    else if (code === 39) pen.fg = null;
    else if (code >= 40 && code <= 47) pen.bg = PALETTE[code - 40] ?? null;
    else if (code >= 100 && code <= 107) pen.bg = PALETTE[code - 100 + 8] ?? null;
    else if (code === 49) pen.bg = null;
    else if (code === 38 || code === 48) {
      const [colour, used] = extendedColour(codes, i + 1);
      if (code === 38) pen.fg = colour;
      else pen.bg = colour;
      i += used;
    }
  }
  return pen;
}

/** `5;n` (the 256-colour table) or `2;r;g;b`, from `codes[from]`; the colour and how many codes it used. */
function extendedColour(codes: number[], from: number): [string | null, number] {
  if (codes[from] === 5 && from + 1 < codes.length) return [colour256(codes[from + 1] ?? 0), 2];
  if (codes[from] === 2 && from + 3 < codes.length) {
    const [r = 0, g = 0, b = 0] = codes.slice(from + 1, from + 4).map((value) => Math.min(255, value));
    return [`rgb(${r}, ${g}, ${b})`, 4];
  }
  return [null, 0];
}

function colour256(n: number): string | null {
  if (n < 16) return PALETTE[n] ?? null;
  if (n < 232) {
    const steps = [0, 95, 135, 175, 215, 255];
    const index = n - 16;
    const step = (at: number) => steps[at % 6] ?? 0;
    return `rgb(${step(Math.floor(index / 36))}, ${step(Math.floor(index / 6))}, ${step(index)})`;
  }
  if (n < 256) {
    const grey = 8 + (n - 232) * 10;
    return `rgb(${grey}, ${grey}, ${grey})`;
  }
  return null;
}

function penStyle(pen: Pen): string {
  const fg = pen.inverse ? (pen.bg ?? "#111822") : pen.fg;
  const bg = pen.inverse ? (pen.fg ?? "#d6dde8") : pen.bg;
  const parts: string[] = [];
  if (fg) parts.push(`color: ${fg}`);
  if (bg) parts.push(`background-color: ${bg}`);
  if (pen.bold) parts.push("font-weight: 700");
  if (pen.dim) parts.push("opacity: 0.7");
  if (pen.italic) parts.push("font-style: italic");
  if (pen.underline) parts.push("text-decoration: underline");
  return parts.join("; ");
}
