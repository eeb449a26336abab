// The episode form, for creating and for editing: a draft of its own, the API's errors next
// to their fields. The parent saves (and sets `errors` and `message` when that fails).

import { reactive } from "vue";
import FormField from "./FormField.js";

export const EPISODE_FIELDS = ["title", "episode_number", "season", "air_date", "description"];

export default {
  name: "EpisodeForm",
  components: { FormField },
  props: {
    initial: { type: Object, required: true },
    prefix: { type: String, required: true },
    submitLabel: { type: String, required: true },
    errors: { type: Object, default: () => ({}) },
    message: { type: String, default: "" },
    busy: Boolean,
  },
  emits: ["submit", "cancel"],
  setup(props, { emit }) {
    const draft = reactive(Object.fromEntries(EPISODE_FIELDS.map((name) => [name, props.initial[name] ?? ""])));
    function submit() {
      emit("submit", { ...draft, air_date: draft.air_date || null });
    }
    return { draft, submit, cancel: () => emit("cancel") };
  },
  template: `
    <form class="episode-form" @submit.prevent="submit" novalidate>
      <form-field :id="prefix + '-title'" label="Title" :error="errors.title" v-slot="{ attrs }">
        <input v-bind="attrs" v-model="draft.title" maxlength="200">
      </form-field>
      <div class="row">
        <form-field :id="prefix + '-season'" label="Season" :error="errors.season" v-slot="{ attrs }">
          <input v-bind="attrs" v-model.number="draft.season" type="number" min="1">
        </form-field>
        <form-field :id="prefix + '-number'" label="Episode number" :error="errors.episode_number" v-slot="{ attrs }">
          <input v-bind="attrs" v-model.number="draft.episode_number" type="number" min="1">
        </form-field>
        <form-field :id="prefix + '-air-date'" label="Air date" :error="errors.air_date" v-slot="{ attrs }">
          <input v-bind="attrs" v-model="draft.air_date" type="date">
        </form-field>
      </div>
      <form-field :id="prefix + '-description'" label="Description" :error="errors.description" v-slot="{ attrs }">
        <textarea v-bind="attrs" v-model="draft.description" rows="3"></textarea>
      </form-field>
      <p v-if="message" class="error" role="alert">{{ message }}</p>
      <div class="actions">
        <button type="submit" :disabled="busy">{{ submitLabel }}</button>
        <button type="button" class="link" @click="cancel">Cancel</button>
      </div>
    </form>`,
};
