// The desk's entry: mount the root component. Everything else is imported from here.

import { createApp } from "vue";
import App from "./components/App.js";

createApp(App).mount("#desk");
