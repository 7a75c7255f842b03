// LoopStepper front end (anywidget ESM): one button per stage of the experiment loop, the next
// stage highlighted, a progress bar with the elapsed time while a stage runs, and the traceback of
// a stage that failed. A click sends {type: "run", stage, request} (or {type: "round"}); every
// button stays disabled from the click until the kernel reports the request handled, so a double
// click never queues a second run. A done stage's time is in its tooltip (and in its section's
// header), so the row of buttons keeps its width. The stage outputs render below, in ipywidgets
// Output areas.

const MARK = { done: "✓", next: "▶", todo: "" };

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

function seconds(value) {
  return value < 10 ? `${value.toFixed(1)} s` : `${Math.round(value)} s`;
}

function render({ model, el }) {
  let request = model.get("handled");
  let startedAt = null;
  let timer = null;

  const status = h("span", { className: "gameon-stepper-status" });
  const roundButton = h("button", {
    className: "gameon-stepper-run-round", type: "button",
    title: "run every stage left in this round (setup first, if it has not run)",
    text: "run round",
  });
  const bar = h("div", { className: "gameon-stepper-bar" });
  const fill = h("div", { className: "gameon-stepper-progress-fill" });
  const progressText = h("span", { className: "gameon-stepper-progress-text" });
  const progress = h("div", { className: "gameon-stepper-progress" }, [fill, progressText]);
  const errorText = h("pre", { className: "gameon-stepper-error" });
  const dismiss = h("button", {
    className: "gameon-stepper-dismiss", type: "button", text: "dismiss",
  });
  const errorBox = h("div", { className: "gameon-stepper-error-box" }, [errorText, dismiss]);
  const root = h("div", { className: "gameon-stepper gameon-live" }, [
    h("div", { className: "gameon-stepper-head" }, [
      h("b", { text: "Loop stepper" }), status, roundButton,
    ]),
    bar,
    progress,
    errorBox,
  ]);
  el.append(root);

  const pending = () => request > model.get("handled");
  const busy = () => pending() || model.get("running") !== "";

  function send(message) {
    request += 1;
    model.send({ ...message, request });
    draw();
  }

  // One button per stage, made once and updated in place, so focus and hover survive redraws.
  const byStage = new Map();

  function button(stage) {
    const props = { className: "gameon-stepper-stage", type: "button", "data-stage": stage };
    const node = h("button", props, [
      h("span", { className: "gameon-stepper-mark" }),
      h("span", { className: "gameon-stepper-name", text: stage }),
    ]);
    node.addEventListener("click", () => {
      if (!busy() && !node.disabled) send({ type: "run", stage });
    });
    return node;
  }

  function drawButtons() {
    const timings = model.get("timings");
    const running = model.get("running");
    const finished = model.get("next_stage") === "done";
    const states = model.get("buttons");
    if (states.map((b) => b.stage).join() !== [...byStage.keys()].join()) {
      byStage.clear();
      for (const { stage } of states) byStage.set(stage, button(stage));
      bar.replaceChildren(...byStage.values());
    }
    for (const { stage, state } of states) {
      const node = byStage.get(stage);
      const took = stage in timings && state === "done" ? seconds(timings[stage]) : "";
      node.dataset.state = stage === running ? "running" : state;
      node.title =
        state === "done"
          ? `${stage}: done${took ? ` in ${took}` : ""}`
          : state === "next"
            ? `run ${stage}`
            : `run every stage up to ${stage}`;
      node.querySelector(".gameon-stepper-mark").textContent = MARK[state] ?? "";
      node.disabled = busy() || finished || state === "done";
    }
    roundButton.disabled = busy() || finished;
  }

  function drawStatus() {
    const next = model.get("next_stage");
    if (next === "done") {
      status.textContent = `finished: ${model.get("stopped") || "done"}`;
      return;
    }
    const shown = model.get("shown_round");
    const where = next === "setup" ? "next: setup" : `round ${model.get("round")} · next: ${next}`;
    const showing = shown === null ? "" : ` · showing ${shown === 0 ? "setup" : `round ${shown}`}`;
    status.textContent = where + showing;
  }

  function tick() {
    const running = model.get("running");
    if (!running || startedAt === null) return;
    const queue = model.get("queue");
    const more = queue.length ? ` · then ${queue.join(", ")}` : "";
    const took = seconds((Date.now() - startedAt) / 1000);
    progressText.textContent =
      `running ${running}… ${took}${more} · the kernel is busy: cells run now wait for it`;
  }

  function drawProgress() {
    const running = model.get("running");
    root.classList.toggle("gameon-running", running !== "" || pending());
    progress.hidden = !(running !== "" || pending());
    if (running !== "") {
      if (startedAt === null) startedAt = Date.now();
      if (timer === null) timer = setInterval(tick, 250);
      tick();
    } else {
      startedAt = null;
      if (timer !== null) clearInterval(timer);
      timer = null;
      progressText.textContent = pending() ? "waiting for the kernel…" : "";
    }
  }

  function drawError() {
    const error = model.get("error");
    errorText.textContent = error;
    errorBox.hidden = !error;
  }

  function draw() {
    drawButtons();
    drawStatus();
    drawProgress();
    drawError();
  }

  roundButton.addEventListener("click", () => {
    if (!busy()) send({ type: "round" });
  });
  dismiss.addEventListener("click", () => {
    model.set("error", "");
    model.save_changes();
  });

  const events =
    "change:buttons change:next_stage change:round change:shown_round change:running " +
    "change:queue change:error change:stopped change:timings change:handled";
  model.on(events, draw);
  draw();

  return () => {
    model.off(events, draw);
    if (timer !== null) clearInterval(timer);
  };
}

export default { render };
