// The app's pages, in navigation order.
export const pages = [
  { id: "release", label: "Release" },
  { id: "project", label: "Project settings" },
  { id: "history", label: "History" },
  { id: "errors", label: "Errors" },
  { id: "images", label: "Images" },
  { id: "settings", label: "Settings" },
] as const;

export type PageId = (typeof pages)[number]["id"];
