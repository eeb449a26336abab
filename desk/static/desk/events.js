// What each live event does to the state (CONTRACT.md's event table), and how it reads in
// the "while you were away" list. An event type this client does not know is ignored.

const FEED_SIZE = 50;
const FINISHED = new Set(["completed", "failed", "dead"]);
const JOB_STATUS = {
  job_queued: "queued",
  job_started: "running",
  job_progress: "running",
  job_completed: "completed",
  job_retry: "retrying",
};

export const isFinished = (job) => FINISHED.has(job.status);

export function sortEpisodes(episodes) {
  episodes.sort((a, b) => a.season - b.season || a.episode_number - b.episode_number || a.id - b.id);
}

// Replace by id, or add; an older copy (updated_at) never overwrites a newer one.
function upsert(list, item, { first = false } = {}) {
  const index = list.findIndex((row) => row.id === item.id);
  if (index === -1) {
    if (first) list.unshift(item);
    else list.push(item);
  } else if (!item.updated_at || !list[index].updated_at || item.updated_at >= list[index].updated_at) {
    list[index] = { ...list[index], ...item };
  }
}

// A list read by REST, with the rows live events brought in meanwhile where they are newer.
export function mergeNewest(fresh, live) {
  const merged = [...fresh];
  for (const row of live) upsert(merged, row);
  return merged;
}

function remove(list, id) {
  const index = list.findIndex((row) => row.id === id);
  if (index !== -1) list.splice(index, 1);
}

function onEpisode(state, data) {
  upsert(state.episodes, data.episode);
  sortEpisodes(state.episodes);
  const current = state.current;
  if (current && current.id === data.episode.id) {
    if (!current.episode || data.episode.updated_at >= current.episode.updated_at) {
      current.episode = { ...current.episode, ...data.episode };
    }
  }
}

function onJob(state, frame, hooks) {
  const data = frame.data;
  const current = state.current;
  if (!current) return;
  let job = current.jobs.find((row) => row.id === data.job_id);
  if (!job) {
    // A job of this episode started elsewhere (or before our POST returned): fetch it whole.
    if (frame.stream !== `episode:${current.id}`) return;
    job = { id: data.job_id, type: data.job_type, progress: 0, attempts: 0, max_attempts: null };
    current.jobs.unshift(job);
    current.jobs.sort((a, b) => b.id - a.id);
    job = current.jobs.find((row) => row.id === data.job_id);
    hooks.jobSeen(data.job_id);
  }
  job.status = data.status || JOB_STATUS[frame.event] || job.status;
  if (typeof data.progress === "number") job.progress = data.progress;
  if (typeof data.attempt === "number") job.attempts = data.attempt;
  if ("error" in data) job.error = data.error;
  if ("result" in data) job.result = data.result;
  if (isFinished(job)) hooks.jobFinished(job.id);
}

function onNotification(state, data) {
  upsert(state.notifications, data.notification, { first: true });
  state.notifications.sort((a, b) => b.id - a.id);
  state.unread = data.unread_count;
}

function inCurrent(state, frame) {
  return state.current && frame.stream === `episode:${state.current.id}`;
}

const HANDLERS = {
  episode_created: (state, frame) => onEpisode(state, frame.data),
  episode_updated: (state, frame) => onEpisode(state, frame.data),
  episode_published: (state, frame) => onEpisode(state, frame.data),
  episode_archived: (state, frame) => onEpisode(state, frame.data),
  episode_deleted(state, frame) {
    remove(state.episodes, frame.data.episode_id);
    if (state.current && state.current.id === frame.data.episode_id) state.current.deleted = true;
  },
  composition_created(state, frame) {
    if (inCurrent(state, frame)) upsert(state.current.compositions, frame.data.composition);
  },
  composition_updated(state, frame) {
    if (inCurrent(state, frame)) upsert(state.current.compositions, frame.data.composition);
  },
  composition_deleted(state, frame) {
    if (inCurrent(state, frame)) remove(state.current.compositions, frame.data.composition.id);
  },
  file_uploaded(state, frame) {
    if (inCurrent(state, frame)) upsert(state.current.files, frame.data.file, { first: true });
  },
  file_deleted(state, frame) {
    if (inCurrent(state, frame)) remove(state.current.files, frame.data.file.id);
  },
  job_queued: onJob,
  job_started: onJob,
  job_progress: onJob,
  job_completed: onJob,
  job_retry: onJob,
  job_failed: onJob,
  viewer_joined(state, frame) {
    if (inCurrent(state, frame)) state.current.viewers = frame.data.viewers;
  },
  viewer_left(state, frame) {
    if (inCurrent(state, frame)) state.current.viewers = frame.data.viewers;
  },
  notification_created: (state, frame) => onNotification(state, frame.data),
  notification_updated: (state, frame) => onNotification(state, frame.data),
  notifications_read(state, frame) {
    const ids = new Set(frame.data.ids);
    const now = frame.timestamp || new Date().toISOString();
    for (const row of state.notifications) {
      if (ids.has(row.id) && !row.read_at) row.read_at = now;
    }
    state.unread = frame.data.unread_count;
  },
  activity_logged(state, frame) {
    const activity = frame.data.activity;
    if (state.activity.some((row) => row.id === activity.id)) return;
    state.activity.unshift(activity);
    state.activity.sort((a, b) => b.id - a.id);
    state.activity.splice(FEED_SIZE);
  },
};

// hooks: jobSeen(id) for a job first heard of by an event, jobFinished(id).
export function applyEvent(state, frame, hooks) {
  const handler = HANDLERS[frame.event];
  if (!handler || !frame.data) return false;
  handler(state, frame, hooks);
  return true;
}

const words = (name) => String(name || "").replaceAll("_", " ");

export function describeActivity(activity) {
  const who = activity.user ? activity.user.username : "system";
  const meta = activity.metadata || {};
  const name = meta.title || meta.name || meta.filename;
  const target = name ? ` “${name}”` : ` ${activity.resource_type} ${activity.resource_id}`;
  return `${who} ${words(activity.action)}${target}`;
}

// One line for the "while you were away" list, or null for what is not a change to list.
export function describeEvent(frame) {
  const data = frame.data || {};
  const by = data.actor ? ` by ${data.actor.username}` : "";
  switch (frame.event) {
    case "episode_created":
    case "episode_updated":
    case "episode_published":
    case "episode_archived":
      return `“${data.episode.title}” ${words(frame.event.replace("episode_", ""))}${by}`;
    case "episode_deleted":
      return `“${data.title}” deleted${by}`;
    case "composition_created":
    case "composition_updated":
    case "composition_deleted":
      return `Composition “${data.composition.name}” ${words(frame.event.replace("composition_", ""))}${by}`;
    case "file_uploaded":
    case "file_deleted":
      return `File ${data.file.filename} ${words(frame.event.replace("file_", ""))}${by}`;
    case "job_queued":
    case "job_started":
    case "job_completed":
    case "job_retry":
    case "job_failed":
      return `Job ${words(data.job_type)} #${data.job_id}: ${data.status || words(frame.event)}`;
    case "notification_created":
      return `Notification: ${data.notification.message}`;
    default:
      // The activity feed, presence and progress: shown where they belong, not as changes.
      return null;
  }
}
