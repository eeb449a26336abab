// The desk's state and what changes it: loads by REST, writes by REST, live events by the
// socket. Components read `state` and call the actions; nothing else writes to it.

import { reactive } from "vue";
import { api } from "./api.js";
import { applyEvent, describeEvent, isFinished, mergeNewest, sortEpisodes } from "./events.js";
import { route } from "./router.js";
import { LiveSocket } from "./socket.js";

const EDIT_ROLES = ["editors", "admins"];

export const state = reactive({
  me: null,
  booted: false,
  connection: { status: "idle" },
  // After a reconnect: {count, items} of what changed while away.
  missed: null,
  episodes: [],
  episodesNext: null,
  episodesError: "",
  // The episode page: {id, episode, compositions, files, jobs, viewers, deleted, error}.
  current: null,
  activity: [],
  notifications: [],
  unread: 0,
});

export const canEdit = () =>
  Boolean(state.me && state.me.roles.some((role) => EDIT_ROLES.includes(role)));

const episodeStream = (id) => `episode:${id}`;
const jobStream = (id) => `job:${id}`;

const hooks = {
  jobSeen(id) {
    fetchJob(id);
  },
  jobFinished(id) {
    socket.unsubscribe(jobStream(id));
  },
};

// The first state is read once the socket listens (or cannot): an event from then on is
// either in what REST answers or arrives after it, never lost in between.
let loaded = false;

export const socket = new LiveSocket({
  onStatus(status, detail) {
    state.connection = { status, ...detail };
    if (!loaded && (status === "open" || detail.attempt >= 1)) {
      loaded = true;
      loadAll();
    }
  },
  onEvent(frame) {
    applyEvent(state, frame, hooks);
  },
  onSubscribed(frame) {
    if (frame.viewers && state.current && frame.stream === episodeStream(state.current.id)) {
      state.current.viewers = frame.viewers;
    }
  },
  onResumed(frames) {
    const items = frames.map(describeEvent).filter(Boolean);
    state.missed = { count: items.length, items: items.slice(0, 10) };
  },
  onResumeFailed() {
    state.missed = { count: null, items: [] };
    loadAll();
  },
  onSignedOut() {
    signedOut();
  },
  onError(frame) {
    if (state.current && frame.stream === episodeStream(state.current.id)) {
      state.current.error = frame.code === "not_found" ? "This episode does not exist." : "";
    }
  },
});

// --- signing in and out ------------------------------------------------------------------

export async function boot() {
  try {
    state.me = await api.get("auth/me/");
  } catch {
    state.me = null;
  }
  state.booted = true;
  if (state.me) startLive();
}

export async function login(username, password) {
  state.me = await api.post("auth/login/", { username, password });
  startLive();
}

export async function logout() {
  try {
    await api.post("auth/logout/");
  } finally {
    signedOut();
  }
}

function signedOut() {
  socket.stop();
  loaded = false;
  Object.assign(state, {
    me: null,
    missed: null,
    episodes: [],
    episodesNext: null,
    current: null,
    activity: [],
    notifications: [],
    unread: 0,
  });
}

function startLive() {
  socket.subscribe("episodes");
  socket.subscribe("activity");
  socket.start();
}

function loadAll() {
  loadEpisodes();
  loadActivity();
  loadNotifications();
  if (route.name === "episode") openEpisode(route.id);
}

// --- episodes ----------------------------------------------------------------------------

export async function loadEpisodes({ more = false } = {}) {
  const path = more && state.episodesNext ? pathOf(state.episodesNext) : "episodes/?page_size=50";
  try {
    const page = await api.get(path);
    state.episodes = more
      ? mergeNewest(state.episodes, page.results)
      : mergeNewest(page.results, state.episodes);
    sortEpisodes(state.episodes);
    state.episodesNext = page.next;
    state.episodesError = "";
  } catch (error) {
    state.episodesError = error.message;
  }
}

// The API's `next` is an absolute URL; the client calls it through its own base.
const pathOf = (url) => new URL(url, location.href).href.split("/api/v1/")[1];

export async function createEpisode(fields) {
  const episode = await api.post("episodes/", fields);
  if (!state.episodes.some((row) => row.id === episode.id)) {
    state.episodes.push(episode);
    sortEpisodes(state.episodes);
  }
  return episode;
}

function replaceEpisode(episode) {
  const index = state.episodes.findIndex((row) => row.id === episode.id);
  if (index !== -1 && episode.updated_at >= state.episodes[index].updated_at) {
    state.episodes[index] = { ...state.episodes[index], ...episode };
  }
  const current = state.current;
  if (current && current.id === episode.id && current.episode) {
    if (episode.updated_at >= current.episode.updated_at) {
      current.episode = { ...current.episode, ...episode };
    }
  }
}

