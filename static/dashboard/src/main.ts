import "./styles/tokens.css";
import "./styles/base.css";

import { createPinia } from "pinia";
import { createApp } from "vue";

import App from "./App.vue";
import { createAppRouter } from "./router";
import { useThemeStore } from "./stores/theme";

const app = createApp(App);
app.use(createPinia());
const router = createAppRouter();
app.use(router);
useThemeStore(); // applies the chosen theme before the first paint

await router.isReady();
app.mount("#app");
