// A labelled form field with its API error next to it (aria-invalid, aria-describedby), and
// how an ApiError splits into errors by field and one message for the rest.

export default {
  name: "FormField",
  props: { id: { type: String, required: true }, label: String, error: String },
  computed: {
    attrs() {
      return {
        id: this.id,
        "aria-invalid": this.error ? "true" : null,
        "aria-describedby": this.error ? `${this.id}-error` : null,
      };
    },
  },
  template: `
    <div class="field" :class="{ invalid: error }">
      <label :for="id">{{ label }}</label>
      <slot :attrs="attrs"></slot>
      <p v-if="error" :id="id + '-error'" class="field-error">{{ error }}</p>
    </div>`,
};

// {errors: {field: message} for the fields the form shows, message: everything else}.
export function formErrors(error, shown) {
  const all = error.fields || {};
  const errors = {};
  const others = [];
  for (const [name, text] of Object.entries(all)) {
    if (shown.includes(name)) errors[name] = text;
    else others.push(`${name}: ${text}`);
  }
  let message = others.join(" ");
  if (!Object.keys(all).length) message = error.message;
  return { errors, message };
}