export async function saveEpisode(id, fields) {
  replaceEpisode(await api.patch(`episodes/${id}/`, fields));
}

export async function transition(id, action) {
  replaceEpisode(await api.post(`episodes/${id}/${action}/`));
}

// The episode as stored now (after a 409 or 412 said the page's copy was behind).
export async function refreshEpisode(id) {
  try {
    const { viewers, ...episode } = await api.get(`episodes/${id}/`);
    replaceEpisode(episode);
  } catch {
    // The page keeps what it has; live events still apply.
  }
}

// --- the episode page --------------------------------------------------------------------

export async function openEpisode(id) {
  closeEpisode();
  const current = { id, episode: null, compositions: [], files: [], jobs: [], viewers: [] };
  state.current = Object.assign(current, { deleted: false, error: "" });
  // Subscribed before reading, for the same reason as the first state.
  await socket.subscribe(episodeStream(id));
  if (!state.current || state.current.id !== id) return;
  try {
    const [episode, compositions, files, jobs] = await Promise.all([
      api.get(`episodes/${id}/`),
      api.get(`compositions/?episode=${id}&page_size=100`),
      api.get(`files/?episode=${id}&page_size=100`),
      api.get(`jobs/?episode=${id}&page_size=50`),
    ]);
    if (!state.current || state.current.id !== id) return;
    const { viewers, ...fields } = episode;
    const live = state.current.episode;
    Object.assign(state.current, {
      episode: live && live.updated_at > fields.updated_at ? live : fields,
      compositions: mergeNewest(compositions.results, state.current.compositions),
      files: mergeNewest(files.results, state.current.files),
    });
    if (!state.current.viewers.length) state.current.viewers = viewers;
    // Jobs heard of by events while loading are newer than the list: they stay.
    for (const job of jobs.results) addJob(job);
  } catch (error) {
    if (state.current && state.current.id === id) {
      state.current.error = error.status === 404 ? "This episode does not exist." : error.message;
    }
  }
}

export function closeEpisode() {
  const current = state.current;
  if (!current) return;
  socket.unsubscribe(episodeStream(current.id));
  for (const job of current.jobs) socket.unsubscribe(jobStream(job.id));
  state.current = null;
}

function addJob(job) {
  const jobs = state.current.jobs;
  if (jobs.some((row) => row.id === job.id)) return;
  jobs.push(job);
  jobs.sort((a, b) => b.id - a.id);
  if (!isFinished(job)) socket.subscribe(jobStream(job.id));
}

async function fetchJob(id) {
  try {
    const job = await api.get(`jobs/${id}/`);
    const row = state.current && state.current.jobs.find((item) => item.id === id);
    // Live events may have moved it on since the server answered: keep their fields.
    if (row) Object.assign(row, { ...job, ...pickLive(row) });
  } catch {
    // It stays as the events described it.
  }
}

const pickLive = ({ status, progress, attempts }) =>
  Object.fromEntries(
    Object.entries({ status, progress, attempts }).filter(([, value]) => value !== undefined),
  );

export async function startJob(fields) {
  const job = await api.post("jobs/", fields);
  if (state.current && state.current.id === job.episode) addJob(job);
  return job;
}

// --- activity and notifications ------------------------------------------------------------

const newestFirst = (rows) => rows.sort((a, b) => b.id - a.id);

export async function loadActivity() {
  try {
    const page = await api.get("activity/?page_size=30");
    state.activity = newestFirst(mergeNewest(page.results, state.activity));
  } catch {
    state.activity = [];
  }
}

export async function loadNotifications() {
  try {
    const [page, unread] = await Promise.all([
      api.get("notifications/?page_size=20"),
      api.get("notifications/unread-count/"),
    ]);
    state.notifications = newestFirst(mergeNewest(page.results, state.notifications));
    state.unread = unread.count;
  } catch {
    state.notifications = [];
  }
}

// The `notifications_read` event that every tab receives then sets the exact count.
export async function markRead(id) {
  const read = await api.post(`notifications/${id}/read/`);
  const row = state.notifications.find((item) => item.id === id);
  if (row && !row.read_at) state.unread = Math.max(0, state.unread - 1);
  if (row) row.read_at = read.read_at;
}

export async function markAllRead() {
  const reply = await api.post("notifications/read-all/");
  const now = new Date().toISOString();
  for (const row of state.notifications) row.read_at = row.read_at || now;
  state.unread = reply.unread_count;
}
