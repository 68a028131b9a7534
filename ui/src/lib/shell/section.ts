// Brings a page's section into view when the navigation named one ("Project settings → Where
// it runs"). Each section's heading carries the id `section-<name>`.

/** The id a section's heading carries. */
export function sectionId(name: string): string {
  return `section-${name}`;
}

/** Scrolls the section `name` into view once it is in the page; false when it is not there. */
export function revealSection(name: string | null | undefined): boolean {
  if (!name || typeof document === "undefined") return false;
  const element = document.getElementById(sectionId(name));
  if (!element) return false;
  element.scrollIntoView?.({ block: "start" });
  return true;
}
