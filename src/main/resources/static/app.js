// Stipple's web page. It uses only the public API (GET /v1/models, POST /v1/jobs, the job's event
// stream, DELETE /v1/jobs/{id}, GET /v1/jobs/{id}/images/{n}), so it doubles as an example client.
// When the server asks for an API key (401), the page asks the user once, keeps the key in this
// browser's storage and sends it on every call, the event streams included.
"use strict";

const form = document.getElementById("generate");
const errorBox = document.getElementById("errors");
const jobsList = document.getElementById("jobs");
const gallery = document.getElementById("gallery");
const emptyNote = document.getElementById("empty");
const jobTemplate = document.getElementById("job-template");
const imageTemplate = document.getElementById("image-template");

const imageDrop = document.getElementById("image-drop");
const imageEditor = document.getElementById("image-editor");
const initCanvas = document.getElementById("init-canvas");
const maskCanvas = document.getElementById("mask-canvas");
const keyDialog = document.getElementById("key-dialog");
const forgetKey = document.getElementById("forget-key");

const KEY_STORAGE = "stipple.apiKey";
const NUMBER_FIELDS = ["steps", "guidance_scale", "num_images", "width", "height"];
const SEED_DIGITS = /^\d+$/;
/** The served models by name, as GET /v1/models describes them. */
const models = new Map();

forgetKey.hidden = !localStorage.getItem(KEY_STORAGE);
forgetKey.addEventListener("click", () => {
  localStorage.removeItem(KEY_STORAGE);
  forgetKey.hidden = true;
});
loadModel();
setUpStartImage();
form.elements.random_seed.addEventListener("change", syncSeedField);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  submit(readForm());
});

async function loadModel() {
  try {
    const response = await api("v1/models", {headers: {Accept: "application/json"}});
    if (!response.ok) throw await problemOf(response);
    const served = await response.json();
    served.models.forEach((model) => models.set(model.name, model));
    const select = form.elements.model;
    select.replaceChildren(...served.models.map((model) => new Option(model.name, model.name)));
    select.value = served.default;
    select.addEventListener("change", () => applyModel(models.get(select.value)));
    applyModel(models.get(served.default));
  } catch (problem) {
    document.getElementById("model").textContent = "Model unavailable";
    showProblem(problem);
  }
}

/** The chosen model's defaults and limits fill the form; a guidance-embedded model takes no negative prompt. */
function applyModel({name, description, device, guidance_embedded, defaults, limits, samplers}) {
  const label = document.getElementById("model");
  label.textContent = `${name} · ${device}`;
  label.title = description || "";
  const negative = form.elements.negative_prompt;
  negative.disabled = guidance_embedded;
  if (guidance_embedded) negative.value = "";
  negative.placeholder = guidance_embedded ? "not used: this model embeds the guidance scale"
      : "what to steer away from (optional)";
  const sampler = form.elements.sampler;
  sampler.replaceChildren(...samplers.map((name) => new Option(name, name)));
  sampler.value = defaults.sampler;
  const fields = form.elements;
  fields.prompt.maxLength = limits.max_prompt_length;
  fields.steps.value = defaults.steps;
  fields.steps.max = limits.max_steps;
  fields.guidance_scale.value = defaults.guidance_scale;
  fields.guidance_scale.max = limits.max_guidance_scale;
  fields.num_images.max = limits.max_images;
  for (const [name, value] of [["width", defaults.width], ["height", defaults.height]]) {
    fields[name].value = value;
    fields[name].step = limits.size_multiple;
  }
}

function syncSeedField() {
  const seed = form.elements.seed;
  seed.disabled = form.elements.random_seed.checked;
  if (seed.disabled) seed.value = "";
}

/** The request as the form describes it; the server, not the page, decides what is valid. */
function readForm() {
  const fields = form.elements;
  const request = {prompt: fields.prompt.value, model: fields.model.value, sampler: fields.sampler.value};
  if (fields.negative_prompt.value) request.negative_prompt = fields.negative_prompt.value;
  for (const name of NUMBER_FIELDS) {
    const text = fields[name].value.trim();
    if (text !== "") request[name] = Number(text);
  }
  if (!fields.random_seed.checked && fields.seed.value.trim() !== "") {
    request.seed = fields.seed.value.trim();
  }
  if (!imageEditor.hidden) {
    request.init_image = initCanvas.toDataURL("image/png");
    request.strength = Number(fields.strength.value);
    if (maskCanvas.dataset.painted) request.mask_image = maskImage();
  }
  return request;
}

// --- starting from an image -------------------------------------------------------------------------

