// The episode's jobs with progress bars, state and attempts, live; for editors the form
// that starts one (POST jobs/ {type, episode, file?, params?}).

import { ref } from "vue";
import { startJob } from "../store.js";
import { formErrors } from "./FormField.js";
import FormField from "./FormField.js";
import { when } from "./format.js";

// The job types Showdesk ships (CONTRACT.md, Jobs).
const TYPES = ["search_index", "media_probe", "thumbnail", "export_episode"];

export default {
  name: "JobList",
  components: { FormField },
  props: {
    jobs: { type: Array, required: true },
    files: { type: Array, required: true },
    episodeId: { type: Number, required: true },
    editable: Boolean,
  },
  setup(props) {
    const type = ref(TYPES[0]);
    const file = ref(null);
    const params = ref("");
    const errors = ref({});
    const message = ref("");
    const busy = ref(false);
    async function start() {
      errors.value = {};
      message.value = "";
      const fields = { type: type.value, episode: props.episodeId };
      if (file.value) fields.file = file.value;
      if (params.value.trim()) {
        try {
          fields.params = JSON.parse(params.value);
        } catch {
          errors.value = { params: "Not valid JSON." };
          return;
        }
      }
      busy.value = true;
      try {
        await startJob(fields);
      } catch (error) {
        ({ errors: errors.value, message: message.value } = formErrors(error, ["type", "file", "params"]));
      } finally {
        busy.value = false;
      }
    }
    return { types: TYPES, type, file, params, errors, message, busy, start, when };
  },
  template: `
    <section class="jobs" aria-labelledby="jobs-title">
      <h2 id="jobs-title">Jobs</h2>
      <form v-if="editable" class="job-form" @submit.prevent="start" novalidate>
        <div class="row">
          <form-field id="job-type" label="Job type" :error="errors.type" v-slot="{ attrs }">
            <select v-bind="attrs" v-model="type">
              <option v-for="name in types" :key="name" :value="name">{{ name }}</option>
            </select>
          </form-field>
          <form-field id="job-file" label="File" :error="errors.file" v-slot="{ attrs }">
            <select v-bind="attrs" v-model="file">
              <option :value="null">(none)</option>
              <option v-for="item in files" :key="item.id" :value="item.id">{{ item.filename }}</option>
            </select>
          </form-field>
          <form-field id="job-params" label="Params (JSON, optional)" :error="errors.params" v-slot="{ attrs }">
            <input v-bind="attrs" v-model="params" placeholder='{"size": 256}'>
          </form-field>
        </div>
        <p v-if="message" class="error" role="alert">{{ message }}</p>
        <button type="submit" :disabled="busy">Start job</button>
      </form>
      <p v-if="!jobs.length">No jobs yet.</p>
      <ul class="job-list">
        <li v-for="job in jobs" :key="job.id" class="job" :data-job="job.id" :data-status="job.status">
          <div class="job-head">
            <strong>{{ job.type }}</strong> <span>#{{ job.id }}</span> <span class="status" :class="'status-' + job.status" data-testid="job-status">{{ job.status }}</span> <span data-testid="job-attempts">attempt {{ job.attempts }}<template v-if="job.max_attempts"> of {{ job.max_attempts }}</template></span>
          </div>
          <div class="progress-row">
            <progress max="100" :value="job.progress" :aria-label="job.type + ' #' + job.id + ' progress'"></progress>
            <span data-testid="job-progress">{{ job.progress }}%</span>
          </div>
          <p v-if="job.error" class="field-error">{{ job.error }}</p>
        </li>
      </ul>
    </section>`,
};
