// The REST client: JSON over fetch under /api/v1/, signed in by the session cookie, with the
// CSRF header Django asks of unsafe methods. Every call is bounded by a timeout.

const BASE = "/api/v1/";
const TIMEOUT_MS = 15000;

export class ApiError extends Error {
  constructor(status, body) {
    super(messageOf(status, body));
    this.status = status;
    this.body = body;
  }

  // A 400's errors by field name ({title: "…"}); non-field errors are the message.
  get fields() {
    if (this.status !== 400 || !this.body || typeof this.body !== "object") return {};
    const fields = {};
    for (const [name, errors] of Object.entries(this.body)) {
      if (name === "non_field_errors" || name === "detail") continue;
      fields[name] = Array.isArray(errors) ? errors.join(" ") : String(errors);
    }
    return fields;
  }
}

function messageOf(status, body) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.non_field_errors)) return body.non_field_errors.join(" ");
  if (status === 0) return "The server cannot be reached.";
  if (status === 400) return "Please correct the fields marked below.";
  return `The server answered ${status}.`;
}

function csrfToken() {
  // Read at each call: Django rotates the token when a user signs in.
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
  } catch {
    throw new ApiError(0, null);
  } finally {
    clearTimeout(timer);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body),
  patch: (path, body) => request("PATCH", path, body),
};
