// Helpers injected into every JupyterLab page the browser tests open (page.add_init_script).
// They drive the app through `window.jupyterapp` (the server runs with expose_app_in_browser),
// which is steadier than clicking menus: wait for a notebook's kernel, run all cells, read back
// every cell's execution count and error outputs, and run code in the kernel to read its state.
window.gameonLab = (() => {
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function app() {
    while (!window.jupyterapp) await sleep(50);
    await window.jupyterapp.started;
    await window.jupyterapp.restored;
    return window.jupyterapp;
  }

  // The open notebook panel of `path`, made the current widget.
  async function notebook(path, timeoutMs = 60000) {
    const lab = await app();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      for (const widget of lab.shell.widgets("main")) {
        if (widget.context && widget.context.path === path && widget.content) {
          lab.shell.activateById(widget.id);
          await widget.context.ready;
          await widget.sessionContext.ready;
          return widget;
        }
      }
      await sleep(100);
    }
    throw new Error(`notebook ${path} did not open within ${timeoutMs} ms`);
  }

  // The kernel's status once it has reported one ("unknown" until its first message).
  async function kernelStatus(path, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    const panel = await notebook(path, timeoutMs);
    let status = "none";
    while (Date.now() < deadline) {
      status = panel.sessionContext.session?.kernel?.status ?? "none";
      if (status === "idle" || status === "busy") break;
      await sleep(50);
    }
    return status;
  }

  // Every code cell: its execution count and its error outputs, as plain data.
  function cells(panel) {
    return panel.content.widgets
      .filter((cell) => cell.model.type === "code")
      .map((cell) => {
        const outputs = cell.model.outputs.toJSON();
        return {
          count: cell.model.executionCount,
          errors: outputs
            .filter((o) => o.output_type === "error")
            .map((o) => `${o.ename}: ${o.evalue}\n${(o.traceback || []).join("\n")}`),
        };
      });
  }

  async function runAll(path) {
    const panel = await notebook(path);
    const lab = await app();
    await lab.commands.execute("notebook:run-all-cells");
    while (panel.sessionContext.session?.kernel?.status !== "idle") await sleep(50);
    return cells(panel);
  }

  // Run `code` in the notebook's kernel outside any cell; its printed and returned text.
  async function execute(path, code) {
    const panel = await notebook(path);
    const kernel = panel.sessionContext.session.kernel;
    const future = kernel.requestExecute({ code, store_history: false });
    let out = "";
    let error = null;
    future.onIOPub = (msg) => {
      const type = msg.header.msg_type;
      if (type === "stream") out += msg.content.text;
      else if (type === "execute_result") out += msg.content.data["text/plain"] ?? "";
      else if (type === "error") error = `${msg.content.ename}: ${msg.content.evalue}`;
    };
    await future.done;
    return { out, error };
  }

  async function waitIdle(path) {
    const panel = await notebook(path);
    while (panel.sessionContext.session?.kernel?.status !== "idle") await sleep(50);
  }

  return {
    app, notebook, kernelStatus, runAll, execute, waitIdle,
    cells: async (path) => cells(await notebook(path)),
  };
})();
