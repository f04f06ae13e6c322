// The send panel's live progress: polls the JSON status view while an email is going out.
(() => {
  const panel = document.querySelector("[data-send-status-url]");
  if (!panel) return;
  const url = panel.dataset.sendStatusUrl;
  const live = new Set(["scheduled", "running", "paused"]);
  const rendered = panel.dataset.sendState;

  function draw(status) {
    panel.querySelectorAll("[data-send-bar]").forEach((bar) => {
      const key = bar.dataset.sendBar === "sent" ? "percent_sent" : "percent_failed";
      const value = status ? status[key] : parseFloat(bar.dataset.value || "0");
      // CSSOM, not a style attribute: allowed under the strict CSP.
      bar.parentElement.style.width = `${value}%`;
      bar.style.width = "100%";
    });
    if (!status) return;
    panel.querySelectorAll("[data-send-field]").forEach((el) => {
      const value = status[el.dataset.sendField];
      if (value !== undefined) el.textContent = value;
    });
    panel.dataset.sendState = status.state;
    // A new state (done, paused elsewhere, cancelled) brings other actions: show the page as it is now.
    if (status.state !== rendered) window.location.reload();
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) draw(await response.json());
    } catch (error) {
      // A dropped request is retried on the next tick.
    }
    if (live.has(panel.dataset.sendState)) window.setTimeout(poll, 3000);
  }

  draw(null);
  if (live.has(panel.dataset.sendState)) window.setTimeout(poll, 3000);
})();
