// JudgementCard front end (anywidget ESM): the frames the judge saw (click one to enlarge it),
// its verdict and reasoning, the ground truth, and a badge saying whether the two agree.

const BADGE = {
  agree: "✓ judge agrees with ground truth",
  disagree: "✗ judge disagrees with ground truth",
  unjudged: "no verdict",
  "no ground truth": "no ground truth",
};

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

function outcome(value) {
  if (value === null || value === undefined) return "—";
  return value ? "success" : "failure";
}

function outcomeClass(value) {
  if (value === null || value === undefined) return "gameon-neutral";
  return value ? "gameon-success" : "gameon-failure";
}

function render({ model, el }) {
  let urls = [];
  const root = h("div", { className: "gameon-judgement gameon-live" });
  el.append(root);

  function draw() {
    urls.forEach((url) => URL.revokeObjectURL(url));
    const type = model.get("mime");
    urls = model.get("frames").map((view) => URL.createObjectURL(new Blob([view], { type })));
    const agreement = model.get("agreement");
    root.dataset.agreement = agreement;
    const labels = model.get("labels");
    const thumb = model.get("thumb");
    const frames = urls.map((url, i) => {
      const image = h("img", { src: url, alt: labels[i] ?? "", title: "click to enlarge" });
      image.style.width = `${thumb}px`;
      image.addEventListener("click", () => {
        const big = image.classList.toggle("gameon-enlarged");
        image.style.width = big ? `${Math.max(thumb * 2.5, image.naturalWidth)}px` : `${thumb}px`;
      });
      return h("figure", { className: "gameon-frame" }, [
        image,
        h("figcaption", { text: labels[i] ?? "" }),
      ]);
    });
    const calls = model.get("calls");
    const meta = [
      model.get("backend") ? `backend ${model.get("backend")}` : "",
      calls !== null ? `${calls} call${calls === 1 ? "" : "s"}` : "",
      model.get("fallback"),
    ].filter(Boolean);
    const none = h("i", { text: "no frames" });
    const chip = (name, value) =>
      h("span", { className: `${name} ${outcomeClass(value)}`, text: outcome(value) });
    root.replaceChildren(
      h("div", { className: "gameon-judgement-head" }, [
        h("b", { className: "gameon-skill", text: model.get("skill") }),
        h("span", {
          className: `gameon-badge gameon-${agreement.replaceAll(" ", "-")}`,
          "data-agreement": agreement,
          text: BADGE[agreement] ?? agreement,
        }),
      ]),
      h("div", { className: "gameon-frames" }, frames.length ? frames : [none]),
      h("div", { className: "gameon-outcomes" }, [
        "judge: ",
        chip("gameon-verdict", model.get("verdict")),
        " · ground truth: ",
        chip("gameon-truth", model.get("ground_truth")),
      ]),
      ...(model.get("reasoning")
        ? [h("blockquote", { className: "gameon-reasoning", text: model.get("reasoning") })]
        : []),
      h("div", { className: "gameon-meta", text: meta.join(" · ") }),
    );
  }

  const events =
    "change:skill change:frames change:mime change:labels change:verdict change:ground_truth " +
    "change:reasoning change:backend change:fallback change:calls change:agreement change:thumb";
  model.on(events, draw);
  draw();
  return () => {
    model.off(events, draw);
    urls.forEach((url) => URL.revokeObjectURL(url));
  };
}

export default { render };
