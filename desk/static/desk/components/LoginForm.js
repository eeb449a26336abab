// The sign-in form: a session by POST auth/login/ (the CSRF cookie came with the page).

import { ref } from "vue";
import { login } from "../store.js";
import FormField, { formErrors } from "./FormField.js";

export default {
  name: "LoginForm",
  components: { FormField },
  setup() {
    const username = ref("");
    const password = ref("");
    const errors = ref({});
    const message = ref("");
    const busy = ref(false);
    async function submit() {
      busy.value = true;
      try {
        await login(username.value, password.value);
      } catch (error) {
        ({ errors: errors.value, message: message.value } = formErrors(error, ["username", "password"]));
      } finally {
        busy.value = false;
      }
    }
    return { username, password, errors, message, busy, submit };
  },
  template: `
    <main class="login" id="main">
      <h1>Sign in to Showdesk</h1>
      <form @submit.prevent="submit" novalidate>
        <form-field id="login-username" label="Username" :error="errors.username" v-slot="{ attrs }">
          <input v-bind="attrs" v-model="username" autocomplete="username" autofocus>
        </form-field>
        <form-field id="login-password" label="Password" :error="errors.password" v-slot="{ attrs }">
          <input v-bind="attrs" v-model="password" type="password" autocomplete="current-password">
        </form-field>
        <button type="submit" :disabled="busy">Sign in</button>
        <p v-if="message" class="error" role="alert">{{ message }}</p>
      </form>
    </main>`,
};
