// The socket's state when it is not simply open (reconnecting, catching up), then what was
// missed while away. A polite live region: screen readers hear each change.

import { computed } from "vue";
import { state } from "../store.js";

export default {
  name: "ConnectionBanner",
  setup() {
    const status = computed(() => state.connection.status);
    const attempt = computed(() => state.connection.attempt || 0);
    const missedTitle = computed(() => {
      const count = state.missed && state.missed.count;
      if (count === null) return "Too much changed while you were away: the desk was reloaded.";
      if (count === 0) return "Back online. Nothing changed while you were away.";
      return `${count} change${count === 1 ? "" : "s"} while you were away`;
    });
    return { state, status, attempt, missedTitle };
  },
  template: `
    <div class="banner-area" role="status" aria-live="polite">
      <p v-if="status === 'reconnecting'" class="banner warn" data-testid="reconnecting">
        Connection lost. Reconnecting<span v-if="attempt"> (attempt {{ attempt }})</span>…
      </p>
      <p v-else-if="status === 'connecting' && attempt" class="banner warn">
        Cannot reach the server yet. Retrying (attempt {{ attempt }})…
      </p>
      <p v-else-if="status === 'resuming'" class="banner">Reconnected. Catching up…</p>
      <div v-else-if="state.missed" class="banner info" data-testid="missed">
        <p>
          <strong>{{ missedTitle }}</strong>
          <button type="button" class="link" @click="state.missed = null">Dismiss</button>
        </p>
        <ul v-if="state.missed.items.length">
          <li v-for="(item, index) in state.missed.items" :key="index">{{ item }}</li>
        </ul>
      </div>
    </div>`,
};
