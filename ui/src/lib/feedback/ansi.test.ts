import { render } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import AnsiText from "./AnsiText.svelte";
import { parseAnsi, stripAnsi } from "./ansi";

const ESC = "\x1b";

describe("terminal colour codes", () => {
  it("leaves plain text as one plain piece", () => {
    expect(parseAnsi("Listening on :8000")).toEqual([{ text: "Listening on :8000", style: "" }]);
  });

  it("colours the text after a code and stops at the reset", () => {
    const pieces = parseAnsi(`${ESC}[31mERROR${ESC}[0m app crashed`);
    expect(pieces.map((piece) => piece.text)).toEqual(["ERROR", " app crashed"]);
    expect(pieces[0]?.style).toBe("color: #ff7b72");
    expect(pieces[1]?.style).toBe("");
  });

  it("keeps bold across a colour change and reads bright, 256 and true colours", () => {
    const pieces = parseAnsi(`${ESC}[1m${ESC}[92mok ${ESC}[38;5;196mred ${ESC}[38;2;1;2;3mrgb`);
    expect(pieces).toEqual([
      { text: "ok ", style: "color: #a5f0b0; font-weight: 700" },
      { text: "red ", style: "color: rgb(255, 0, 0); font-weight: 700" },
      { text: "rgb", style: "color: rgb(1, 2, 3); font-weight: 700" },
    ]);
  });

  it("drops escapes that are not colours: cursor moves, titles, erase", () => {
    expect(stripAnsi(`${ESC}[2K${ESC}[1Gdone${ESC}]0;title${ESC}\\ ${ESC}[33mwarn${ESC}[m`)).toBe("done warn");
    expect(parseAnsi(`${ESC}[2Kdone`)).toEqual([{ text: "done", style: "" }]);
  });

  it("strips every code, leaving the words", () => {
    expect(stripAnsi(`${ESC}[1;31mF401${ESC}[0m 'json' imported but unused`)).toBe("F401 'json' imported but unused");
    expect(stripAnsi("no codes")).toBe("no codes");
  });

  it("draws the colours, and no code reaches the page", () => {
    const { container } = render(AnsiText, { text: `${ESC}[32m * Running on http://0.0.0.0:8000${ESC}[0m (Press CTRL+C)` });
    expect(container.textContent).toBe(" * Running on http://0.0.0.0:8000 (Press CTRL+C)");
    const coloured = container.querySelector("span");
    expect(coloured?.textContent).toBe(" * Running on http://0.0.0.0:8000");
    expect(coloured?.getAttribute("style")).toContain("color");
  });
});
