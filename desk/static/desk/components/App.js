// The page: the bar (bell, who is signed in), the connection banner, then the login form or
// the desk (episode list or episode page, and the activity feed beside it).

import { computed } from "vue";
import { route, watchRoute } from "../router.js";
import { boot, closeEpisode, logout, openEpisode, state } from "../store.js";
import ActivityFeed from "./ActivityFeed.js";
import ConnectionBanner from "./ConnectionBanner.js";
import EpisodeList from "./EpisodeList.js";
import EpisodePage from "./EpisodePage.js";
import LoginForm from "./LoginForm.js";
import NotificationBell from "./NotificationBell.js";

export default {
  name: "App",
  components: { ActivityFeed, ConnectionBanner, EpisodeList, EpisodePage, LoginForm, NotificationBell },
  setup() {
    watchRoute(() => {
      if (!state.me) return;
      if (route.name === "episode") openEpisode(route.id);
      else closeEpisode();
    });
    boot();
    const roles = computed(() => (state.me ? state.me.roles.join(", ") || "no role" : ""));
    return { state, route, roles, logout };
  },
  template: `
  <div class="desk" :data-connection="state.connection.status">
    <header class="bar">
      <a class="brand" href="#/">Showdesk</a>
      <template v-if="state.me">
        <notification-bell></notification-bell>
        <span class="me" data-testid="me">{{ state.me.username }} <small>({{ roles }})</small></span>
        <button type="button" class="link" @click="logout">Sign out</button>
      </template>
    </header>
    <connection-banner v-if="state.me"></connection-banner>
    <p v-if="!state.booted" class="loading">Loading…</p>
    <login-form v-else-if="!state.me"></login-form>
    <div v-else class="layout">
      <main id="main">
        <episode-page v-if="route.name === 'episode'"></episode-page>
        <episode-list v-else></episode-list>
      </main>
      <activity-feed></activity-feed>
    </div>
  </div>`,
};