/** An image dropped, pasted or chosen becomes the request's init_image; brush strokes on it its mask. */
function setUpStartImage() {
  const fields = form.elements;
  fields.init_file.addEventListener("change", () => {
    if (fields.init_file.files[0]) loadStartImage(fields.init_file.files[0]);
  });
  imageDrop.addEventListener("dragover", (event) => {
    event.preventDefault();
    imageDrop.classList.add("dragging");
  });
  imageDrop.addEventListener("dragleave", () => imageDrop.classList.remove("dragging"));
  imageDrop.addEventListener("drop", (event) => {
    event.preventDefault();
    imageDrop.classList.remove("dragging");
    if (event.dataTransfer.files[0]) loadStartImage(event.dataTransfer.files[0]);
  });
  document.addEventListener("paste", (event) => {
    const image = [...event.clipboardData.files].find((file) => file.type.startsWith("image/"));
    if (image) loadStartImage(image);
  });
  fields.strength.addEventListener("input", () => {
    document.getElementById("strength-value").textContent = fields.strength.value;
  });
  fields.brush.addEventListener("change", () => imageEditor.classList.toggle("painting", fields.brush.checked));
  document.getElementById("clear-mask").addEventListener("click", clearMask);
  document.getElementById("remove-image").addEventListener("click", () => {
    imageEditor.hidden = true;
    fields.init_file.value = "";
  });

  let painting = false;
  maskCanvas.addEventListener("pointerdown", (event) => {
    if (!fields.brush.checked) return;
    painting = true;
    maskCanvas.setPointerCapture(event.pointerId);
    paint(event);
  });
  maskCanvas.addEventListener("pointermove", (event) => {
    if (painting) paint(event);
  });
  maskCanvas.addEventListener("pointerup", () => {
    painting = false;
  });
}

/**
 * Shows the image at its own pixels (no colour conversion, so the server gets exactly the file's pixels) and
 * sizes the request like it: the server resizes the image to width × height.
 */
async function loadStartImage(file) {
  const bitmap = await createImageBitmap(file, {colorSpaceConversion: "none", premultiplyAlpha: "none"});
  for (const canvas of [initCanvas, maskCanvas]) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
  }
  initCanvas.getContext("2d").drawImage(bitmap, 0, 0);
  clearMask();
  imageEditor.hidden = false;
  const fields = form.elements;
  for (const [name, side] of [["width", bitmap.width], ["height", bitmap.height]]) {
    const multiple = Number(fields[name].step) || 1;
    fields[name].value = Math.max(multiple, Math.floor(side / multiple) * multiple);
  }
}

function paint(event) {
  const bounds = maskCanvas.getBoundingClientRect();
  const scale = maskCanvas.width / bounds.width;
  const context = maskCanvas.getContext("2d");
  context.fillStyle = "#ffffff";
  context.beginPath();
  context.arc((event.clientX - bounds.left) * scale, (event.clientY - bounds.top) * scale,
      Number(form.elements.brush_size.value) / 2, 0, 2 * Math.PI);
  context.fill();
  maskCanvas.dataset.painted = "true";
}

function clearMask() {
  maskCanvas.getContext("2d").clearRect(0, 0, maskCanvas.width, maskCanvas.height);
  delete maskCanvas.dataset.painted;
}

/** The strokes as the API's mask: white where painted (repaint), black elsewhere (keep). */
function maskImage() {
  const mask = document.createElement("canvas");
  mask.width = maskCanvas.width;
  mask.height = maskCanvas.height;
  const context = mask.getContext("2d");
  context.fillStyle = "#000000";
  context.fillRect(0, 0, mask.width, mask.height);
  context.drawImage(maskCanvas, 0, 0);
  return mask.toDataURL("image/png");
}

function fillForm(parameters, seed) {
  const fields = form.elements;
  if (models.has(parameters.model) && fields.model.value !== parameters.model) {
    fields.model.value = parameters.model;
    applyModel(models.get(parameters.model));
  }
  fields.prompt.value = parameters.prompt;
  fields.negative_prompt.value = parameters.negative_prompt || "";
  fields.sampler.value = parameters.sampler;
  for (const name of NUMBER_FIELDS) fields[name].value = parameters[name];
  useSeed(seed);
}

function useSeed(seed) {
  form.elements.random_seed.checked = false;
  syncSeedField();
  form.elements.seed.value = seed;
}

/**
 * Seeds are int64: a JavaScript number would round those above 2^53, so the seed travels as the digits
 * the user typed. Anything else is sent as a string for the server to reject with its own message.
 */
function requestBody(request) {
  const {seed, ...rest} = request;
  const json = JSON.stringify(rest);
  if (seed === undefined) return json;
  const literal = SEED_DIGITS.test(seed) ? seed : JSON.stringify(seed);
  return `${json.slice(0, -1)},"seed":${literal}}`;
}

