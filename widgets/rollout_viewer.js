// RolloutViewer front end (anywidget ESM): plays an episode's frames, sent once as one encoded
// image per frame per camera, with play/pause, a step slider, speed, camera switch, the skill
// segment timeline (ground truth and judge's verdict) and each segment's reward per step.
// The kernel is told the frame index when the user scrubs or playback stops, not on every tick.

const SVG_NS = "http://www.w3.org/2000/svg";
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
];
const SPEEDS = [0.25, 0.5, 1, 2, 4];
const LANE_HEIGHT = 28;
const LANE_TOP = 14; // reward 1 sits this far below a lane's top, under its label

function h(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

function outcome(value) {
  if (value === null || value === undefined) return "—";
  return value ? "success" : "failure";
}

function mark(value) {
  if (value === null || value === undefined) return "—";
  return value ? "✓" : "✗";
}

// Blob URLs for every camera's frames; the caller revokes them.
function frameUrls(model) {
  const type = model.get("mime");
  const urls = {};
  for (const [camera, views] of Object.entries(model.get("frames"))) {
    urls[camera] = views.map((view) => URL.createObjectURL(new Blob([view], { type })));
  }
  return urls;
}

function revoke(urls) {
  for (const list of Object.values(urls)) list.forEach((url) => URL.revokeObjectURL(url));
}

// A state index as every gameon view names it (rollout.py's step_label).
function stepLabel(step, steps) {
  return `step ${step} / ${steps}`;
}

// Index of the last frame at or before `step` (frame steps ascend).
function frameAt(frameSteps, step) {
  let lo = 0;
  let hi = frameSteps.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (frameSteps[mid] <= step) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function render({ model, el }) {
  let urls = frameUrls(model);
  let index = model.get("index");
  let timer = null;

  const title = h("div", { className: "gameon-rollout-title" });
  const image = h("img", { className: "gameon-rollout-frame", alt: "frame" });
  const play = h("button", {
    className: "gameon-rollout-play", type: "button", title: "play / pause",
  });
  const slider = h("input", { className: "gameon-rollout-slider", type: "range", min: 0, step: 1 });
  const label = h("span", { className: "gameon-rollout-label" });
  const speed = h("select", { className: "gameon-rollout-speed", title: "playback speed" });
  for (const s of SPEEDS) speed.append(h("option", { value: s, text: `${s}×` }));
  const camera = h("select", { className: "gameon-rollout-camera", title: "camera" });
  const timeline = h("div", { className: "gameon-rollout-timeline" });
  const lanes = h("div", { className: "gameon-rollout-lanes" });
  const cursor = h("div", { className: "gameon-rollout-cursor" });
  const track = h("div", { className: "gameon-rollout-track" }, [timeline, lanes, cursor]);
  const detail = h("div", { className: "gameon-rollout-detail" });
  const legend = h("div", {
    className: "gameon-rollout-legend",
    text:
      "segments: green succeeded, red failed (ground truth) · judge ✓/✗, yellow where it " +
      "disagrees · lanes: each segment's skill reward per step, its own steps shaded",
  });
  const controls = h("div", { className: "gameon-rollout-controls" }, [play, label, speed, camera]);
  const root = h("div", { className: "gameon-rollout gameon-live" }, [
    title, image, slider, track, controls, detail, legend,
  ]);
  el.append(root);

  function frameSteps() {
    return model.get("frame_steps");
  }

  function currentSegment(step) {
    const segments = model.get("segments");
    const found = segments.findIndex((s) => s.start <= step && step < s.end);
    if (found >= 0) return found;
    return step >= model.get("steps") ? segments.length - 1 : -1;
  }

  function drawTitle() {
    const id = model.get("episode_id");
    title.textContent =
      `Episode ${id ?? ""} · round ${model.get("round")} · task: ${model.get("task")}`;
  }

  function drawCameras() {
    camera.replaceChildren(...model.get("cameras").map((c) => h("option", { value: c, text: c })));
    camera.value = model.get("camera");
    camera.hidden = model.get("cameras").length < 2;
  }

  function drawTrack() {
    const steps = Math.max(model.get("steps"), 1);
    const segments = model.get("segments");
    timeline.replaceChildren(
      ...segments.map((seg, i) => {
        const block = h("div", {
          className: `gameon-segment ${seg.success ? "gameon-success" : "gameon-failure"}`,
          "data-index": i,
          "data-success": String(seg.success),
          "data-verdict": seg.verdict === null ? "none" : String(seg.verdict),
          "data-agreement": seg.agreement,
          title:
            `${seg.skill}, steps ${seg.start}–${seg.end}: truth ${outcome(seg.success)}, ` +
            `judge ${outcome(seg.verdict)}${seg.reasoning ? ` (${seg.reasoning})` : ""}`,
        });
        block.style.left = `${(100 * seg.start) / steps}%`;
        block.style.width = `${(100 * (seg.end - seg.start)) / steps}%`;
        block.style.borderLeftColor = PALETTE[i % PALETTE.length];
        // the skill name gets the segment's whole width (wrapped over two lines), the verdict
        // a line of its own under it
        block.append(
          h("span", { className: "gameon-segment-skill", text: seg.skill }),
          h("span", {
            className: `gameon-verdict gameon-${seg.agreement.replaceAll(" ", "-")}`,
            text: `judge ${mark(seg.verdict)}`,
          }),
        );
        block.addEventListener("click", () => seekStep(seg.start));
        return block;
      }),
    );
    const plot = svg("svg", {
      class: "gameon-rollout-rewards",
      viewBox: `0 0 ${steps} ${segments.length * LANE_HEIGHT}`,
      preserveAspectRatio: "none",
      height: segments.length * LANE_HEIGHT,
    });
    const labels = [];
    segments.forEach((seg, i) => {
      const colour = PALETTE[i % PALETTE.length];
      const top = i * LANE_HEIGHT;
      plot.append(
        svg("rect", {
          x: seg.start, y: top + 1, width: seg.end - seg.start, height: LANE_HEIGHT - 2,
          fill: colour, "fill-opacity": 0.12,
        }),
      );
      const points = seg.rewards
        .map((r, t) => {
          const bottom = top + LANE_HEIGHT - 3;
          const y = bottom - (bottom - top - LANE_TOP) * Math.min(Math.max(r, 0), 1);
          return `${t},${y} ${t + 1},${y}`;
        })
        .join(" ");
      plot.append(
        svg("polyline", {
          points, fill: "none", stroke: colour, "stroke-width": 1.5,
          "vector-effect": "non-scaling-stroke",
        }),
      );
      const text = h("div", { className: "gameon-lane-label", text: `reward: ${seg.skill}` });
      text.style.top = `${top}px`;
      labels.push(text);
    });
    lanes.replaceChildren(plot, ...labels);
    lanes.style.height = `${segments.length * LANE_HEIGHT}px`;
  }

  function show(i) {
    const steps = frameSteps();
    index = Math.min(Math.max(i, 0), steps.length - 1);
    const step = steps[index];
    const list = urls[model.get("camera")] ?? [];
    image.src = list[index] ?? "";
    image.dataset.step = String(step);
    image.dataset.index = String(index);
    image.style.width = `${model.get("width")}px`;
    slider.max = String(model.get("steps"));
    slider.value = String(step);
    label.textContent =
      `${stepLabel(step, model.get("steps"))} · frame ${index + 1} / ${steps.length}`;
    cursor.style.left = `${(100 * step) / Math.max(model.get("steps"), 1)}%`;
    const s = currentSegment(step);
    const segments = model.get("segments");
    timeline.querySelectorAll(".gameon-segment").forEach((node, k) => {
      node.classList.toggle("gameon-current", k === s);
    });
    if (s < 0) {
      detail.textContent = "";
      return;
    }
    const seg = segments[s];
    const judge = seg.verdict === null ? "not judged" : `judge ${outcome(seg.verdict)}`;
    const by = seg.backend ? ` (${seg.backend}${seg.fallback ? `; ${seg.fallback}` : ""})` : "";
    detail.replaceChildren(
      h("b", { text: `${s + 1}/${segments.length} ${seg.skill}` }),
      ` · steps ${seg.start}–${seg.end} · truth ${outcome(seg.success)} · ${judge}${by}`,
      ...(seg.reasoning ? [h("div", { className: "gameon-reasoning", text: seg.reasoning })] : []),
    );
  }

  function sync() {
    if (model.get("index") !== index) {
      model.set("index", index);
      model.save_changes();
    }
  }

  function setIndex(i) {
    show(i);
    if (!model.get("playing")) sync();
  }

  function seekStep(step) {
    setIndex(frameAt(frameSteps(), step));
  }

  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function tick() {
    const last = frameSteps().length - 1;
    if (index >= last) {
      model.set("playing", false);
      model.save_changes();
      return;
    }
    show(index + 1);
    timer = setTimeout(tick, 1000 / (model.get("fps") * model.get("speed")));
  }

  function onPlaying() {
    const playing = model.get("playing");
    play.textContent = playing ? "❚❚" : "▶";
    root.classList.toggle("gameon-playing", playing);
    stop();
    if (playing) {
      if (index >= frameSteps().length - 1) show(0);
      timer = setTimeout(tick, 1000 / (model.get("fps") * model.get("speed")));
    } else {
      sync();
    }
  }

  play.addEventListener("click", () => {
    model.set("playing", !model.get("playing"));
    model.save_changes();
  });
  slider.addEventListener("input", () => seekStep(Number(slider.value)));
  slider.addEventListener("keydown", (event) => {
    const moves = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1 };
    if (event.key in moves) setIndex(index + moves[event.key]);
    else if (event.key === "Home") setIndex(0);
    else if (event.key === "End") setIndex(frameSteps().length - 1);
    else return;
    event.preventDefault();
  });
  speed.addEventListener("change", () => {
    model.set("speed", Number(speed.value));
    model.save_changes();
  });
  camera.addEventListener("change", () => {
    model.set("camera", camera.value);
    model.save_changes();
  });
  image.addEventListener("load", () => {
    // nearest-neighbour only for small frames blown up (3x and more); smooth for a 2x view
    image.classList.toggle("gameon-pixelated", image.naturalWidth * 3 <= model.get("width"));
  });

  const handlers = {
    "change:index": () => show(model.get("index")),
    "change:playing": onPlaying,
    "change:camera": () => {
      camera.value = model.get("camera");
      show(index);
    },
    "change:cameras": drawCameras,
    "change:speed": () => {
      speed.value = String(model.get("speed"));
    },
    "change:segments change:steps": () => {
      drawTrack();
      show(index);
    },
    "change:frames change:mime change:frame_steps": () => {
      revoke(urls);
      urls = frameUrls(model);
      show(index);
    },
    "change:episode_id change:round change:task": drawTitle,
    "change:width": () => show(index),
  };
  for (const [event, handler] of Object.entries(handlers)) model.on(event, handler);

  drawTitle();
  drawCameras();
  drawTrack();
  speed.value = String(model.get("speed"));
  show(index);
  onPlaying();

  return () => {
    stop();
    for (const [event, handler] of Object.entries(handlers)) model.off(event, handler);
    revoke(urls);
  };
}

export default { render };
