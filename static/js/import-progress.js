// Directory import status page: poll the JSON status and move the progress bar; reload when finished.
// Without JavaScript the page refreshes itself (<noscript> meta refresh) instead.
(() => {
  const box = document.querySelector("[data-import-status-url]");
  if (!box) return;
  const bar = box.querySelector("progress");
  const label = box.querySelector("[data-import-progress-label]");

  const poll = async () => {
    try {
      const response = await fetch(box.dataset.importStatusUrl, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (response.ok) {
        const status = await response.json();
        bar.value = status.percent;
        bar.textContent = `${status.percent}%`;
        if (label) label.textContent = status.label;
        if (status.finished) {
          window.location.reload();
          return;
        }
      }
    } catch (error) {
      // A network hiccup: try again on the next tick.
    }
    window.setTimeout(poll, 1500);
  };
  window.setTimeout(poll, 1000);
})();
