// The bell: the unread count (a live region), and the list with "mark read" and "mark all
// read". Other tabs follow through the notification events on the user's stream.

import { ref } from "vue";
import { markAllRead, markRead, state } from "../store.js";
import { when } from "./format.js";

export default {
  name: "NotificationBell",
  setup() {
    const open = ref(false);
    const message = ref("");
    async function run(action) {
      message.value = "";
      try {
        await action();
      } catch (error) {
        message.value = error.message;
      }
    }
    return {
      state,
      open,
      message,
      when,
      read: (id) => run(() => markRead(id)),
      readAll: () => run(markAllRead),
    };
  },
  template: `
    <div class="bell" @keydown.esc="open = false">
      <button type="button" class="bell-button" :aria-expanded="String(open)" aria-controls="notifications"
              @click="open = !open">
        Notifications <span class="count" :class="{ zero: !state.unread }" data-testid="unread-count">{{ state.unread }}</span>
      </button>
      <span class="sr-only" aria-live="polite">{{ state.unread }} unread notifications</span>
      <section v-if="open" id="notifications" class="panel" aria-label="Notifications">
        <div class="panel-head">
          <h2>Notifications</h2>
          <button type="button" @click="readAll" :disabled="!state.unread">Mark all read</button>
        </div>
        <p v-if="message" class="error" role="alert">{{ message }}</p>
        <p v-if="!state.notifications.length">No notifications yet.</p>
        <ul class="notifications">
          <li v-for="item in state.notifications" :key="item.id" :class="{ unread: !item.read_at }"
              :data-notification="item.id">
            <span>{{ item.message }}</span> <time :datetime="item.created_at">{{ when(item.created_at) }}</time>
            <button v-if="!item.read_at" type="button" class="link" @click="read(item.id)">Mark read</button>
          </li>
        </ul>
      </section>
    </div>`,
};