async function submit(request) {
  clearProblem();
  const card = addJobCard(request);
  let accepted;
  try {
    const response = await api("v1/jobs", {
      method: "POST",
      headers: {"Content-Type": "application/json", Accept: "application/json"},
      body: requestBody(request),
    });
    if (!response.ok) throw await problemOf(response);
    accepted = await response.json();
  } catch (problem) {
    card.remove();
    showProblem(problem);
    return;
  }
  followJob(card, accepted.id, startImageOf(request));
}

/** What a request started from, if anything: the job's parameters do not repeat images, so Re-run keeps them here. */
function startImageOf({init_image, strength, mask_image}) {
  if (init_image === undefined) return {};
  return mask_image === undefined ? {init_image, strength} : {init_image, strength, mask_image};
}

function addJobCard(request) {
  const card = jobTemplate.content.firstElementChild.cloneNode(true);
  card.querySelector(".job-prompt").textContent = request.prompt;
  card.querySelector(".cancel").disabled = true;
  jobsList.prepend(card);
  emptyNote.hidden = true;
  return card;
}

/** Shows a job's progress from its event stream until one terminal event ends it. */
function followJob(card, id, startImage) {
  const status = card.querySelector(".job-status");
  const bar = card.querySelector("progress");
  const preview = card.querySelector(".preview");
  const cancel = card.querySelector(".cancel");
  card.dataset.job = id;
  cancel.disabled = false;
  cancel.addEventListener("click", () => cancelJob(id, cancel));

  const stream = new AbortController();
  const finish = () => {
    stream.abort();
    cancel.disabled = true;
  };
  const handlers = {
    queued(data) {
      status.textContent = `Queued, position ${JSON.parse(data).queue_position}`;
    },
    progress(data) {
      const progress = JSON.parse(data);
      bar.max = progress.steps;
      bar.value = progress.step;
      status.textContent = `Step ${progress.step} of ${progress.steps}`;
      if (progress.preview) {
        preview.src = progress.preview;
        preview.hidden = false;
      }
    },
    async succeeded(data) {
      finish();
      const job = JSON.parse(data);
      status.textContent = "Fetching images…";
      try {
        const cards = await Promise.all(job.images.map((image) => imageCard(job, image, startImage)));
        card.remove();
        gallery.prepend(...cards);
      } catch (problem) {
        endJob(card, `Could not fetch the images: ${describe(problem)}`);
      }
    },
    failed(data) {
      finish();
      endJob(card, `Failed: ${describe(JSON.parse(data))}`);
    },
    cancelled() {
      finish();
      endJob(card, "Cancelled");
    },
  };
  followEvents(`v1/jobs/${encodeURIComponent(id)}/events`, handlers, stream.signal).catch(() => {
    if (stream.signal.aborted) return;
    finish();
    endJob(card, "Lost contact with the job");
  });
}

/**
 * Reads a server-sent event stream through fetch, which, unlike EventSource, can send the API key. Like
 * EventSource it reconnects when the connection drops before the job ended: the server's first event
 * then describes the job as it is. A job that no longer exists (404), or a server that stays away,
 * rejects the promise.
 */
