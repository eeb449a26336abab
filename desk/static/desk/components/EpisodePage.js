// One episode, live: its fields and status, who is here, its compositions, files and jobs.
// Editors edit, publish and archive it; a 409 or 412 from the API is shown as a message.

import { computed, ref } from "vue";
import { canEdit, refreshEpisode, saveEpisode, state, transition } from "../store.js";
import EpisodeForm, { EPISODE_FIELDS } from "./EpisodeForm.js";
import { formErrors } from "./FormField.js";
import { size, when } from "./format.js";
import JobList from "./JobList.js";
import ViewerBadges from "./ViewerBadges.js";

export default {
  name: "EpisodePage",
  components: { EpisodeForm, JobList, ViewerBadges },
  setup() {
    const current = computed(() => state.current);
    const episode = computed(() => state.current && state.current.episode);
    const editing = ref(false);
    const errors = ref({});
    const message = ref("");
    const busy = ref(false);

    function failed(error) {
      ({ errors: errors.value, message: message.value } = formErrors(error, EPISODE_FIELDS));
      if (error.status === 409 || error.status === 412) refreshEpisode(episode.value.id);
    }

    async function save(fields) {
      busy.value = true;
      try {
        await saveEpisode(episode.value.id, fields);
        editing.value = false;
        errors.value = {};
        message.value = "";
      } catch (error) {
        failed(error);
      } finally {
        busy.value = false;
      }
    }

    async function act(action) {
      message.value = "";
      busy.value = true;
      try {
        await transition(episode.value.id, action);
      } catch (error) {
        failed(error);
      } finally {
        busy.value = false;
      }
    }

    function edit() {
      errors.value = {};
      message.value = "";
      editing.value = true;
    }

    return { state, current, episode, editable: computed(canEdit), editing, errors, message, busy, save, act, edit, size, when };
  },
  template: `
    <article v-if="current" class="episode">
      <p><a href="#/">← All episodes</a></p>
      <p v-if="current.error" class="error" role="alert">{{ current.error }}</p>
      <p v-if="current.deleted" class="error" role="alert">This episode has been deleted.</p>
      <template v-if="episode">
        <header class="episode-head">
          <h1 data-testid="episode-title">{{ episode.title }}</h1>
          <p class="meta">
            Season {{ episode.season }} · Episode {{ episode.episode_number }} ·
            <span class="status" :class="'status-' + episode.status" data-testid="episode-status">{{ episode.status }}</span>
            · {{ episode.air_date ? 'airs ' + episode.air_date : 'no air date' }}
          </p>
          <viewer-badges :viewers="current.viewers"></viewer-badges>
        </header>
        <p v-if="episode.description" class="description">{{ episode.description }}</p>
        <div v-if="editable && !editing" class="actions">
          <button type="button" @click="edit">Edit</button>
          <button v-if="episode.status !== 'published'" type="button" :disabled="busy" @click="act('publish')">Publish</button>
          <button v-if="episode.status !== 'archived'" type="button" :disabled="busy" @click="act('archive')">Archive</button>
        </div>
        <p v-if="message && !editing" class="error" role="alert" data-testid="episode-message">{{ message }}</p>
        <episode-form v-if="editing" prefix="edit" submit-label="Save" :initial="episode"
                      :errors="errors" :message="message" :busy="busy"
                      @submit="save" @cancel="editing = false"></episode-form>

        <section aria-labelledby="compositions-title">
          <h2 id="compositions-title">Compositions</h2>
          <p v-if="!current.compositions.length">None yet.</p>
          <ul class="plain">
            <li v-for="item in current.compositions" :key="item.id">
              {{ item.name }} <time :datetime="item.updated_at">updated {{ when(item.updated_at) }}</time>
            </li>
          </ul>
        </section>

        <section aria-labelledby="files-title">
          <h2 id="files-title">Files</h2>
          <p v-if="!current.files.length">None yet.</p>
          <ul class="plain">
            <li v-for="item in current.files" :key="item.id">
              {{ item.filename }} <span class="muted">{{ item.content_type }}, {{ size(item.size) }}</span> <span class="status" :class="'status-' + item.status">{{ item.status }}</span>
            </li>
          </ul>
        </section>

        <job-list :jobs="current.jobs" :files="current.files" :episode-id="episode.id" :editable="editable"></job-list>
      </template>
      <p v-else-if="!current.error" class="loading">Loading…</p>
    </article>`,
};
