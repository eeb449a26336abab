// The activity feed: the latest first, new lines as they are logged (the `activity` stream).

import { describeActivity } from "../events.js";
import { episodeHref } from "../router.js";
import { state } from "../store.js";
import { when } from "./format.js";

export default {
  name: "ActivityFeed",
  setup() {
    const link = (activity) =>
      activity.resource_type === "episode" && activity.action !== "deleted_episode"
        ? episodeHref(activity.resource_id)
        : null;
    return { state, describe: describeActivity, link, when };
  },
  template: `
    <aside class="feed" aria-labelledby="activity-title">
      <h2 id="activity-title">Activity</h2>
      <p v-if="!state.activity.length">Nothing yet.</p>
      <ol>
        <li v-for="activity in state.activity" :key="activity.id" :data-activity="activity.id">
          <a v-if="link(activity)" :href="link(activity)">{{ describe(activity) }}</a><span v-else>{{ describe(activity) }}</span> <time :datetime="activity.created_at">{{ when(activity.created_at) }}</time>
        </li>
      </ol>
    </aside>`,
};
