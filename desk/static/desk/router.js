// Routes within the page, by the URL's fragment: `#/` (episodes) and `#/episodes/<id>`.
// The server serves only `/`, so a reload or a shared link lands on the same view.

import { reactive } from "vue";

export const route = reactive({ name: "list", id: null });

function read() {
  const match = location.hash.match(/^#\/episodes\/(\d+)$/);
  route.name = match ? "episode" : "list";
  route.id = match ? Number(match[1]) : null;
}

export function watchRoute(onChange) {
  read();
  window.addEventListener("hashchange", () => {
    read();
    onChange();
  });
}

export const episodeHref = (id) => `#/episodes/${id}`;
