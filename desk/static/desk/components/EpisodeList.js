// The episode list, live (created, changed, published, archived, deleted), and for editors
// the form that creates one.

import { ref } from "vue";
import { episodeHref } from "../router.js";
import { canEdit, createEpisode, loadEpisodes, state } from "../store.js";
import EpisodeForm, { EPISODE_FIELDS } from "./EpisodeForm.js";
import { formErrors } from "./FormField.js";

export default {
  name: "EpisodeList",
  components: { EpisodeForm },
  setup() {
    const creating = ref(false);
    const errors = ref({});
    const message = ref("");
    const busy = ref(false);
    const blank = { season: 1 };
    async function create(fields) {
      busy.value = true;
      try {
        const episode = await createEpisode(fields);
        creating.value = false;
        errors.value = {};
        message.value = "";
        location.hash = episodeHref(episode.id);
      } catch (error) {
        ({ errors: errors.value, message: message.value } = formErrors(error, EPISODE_FIELDS));
      } finally {
        busy.value = false;
      }
    }
    return { state, canEdit, creating, errors, message, busy, blank, create, loadEpisodes, episodeHref };
  },
  template: `
    <section aria-labelledby="episodes-title">
      <div class="section-head">
        <h1 id="episodes-title">Episodes</h1>
        <button v-if="canEdit()" type="button" :aria-expanded="String(creating)" @click="creating = !creating">
          New episode
        </button>
      </div>
      <episode-form v-if="creating" prefix="new" submit-label="Create episode" :initial="blank"
                    :errors="errors" :message="message" :busy="busy"
                    @submit="create" @cancel="creating = false"></episode-form>
      <p v-if="state.episodesError" class="error" role="alert">{{ state.episodesError }}</p>
      <p v-else-if="!state.episodes.length">No episodes yet.</p>
      <ul class="episodes">
        <li v-for="episode in state.episodes" :key="episode.id" :data-episode="episode.id">
          <a :href="episodeHref(episode.id)"><span class="number">S{{ episode.season }} E{{ episode.episode_number }}</span> <span class="title">{{ episode.title }}</span></a>
          <span class="status" :class="'status-' + episode.status">{{ episode.status }}</span>
        </li>
      </ul>
      <button v-if="state.episodesNext" type="button" @click="loadEpisodes({ more: true })">Load more</button>
    </section>`,
};
