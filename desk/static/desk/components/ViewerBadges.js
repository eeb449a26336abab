// Who is on this episode now: one badge per user, however many tabs they have open.

export default {
  name: "ViewerBadges",
  props: { viewers: { type: Array, required: true } },
  computed: {
    people() {
      const seen = new Map();
      for (const viewer of this.viewers) seen.set(viewer.user_id, viewer);
      return [...seen.values()].sort((a, b) => a.username.localeCompare(b.username));
    },
  },
  template: `
    <div class="viewers">
      <span id="viewers-label">Here now:</span>
      <ul aria-labelledby="viewers-label">
        <li v-for="viewer in people" :key="viewer.user_id" class="badge" :data-viewer="viewer.username">
          {{ viewer.username }}
        </li>
      </ul>
    </div>`,
};