async function followEvents(url, handlers, signal) {
  let failures = 0;
  while (!signal.aborted) {
    try {
      const response = await api(url, {headers: {Accept: "text/event-stream"}, signal});
      if (!response.ok) throw await problemOf(response);
      failures = 0;
      await dispatchEvents(response.body, handlers, signal);
    } catch (problem) {
      if (signal.aborted) return;
      if (problem.status === 404 || ++failures > 5) throw problem;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Splits a text/event-stream body into events (the HTML standard's format) and calls each one's handler. */
async function dispatchEvents(body, handlers, signal) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  while (!signal.aborted) {
    const {value, done} = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") type = text;
        else if (field === "data") data.push(text);
      }
      if (data.length > 0 && handlers[type]) handlers[type](data.join("\n"));
    }
  }
}

async function cancelJob(id, button) {
  button.disabled = true;
  const response = await api(`v1/jobs/${encodeURIComponent(id)}`, {method: "DELETE"});
  // 409: it finished first, and its own terminal event says how.
  if (!response.ok && response.status !== 409) showProblem(await problemOf(response));
}

function endJob(card, message) {
  card.classList.add("ended");
  card.querySelector(".job-status").textContent = message;
  const dismiss = card.querySelector(".cancel");
  dismiss.textContent = "Dismiss";
  dismiss.disabled = false;
  dismiss.onclick = () => card.remove();
}

/**
 * A gallery card for one image. The PNG is copied into the page (a blob URL) because the server forgets
 * finished jobs after a while; its seed comes from X-Stipple-Seed, exact even beyond 2^53.
 */
async function imageCard(job, image, startImage) {
  const response = await api(image.url, {headers: {Accept: "image/png"}});
  if (!response.ok) throw await problemOf(response);
  const seed = response.headers.get("X-Stipple-Seed");
  const url = URL.createObjectURL(await response.blob());
  const {parameters} = job;

  const card = imageTemplate.content.firstElementChild.cloneNode(true);
  const img = card.querySelector("img");
  img.src = url;
  img.alt = parameters.prompt;
  img.width = image.width;
  img.height = image.height;
  img.classList.toggle("upscaled", image.width < 256);
  card.querySelector(".card-prompt").textContent = parameters.prompt;
  card.querySelector(".card-meta").textContent = [
    `seed ${seed}`, parameters.sampler, `${parameters.steps} steps`, `guidance ${parameters.guidance_scale}`,
    `${image.width}×${image.height}`, `${Math.round(job.timings_ms.total)} ms`, parameters.model,
  ].join(" · ");
  if (parameters.negative_prompt) card.querySelector(".card-prompt").title = `not: ${parameters.negative_prompt}`;
  const download = card.querySelector(".download");
  download.href = url;
  download.download = `stipple-${seed}.png`;
  card.querySelector(".reuse-seed").addEventListener("click", () => useSeed(seed));
  card.querySelector(".rerun").addEventListener("click", () => {
    const rerun = {...parameters, num_images: 1};
    fillForm(rerun, seed);
    submit({...rerun, ...startImage, seed});
  });
  return card;
}

/**
 * fetch with the stored API key. On 401 the page asks for a key, saying why (none yet, or the stored
 * one was refused), and retries with it.
 */
async function api(url, options = {}) {
  while (true) {
    const key = localStorage.getItem(KEY_STORAGE);
    const headers = {...options.headers};
    if (key) headers["X-API-Key"] = key;
    const response = await fetch(url, {...options, headers});
    if (response.status !== 401) return response;
    localStorage.removeItem(KEY_STORAGE);
    forgetKey.hidden = true;
    const {detail} = await problemOf(response);
    localStorage.setItem(KEY_STORAGE, await askForKey(key ? `The key was refused: ${detail}` : detail));
    forgetKey.hidden = false;
  }
}

/** One dialog at a time: calls that meet a 401 together wait for the same answer. */
let pendingKey = null;

function askForKey(reason) {
  if (!pendingKey) {
    pendingKey = new Promise((resolve) => {
      const keyForm = keyDialog.querySelector("form");
      keyDialog.querySelector(".key-reason").textContent = reason;
      keyForm.elements.api_key.value = "";
      keyDialog.addEventListener("close", function answered() {
        const key = keyForm.elements.api_key.value.trim();
        if (!key) {
          keyDialog.showModal();
          return;
        }
        keyDialog.removeEventListener("close", answered);
        pendingKey = null;
        resolve(key);
      });
      keyDialog.showModal();
    });
  }
  return pendingKey;
}

/** The RFC 9457 problem of a failed response, or a stand-in when the body is not one. */
async function problemOf(response) {
  let problem = {status: response.status, title: response.statusText || `HTTP ${response.status}`};
  try {
    problem = {...problem, ...(await response.json())};
  } catch {
    // Not JSON (a proxy's error page, say): the status line is all there is.
  }
  const retryAfter = response.headers.get("Retry-After");
  if (retryAfter) problem.retryAfter = Number(retryAfter);
  return problem;
}

function describe(problem) {
  if (problem instanceof Error) return problem.message;
  return problem.detail || problem.title || "unknown error";
}

function showProblem(problem) {
  clearProblem();
  const heading = document.createElement("strong");
  const lines = [];
  if (problem instanceof Error) {
    heading.textContent = "Could not reach the server";
    lines.push(problem.message);
  } else if (problem.status === 429) {
    heading.textContent = "The server is busy";
    const wait = problem.retryAfter ? ` Try again in ${problem.retryAfter} s.` : "";
    lines.push(`${problem.detail || "Its queue is full."}${wait}`);
  } else {
    heading.textContent = problem.title || `Error ${problem.status}`;
    const errors = problem.errors || (problem.detail ? [{field: problem.field, message: problem.detail}] : []);
    for (const {field, message} of errors) {
      lines.push(message);
      const input = field && form.elements[field];
      if (input) input.setAttribute("aria-invalid", "true");
    }
  }
  const list = document.createElement("ul");
  list.replaceChildren(...lines.map((line) => Object.assign(document.createElement("li"), {textContent: line})));
  errorBox.replaceChildren(heading, list);
  errorBox.hidden = false;
}

function clearProblem() {
  errorBox.hidden = true;
  errorBox.replaceChildren();
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}
